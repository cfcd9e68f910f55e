"""OKX v5 public: feed rules (:mod:`.feed`), client protocol (:mod:`.protocol`), local-venue
dialect (:mod:`.dialect`), instruments (:mod:`.instruments`) and fees (:mod:`.fees`)."""

from __future__ import annotations

from ..registry import Venue
from . import fees, instruments
from .dialect import OkxDialect
from .feed import (
    BOOK_CHANNELS,
    CHECKSUM_DEPTH,
    KEEPALIVE_INTERVAL_S,
    KEEPALIVE_MESSAGE,
    PUBLIC_URL,
    OkxFeed,
    okx_checksum,
    subscribe_message,
    unsubscribe_message,
)
from .protocol import OkxProtocol

__all__ = [
    "BOOK_CHANNELS",
    "CHECKSUM_DEPTH",
    "KEEPALIVE_INTERVAL_S",
    "KEEPALIVE_MESSAGE",
    "PUBLIC_URL",
    "VENUE",
    "OkxDialect",
    "OkxFeed",
    "OkxProtocol",
    "okx_checksum",
    "subscribe_message",
    "unsubscribe_message",
]

VENUE = Venue(
    name="okx", title="OKX v5 public", feed=OkxFeed, protocol=OkxProtocol, dialect=OkxDialect,
    instruments=instruments.instruments, fee_schedules=fees.schedules,
    symbols=("BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP", "BTC-USDT", "ETH-USDT"),
    tardis_exchanges=("okex", "okex-swap", "okex-futures", "okex-options", "okx", "okx-swap",
                      "okx-futures"),
    cryptofeed_ids=("OKX", "OKEX"), hosts=("okx.com", "okex.com"))
