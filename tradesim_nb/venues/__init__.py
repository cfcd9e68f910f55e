"""Venue parsers: one module a venue, pure (no I/O). ``get_feed(name)`` builds a feed."""

from __future__ import annotations

import importlib
from typing import Any

from ..feed import VenueFeed

__all__ = ["VENUES", "get_feed"]

#: venue key -> "module:FeedClass"
VENUES: dict[str, str] = {
    "okx": "okx:OkxFeed",
    "goquant": "goquant:GoQuantFeed",
    "binance": "binance:BinanceSpotFeed",
    "binance-futures": "binance:BinanceFuturesFeed",
    "bybit": "bybit:BybitFeed",
    "kraken": "kraken.feed:KrakenFeed",
}


def get_feed(venue: str, **kwargs: Any) -> VenueFeed:
    """A fresh feed for ``venue`` (one of :data:`VENUES`)."""
    try:
        target = VENUES[venue]
    except KeyError:
        raise ValueError(f"venue={venue!r} is not one of {', '.join(VENUES)}") from None
    mod, cls = target.split(":")
    m = importlib.import_module(f"{__name__}.{mod}")
    feed: VenueFeed = getattr(m, cls)(**kwargs)
    return feed
