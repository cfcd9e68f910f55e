"""Binance spot and USD-M futures: feed rules (:mod:`.feed`), client protocol
(:mod:`.protocol`), local-venue dialect (:mod:`.dialect`, both products), instruments and fees.

Two venue names live here: ``binance`` (:data:`SPOT`) and ``binance-futures``
(:data:`FUTURES`).
"""

from __future__ import annotations

from ..registry import Venue
from . import fees, instruments
from .dialect import BinanceDialect
from .feed import (
    FUTURES_DEPTH_LIMITS,
    FUTURES_REST_URL,
    FUTURES_WS_URL,
    SPOT_DEPTH_LIMIT_MAX,
    SPOT_REST_URL,
    SPOT_WS_URL,
    BinanceFuturesFeed,
    BinanceSpotFeed,
    rest_depth_frame,
    snapshot_payload,
)
from .protocol import BinanceFuturesProtocol, BinanceSpotProtocol

__all__ = [
    "FUTURES",
    "FUTURES_DEPTH_LIMITS",
    "FUTURES_REST_URL",
    "FUTURES_WS_URL",
    "SPOT",
    "SPOT_DEPTH_LIMIT_MAX",
    "SPOT_REST_URL",
    "SPOT_WS_URL",
    "BinanceDialect",
    "BinanceFuturesFeed",
    "BinanceFuturesProtocol",
    "BinanceSpotFeed",
    "BinanceSpotProtocol",
    "rest_depth_frame",
    "snapshot_payload",
]

SPOT = Venue(
    name="binance", title="Binance spot", feed=BinanceSpotFeed, protocol=BinanceSpotProtocol,
    dialect=BinanceDialect, instruments=instruments.spot, fee_schedules=fees.schedules,
    symbols=("BTCUSDT", "ETHUSDT"), aliases=("binance-spot",), tardis_exchanges=("binance",),
    cryptofeed_ids=("BINANCE",), hosts=("binance.com",),
    excluded_hosts=("dstream.binance.com", "dapi.binance.com"),  # coin-margined: not read here
    rest_frame=rest_depth_frame)
FUTURES = Venue(
    name="binance-futures", title="Binance USD-M futures", feed=BinanceFuturesFeed,
    protocol=BinanceFuturesProtocol, dialect=BinanceDialect, instruments=instruments.futures,
    fee_schedules=fees.schedules, symbols=("BTCUSDT", "ETHUSDT"),
    aliases=("binance_futures",), tardis_exchanges=("binance-futures",),
    cryptofeed_ids=("BINANCE_FUTURES",), hosts=("fstream.binance.com", "fapi.binance.com"),
    rest_frame=rest_depth_frame)
