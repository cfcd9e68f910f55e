"""Cost models: Almgren-Chriss, impact laws, fees, slippage, maker/taker."""
