"""Kraken (WebSocket API v1, public ``book`` channel): feed rules, client protocol, local-venue
dialect, instruments, fees.

* :mod:`.feed`: :class:`KrakenFeed` (parser, depth truncation, CRC32 checksum) and the
  subscribe/unsubscribe/resync messages;
* :mod:`.protocol`: :class:`KrakenProtocol`, how the live client subscribes, keeps alive
  and resyncs (unsubscribe + subscribe);
* :mod:`.dialect`: :class:`KrakenDialect`, how the local venue speaks it;
* :mod:`.instruments`: pairs and instruments from the REST AssetPairs answer;
* :mod:`.fees`: the spot fee schedule of a pair from the same answer.

Nothing here does I/O except reading a recorded AssetPairs answer from a file.
"""

from __future__ import annotations

from ...costs.fees import FeeSchedule
from ...instruments import Instrument
from ..registry import Venue
from .dialect import KrakenDialect
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
from .protocol import KrakenProtocol

__all__ = [
    "ASSETPAIRS_URL",
    "BOOK_DEPTHS",
    "CHECKSUM_DEPTH",
    "PUBLIC_URL",
    "VENUE",
    "AssetPairsAnswer",
    "KrakenBook",
    "KrakenDialect",
    "KrakenFeed",
    "KrakenPair",
    "KrakenProtocol",
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


def _instruments() -> list[Instrument]:
    return [p.instrument for p in packaged_pairs().values()]


def _fee_schedules() -> tuple[FeeSchedule, ...]:
    return (fee_schedule("XBT/USD"),)


def _fee_schedule_for(instrument: Instrument) -> FeeSchedule:
    return fee_schedule(instrument.symbol)  # Kraken publishes fee tiers per pair


VENUE = Venue(
    name="kraken", title="Kraken WebSocket v1 public (book)", feed=KrakenFeed,
    protocol=KrakenProtocol, dialect=KrakenDialect, instruments=_instruments,
    fee_schedules=_fee_schedules, fee_schedule_for=_fee_schedule_for,
    symbols=("XBT/USD", "ETH/USD", "XBT/EUR", "ETH/EUR"), tardis_exchanges=("kraken",),
    cryptofeed_ids=("KRAKEN",), hosts=("kraken.com",))
