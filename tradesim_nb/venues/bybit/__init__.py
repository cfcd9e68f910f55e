"""Bybit v5 public: feed rules (:mod:`.feed`), client protocol (:mod:`.protocol`), local-venue
dialect (:mod:`.dialect`), instruments (:mod:`.instruments`) and fees (:mod:`.fees`)."""

from __future__ import annotations

from ..registry import Venue
from . import fees, instruments
from .dialect import BybitDialect
from .feed import (
    ORDERBOOK_DEPTHS,
    PING_INTERVAL_S,
    PING_MESSAGE,
    PUBLIC_URLS,
    SPOT_MAX_ARGS,
    TESTNET_PUBLIC_URLS,
    BybitFeed,
    Category,
    orderbook_topic,
    ping_message,
    subscribe_message,
    trade_topic,
    unsubscribe_message,
)
from .protocol import BybitProtocol

__all__ = [
    "ORDERBOOK_DEPTHS",
    "PING_INTERVAL_S",
    "PING_MESSAGE",
    "PUBLIC_URLS",
    "SPOT_MAX_ARGS",
    "TESTNET_PUBLIC_URLS",
    "VENUE",
    "BybitDialect",
    "BybitFeed",
    "BybitProtocol",
    "Category",
    "orderbook_topic",
    "ping_message",
    "subscribe_message",
    "trade_topic",
    "unsubscribe_message",
]

VENUE = Venue(
    name="bybit", title="Bybit v5 public (linear)", feed=BybitFeed, protocol=BybitProtocol,
    dialect=BybitDialect, instruments=instruments.instruments, fee_schedules=fees.schedules,
    symbols=("BTCUSDT", "ETHUSDT"), tardis_exchanges=("bybit", "bybit-spot"),
    cryptofeed_ids=("BYBIT",), hosts=("bybit.com",))
