"""The real recordings shipped with the package, as ``arch.data`` or ``statsmodels.datasets`` ship theirs.

Every dataset is a folder under ``tradesim_nb/data/`` holding the recorded files unchanged and
the license or notice of their source (see :func:`describe`). The functions below return
paths to those files, so anything that reads a path (``read_frames``, ``replay``,
``tradesim replay``, the local venue) reads them::

    from tradesim_nb import datasets, replay
    replay(datasets.okx_books_file(), "okx")

``$TRADESIM_DATA`` may point at a folder of your own with the same layout
(``<dataset>/<file>``): a file found there is used instead of the packaged one, so a longer
recording of the same kind can replace a shipped one without touching the code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = [
    "DATASETS",
    "Dataset",
    "binance_spot_files",
    "data_dir",
    "describe",
    "goquant_samples",
    "kraken_assetpairs_file",
    "kraken_book_file",
    "okx_books_file",
    "packaged_dir",
]


@dataclass(frozen=True)
class Dataset:
    """One shipped recording: its folder, files, venue, what it holds and its license."""

    name: str
    venue: str
    files: tuple[str, ...]
    description: str
    license: str
    license_file: str

    def paths(self) -> list[Path]:
        """The files, each from ``$TRADESIM_DATA/<name>/`` when there, else the packaged copy."""
        return [_find(self.name, f) for f in self.files]


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "binance-btcusdt-spot-20240808", "binance",
            ("spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz"),
            "Binance spot BTCUSDT, 2024-08-08 23:54:13 to 2024-08-09 00:05:04 UTC: depth@100ms "
            "diffs, one REST depth snapshot, trades, bookTicker (two files that continue each "
            "other). The default cost models train on it.",
            "MIT (hftbacktest example data)", "LICENSE"),
        Dataset(
            "okx-v5-public-20220513", "okx", ("okx_ws_v5_public.log",),
            "OKX v5 public, 2022-05-13 16:27:05 to 16:27:16 UTC: books (checksummed), trades, "
            "tickers of BTC-USDT, BTC-USD-220527, UNI-USD-SWAP.",
            "MIT-like with attribution (cryptofeed sample data)", "LICENSE"),
        Dataset(
            "kraken-ws-v1-20210417", "kraken",
            ("kraken_ws_v1_book.log", "kraken_rest_assetpairs.log"),
            "Kraken WebSocket v1 book channel at depth 1000, ten pairs, 2021-04-17 16:48:52 to "
            "16:49:23 UTC (4,269 checksummed updates), and the REST AssetPairs answer.",
            "MIT-like with attribution (cryptofeed sample data)", "LICENSE"),
        Dataset(
            "goquant-relay-samples", "goquant",
            tuple(f"{s}_response_{i}.json" for s, n in (("btc", 4), ("eth", 2))
                  for i in range(1, n + 1)),
            "Six full top-50 snapshots of the GoQuant-style L2 relay (OKX BTC-USDT-SWAP, "
            "ETH-USDT-SWAP), 2025-05-18/19; btc_response_1..3 are crossed.",
            "no license stated by the source; raw market data used as format fixtures",
            "NOTICE"),
    )
}


def packaged_dir() -> Path:
    """The folder inside the installed package that holds the shipped recordings."""
    return Path(str(resources.files("tradesim_nb") / "data"))


def _user_dir() -> Path | None:
    env = os.environ.get("TRADESIM_DATA")
    return Path(env) if env else None


def data_dir() -> Path:
    """``$TRADESIM_DATA`` when it is set, else the packaged data folder.

    Raises FileNotFoundError naming the folder when ``$TRADESIM_DATA`` points nowhere.
    """
    user = _user_dir()
    if user is not None:
        if not user.is_dir():
            raise FileNotFoundError(f"TRADESIM_DATA={user} is not a folder")
        return user
    return packaged_dir()


def _find(dataset: str, name: str) -> Path:
    user = _user_dir()
    tried = []
    if user is not None:
        p = user / dataset / name
        if p.is_file():
            return p
        tried.append(str(p))
    p = packaged_dir() / dataset / name
    if p.is_file():
        return p
    tried.append(str(p))
    raise FileNotFoundError(f"dataset file {dataset}/{name} not found; looked in: "
                            + ", ".join(tried))


def describe() -> str:
    """One paragraph per shipped dataset: folder, venue, files, content and license."""
    out = []
    for d in DATASETS.values():
        out.append(f"{d.name} ({d.venue}): {', '.join(d.files)}\n  {d.description}\n"
                   f"  license: {d.license} (see {d.name}/{d.license_file})")
    return "\n".join(out)


def okx_books_file() -> Path:
    """OKX v5 public: books/trades/tickers of BTC-USDT, BTC-USD-220527, UNI-USD-SWAP."""
    return DATASETS["okx-v5-public-20220513"].paths()[0]


def binance_spot_files() -> list[Path]:
    """Binance spot BTCUSDT depth/trade/bookTicker, two files that continue each other."""
    return DATASETS["binance-btcusdt-spot-20240808"].paths()


def goquant_samples() -> list[Path]:
    """The six captured GoQuant relay messages (btc_response_1..4, eth_response_1..2)."""
    return DATASETS["goquant-relay-samples"].paths()


def kraken_book_file() -> Path:
    """Kraken WebSocket v1 ``book`` channel (depth 1000) of ten pairs, with checksums."""
    return DATASETS["kraken-ws-v1-20210417"].paths()[0]


def kraken_assetpairs_file() -> Path:
    """Kraken's REST ``AssetPairs`` answer recorded with the book (pair names, decimals, fees)."""
    return DATASETS["kraken-ws-v1-20210417"].paths()[1]
