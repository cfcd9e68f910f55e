"""The GoQuant-style L2 relay of OKX books: feed rules (:mod:`.feed`), client protocol
(:mod:`.protocol`), local-venue dialect (:mod:`.dialect`), instruments and fees (OKX's)."""

from __future__ import annotations

from ..registry import Venue
from . import fees, instruments
from .dialect import GoQuantDialect
from .feed import BASE_URL, GoQuantFeed, url
from .protocol import GoQuantProtocol

__all__ = ["BASE_URL", "VENUE", "GoQuantDialect", "GoQuantFeed", "GoQuantProtocol", "url"]

VENUE = Venue(
    name="goquant", title="GoQuant L2 relay (OKX books)", feed=GoQuantFeed,
    protocol=GoQuantProtocol, dialect=GoQuantDialect, instruments=instruments.instruments,
    fee_schedules=fees.schedules, symbols=("BTC-USDT-SWAP", "ETH-USDT-SWAP"))
