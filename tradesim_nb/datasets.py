"""Where the real recordings live: ``$TRADESIM_DATA``, else ``../shared/data`` beside the repo.

The recordings are not part of the package; tests, benchmarks and notebooks find them here
and say clearly where they looked when one is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "binance_spot_files",
    "data_dir",
    "goquant_samples",
    "okx_books_file",
]


def _candidates() -> list[Path]:
    out: list[Path] = []
    env = os.environ.get("TRADESIM_DATA")
    if env:
        out.append(Path(env))
    repo = Path(__file__).resolve().parent.parent
    out.append(repo.parent / "shared" / "data")
    cwd = Path.cwd()
    for p in (cwd, *cwd.parents):
        out.append(p / "shared" / "data")
        out.append(p.parent / "shared" / "data")
    return out


def data_dir() -> Path:
    """The folder with the real recordings, or a FileNotFoundError listing where it looked."""
    tried = []
    for c in _candidates():
        if c.is_dir() and (c / "README.md").exists():
            return c
        tried.append(str(c))
    raise FileNotFoundError(
        "recordings not found; set TRADESIM_DATA to the shared data folder. Looked in: "
        + ", ".join(dict.fromkeys(tried))
    )


def _need(p: Path) -> Path:
    if not p.exists():
        raise FileNotFoundError(f"recording {p} is missing (data folder: {p.parent.parent})")
    return p


def okx_books_file() -> Path:
    """OKX v5 public: books/trades/tickers of BTC-USDT, BTC-USD-220527, UNI-USD-SWAP."""
    return _need(data_dir() / "okx-v5-public-20220513" / "okx_ws_v5_public.log")


def binance_spot_files() -> list[Path]:
    """Binance spot BTCUSDT depth/trade/bookTicker, two files that continue each other."""
    d = data_dir() / "binance-btcusdt-spot-20240808"
    return [_need(d / "spot_btcusdt_20240808.gz"), _need(d / "spot_btcusdt_20240809.gz")]


def goquant_samples() -> list[Path]:
    """The six captured GoQuant relay messages (btc_response_1..4, eth_response_1..2)."""
    d = data_dir() / "goquant-relay-samples"
    files = sorted(d.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no GoQuant samples in {d}")
    return files
