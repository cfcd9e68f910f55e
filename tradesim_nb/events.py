"""The package's own event types: what every venue parser emits.

Every event is a frozen, slotted dataclass carrying two timestamps in integer nanoseconds:
``exch_ts_ns`` (the venue's own time stamp, 0 when the venue gives none) and ``recv_ts_ns``
(the local receive time of the raw frame).

Price levels are kept as the venue's exact decimal strings (``Level = (price_str, size_str)``)
so that a venue checksum computed over those strings can be reproduced; the book converts them
to integer ticks and float64 sizes for the maths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BBO",
    "BookDelta",
    "BookSnapshot",
    "Event",
    "FeedStatus",
    "Level",
    "StatusKind",
    "Ticker",
    "Trade",
]

#: One price level as the venue sent it: ``(price_str, size_str)``; extra items are ignored.
Level = Sequence[str]

Side = Literal["buy", "sell"]

#: What a :class:`FeedStatus` reports.
#:
#: ``ack``            a subscription was acknowledged
#: ``error``          the venue sent an error event
#: ``heartbeat``      a sequence heartbeat (e.g. OKX seqId == prevSeqId), book unchanged
#: ``gap``            a sequence gap: the book is stale until a resync
#: ``checksum_ok``    the venue checksum matched the book after an update
#: ``checksum_failed`` the venue checksum did not match: the book is stale until a resync
#: ``resync``         a fresh snapshot made the book valid again
#: ``crossed``        best bid >= best ask after an update
#: ``uncrossed``      the book is no longer crossed
#: ``malformed``      a frame could not be parsed (``detail`` says why); the stream goes on
#: ``buffering``      (Binance) diffs buffered while waiting for the REST snapshot
#: ``stale``          a diff was dropped because it is older than the book (e.g. u <= lastUpdateId)
#: ``sequence_reset`` the venue restarted its sequence (OKX seqId < prevSeqId after maintenance)
#: ``top_match`` / ``top_mismatch``  cross-check of the book's top against the venue's BBO stream
#: ``time_backwards`` an event older than the newest the book has seen (not applied)
#: ``behind``         the book's venue time fell behind the staleness bound: not valid
#: ``caught_up``      the book is within the staleness bound again
#: ``refused``        the book refused an event (bad numbers, over the level cap); counted
StatusKind = Literal[
    "ack",
    "error",
    "heartbeat",
    "gap",
    "checksum_ok",
    "checksum_failed",
    "resync",
    "crossed",
    "uncrossed",
    "malformed",
    "buffering",
    "stale",
    "sequence_reset",
    "top_match",
    "top_mismatch",
    "time_backwards",
    "behind",
    "caught_up",
    "refused",
    "info",
]


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """A full replacement of one instrument's book.

    Attributes
    ----------
    venue, symbol : str
        Venue key (``"okx"``, ``"binance"``, ...) and the venue's instrument id.
    bids, asks : sequence of Level
        Levels as the venue sent them, ``(price_str, size_str, ...)``; best first.
    exch_ts_ns, recv_ts_ns : int
        Venue time stamp and local receive time, ns since the epoch.
    seq, prev_seq : int or None
        The venue's sequence numbers (OKX ``seqId``/``prevSeqId``, Binance ``lastUpdateId``,
        Bybit ``u``); ``None`` where the venue has none.
    checksum : int or None
        The venue's checksum of the book after this event, ``None`` or 0 when not given.
    channel : str
        The venue's book channel (``"books"``, ``"books5"``, ``"orderbook.500"``), "" when the
        venue has one. Two channels of one symbol are two books
        (:meth:`tradesim_nb.feed.VenueFeed.book_key`).
    """

    venue: str
    symbol: str
    bids: Sequence[Level]
    asks: Sequence[Level]
    exch_ts_ns: int
    recv_ts_ns: int
    seq: int | None = None
    prev_seq: int | None = None
    checksum: int | None = None
    channel: str = ""


@dataclass(frozen=True, slots=True)
class BookDelta:
    """Changed levels of one instrument's book; a size of zero removes the level.

    ``first_seq`` is the first update id the delta covers (Binance ``U``), ``seq`` the last
    (Binance ``u``, OKX ``seqId``, Bybit ``u``) and ``prev_seq`` the id the previous delta must
    have ended on (OKX ``prevSeqId``, Binance futures ``pu``). ``channel`` is the venue's book
    channel, as for :class:`BookSnapshot`.
    """

    venue: str
    symbol: str
    bids: Sequence[Level]
    asks: Sequence[Level]
    exch_ts_ns: int
    recv_ts_ns: int
    seq: int | None = None
    prev_seq: int | None = None
    first_seq: int | None = None
    checksum: int | None = None
    channel: str = ""


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade. ``side`` is the aggressor's (taker's) side.

    ``qty`` is in the venue's size unit for the instrument (contracts for OKX derivatives,
    base currency for spot); :class:`tradesim_nb.Instrument` converts.
    """

    venue: str
    symbol: str
    price: float
    qty: float
    side: Side
    trade_id: str
    exch_ts_ns: int
    recv_ts_ns: int


@dataclass(frozen=True, slots=True)
class BBO:
    """The venue's own best bid/offer stream (Binance ``bookTicker``, OKX ``bbo-tbt``)."""

    venue: str
    symbol: str
    bid_px: float
    bid_sz: float
    ask_px: float
    ask_sz: float
    exch_ts_ns: int
    recv_ts_ns: int
    update_id: int | None = None


@dataclass(frozen=True, slots=True)
class Ticker:
    """The venue's 24-hour statistics of one instrument: what a daily-volume impact rule needs.

    Parsed from OKX ``tickers``, Binance ``<symbol>@ticker`` (``24hrTicker``), Bybit
    ``tickers.<symbol>`` and Kraken ``ticker``; each venue's parser converts the volume to base
    currency (OKX derivatives report contracts and base, spot base; Bybit inverse contracts
    report USD).

    Attributes
    ----------
    venue, symbol : str
    volume_24h_base : float
        Base-currency volume traded over the last 24 hours (NaN when the message did not
        carry it, e.g. a Bybit delta that changed other fields).
    last_price : float
        Last traded price (NaN when not given).
    exch_ts_ns, recv_ts_ns : int
    """

    venue: str
    symbol: str
    volume_24h_base: float
    last_price: float
    exch_ts_ns: int
    recv_ts_ns: int


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """Something the caller must see that is not market data: acks, errors, gaps, checksums.

    A sequence gap or checksum failure is reported here, never raised: the stream goes on and
    the client resyncs.
    """

    kind: StatusKind
    venue: str
    symbol: str
    detail: str
    recv_ts_ns: int


Event = BookSnapshot | BookDelta | Trade | BBO | Ticker | FeedStatus
