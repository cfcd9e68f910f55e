"""Kraken (WebSocket API v1, public ``book`` channel): feed rules, instruments, fees.

* :mod:`.feed`: :class:`KrakenFeed` (parser, depth truncation, CRC32 checksum) and the
  subscribe/unsubscribe/resync messages;
* :mod:`.instruments`: pairs and instruments from the REST AssetPairs answer;
* :mod:`.fees`: the spot fee schedule of a pair from the same answer.

Nothing here does I/O except reading a recorded AssetPairs answer from a file.
"""

from __future__ import annotations

from .feed import (
    BOOK_DEPTHS,
    CHECKSUM_DEPTH,
    PUBLIC_URL,
    KrakenBook,
    KrakenFeed,
    checksum_string,
    kraken_checksum,
    resync_messages,
    subscribe_message,
    unsubscribe_message,
)
from .fees import fee_schedule, fee_tiers, tier_for_volume
from .instruments import (
    ASSETPAIRS_URL,
    AssetPairsAnswer,
    KrakenPair,
    instruments_from_assetpairs,
    packaged_assetpairs,
    packaged_pairs,
    pairs_from_assetpairs,
    read_assetpairs,
    register_pairs,
)

__all__ = [
    "ASSETPAIRS_URL",
    "BOOK_DEPTHS",
    "CHECKSUM_DEPTH",
    "PUBLIC_URL",
    "AssetPairsAnswer",
    "KrakenBook",
    "KrakenFeed",
    "KrakenPair",
    "checksum_string",
    "fee_schedule",
    "fee_tiers",
    "instruments_from_assetpairs",
    "kraken_checksum",
    "packaged_assetpairs",
    "packaged_pairs",
    "pairs_from_assetpairs",
    "read_assetpairs",
    "register_pairs",
    "resync_messages",
    "subscribe_message",
    "tier_for_volume",
    "unsubscribe_message",
]
