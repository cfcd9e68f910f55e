"""The venues, one package each (``okx/``, ``goquant/``, ``binance/``, ``bybit/``, ...), behind
one registry (:mod:`.registry`): ``get_feed(name)`` builds a venue's feed.

Each package holds the venue's feed rules (a pure parser with its sequencing and checksum
rules), its client protocol, its dialect for the local venue, its instruments and its fee
schedules; :data:`VENUES` maps each name to its :class:`~.registry.Venue` descriptor.
"""

from __future__ import annotations

from typing import Any

from ..feed import VenueFeed
from .registry import (
    DEFAULT_VENUE,
    VENUES,
    Venue,
    find_venue,
    get_venue,
    register_venue,
    sniff_venue,
    venue_for_cryptofeed,
    venue_for_tardis,
    venue_names,
    venue_of_url,
)

__all__ = ["DEFAULT_VENUE", "VENUES", "Venue", "find_venue", "get_feed", "get_venue",
           "register_venue", "sniff_venue", "venue_for_cryptofeed", "venue_for_tardis",
           "venue_names", "venue_of_url"]


def get_feed(venue: str, **kwargs: Any) -> VenueFeed:
    """A fresh feed for ``venue`` (one of :data:`VENUES`)."""
    return get_venue(venue).new_feed(**kwargs)
