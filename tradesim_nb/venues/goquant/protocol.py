"""The live client's side of the GoQuant relay: one socket an instrument, nothing to send.

The URL names the instrument (``.../ws/l2-orderbook/okx/<SYMBOL>``); every message is a full
snapshot, so a resync needs no message (the next one resyncs); keepalive is a websocket ping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ..protocol import ClientProtocol
from .feed import url

__all__ = ["GoQuantProtocol"]


class GoQuantProtocol(ClientProtocol):
    """The relay: ``per_symbol_socket``; nothing to subscribe; resync = the next message."""

    venue: ClassVar[str] = "goquant"
    per_symbol_socket: ClassVar[bool] = True

    def live_url(self, symbols: Sequence[str]) -> str:
        return url(symbols[0])

    def resync(self, symbol: str) -> list[str] | None:
        return []  # every message is a snapshot: the next one resyncs
