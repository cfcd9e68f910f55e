"""The venue-independent part of turning raw frames into a correct book.

A :class:`VenueFeed` subclass (one per venue, in :mod:`tradesim_nb.venues`) supplies

* ``parse(frame, recv_ns) -> list[Event]``: pure, raises :class:`MalformedFrame` with a reason;
* ``sequence(event, book, state) -> bool``: the venue's sequencing rule; it appends
  :class:`FeedStatus` events to ``state.pending`` (gap, heartbeat, resync, ...) and returns
  whether the event should be applied;
* optionally ``verify(event, book)``: the venue checksum after an update (``None`` when the
  event carries none).

This base class keeps one :class:`OrderBook` and one :class:`FeedStats` per book, counts
malformed frames by reason (the stream goes on), flags crossed books, cross-checks the book's
top against the venue's own BBO stream, and marks a book stale on a gap or checksum failure
until a snapshot arrives. ``needs_resync`` lists the books the live client must resync.

Validity
--------
A book is *valid* (``OrderBook.valid``) only when it is a right book, fresh and sane:

* **identity**: a book is one (venue, symbol, channel). Two depths of one symbol in one stream
  (OKX ``books5`` beside ``books``, Bybit ``orderbook.1`` beside ``orderbook.500``) are two
  books (:meth:`VenueFeed.book_key`): the first depth channel of a symbol keeps the symbol as
  its key, any other is keyed ``"<symbol>@<channel>"``, and a top-N view
  (:attr:`VenueFeed.secondary_channels`) hands the symbol's key to the full-depth channel;
* **in sync**: its snapshot arrived and no gap or checksum failure since;
* **in time**: where the venue's time stamp is the message's time
  (:attr:`VenueFeed.message_time`), a book never goes back in time. A snapshot older than the
  newest event of the book seen so far is not applied (``older_snapshots``); an update older
  than it is counted (``time_backwards``) and, on a venue without sequence ids (where nothing
  else can place it in the chain), marks the book stale; with sequence ids the venue's rule
  decides (a re-delivery is dropped, anything else is a gap). An event stamped more than
  :attr:`VenueFeed.max_ahead_s` ahead of its receive time is a damaged frame (refused,
  ``bad_timestamp``), so one bad time stamp cannot hold a book back;
* **fresh**: with a staleness bound (:attr:`VenueFeed.max_lag_s`), a book whose last event's
  venue time is more than the bound behind the clock (the receive time of the frame, or
  :attr:`VenueFeed.clock` in the live client) is not valid (``behind``) until an event within
  the bound arrives;
* **sane**: an event the book refuses (a level that is not numbers, over the level cap) is
  counted by reason, and the book is kept as it was but not valid until its next snapshot;
* **nothing lost unseen**: where a book's stream has no sequence ids (Kraken v1, OKX
  recordings without ``seqId``, snapshot relays) a lost update could go unnoticed, so a frame
  that cannot be read marks stale the book it names, or every such book when it names none.
  Where updates carry ids the next one reveals a loss.

Nothing is dropped silently: every frame or event not applied is counted, by reason
(``malformed``, ``FeedStats.stale_dropped``, ``gaps``, ``time_backwards`` ...).

It is **the** frame loop: the live client, session replays, ``tradesim replay`` and
``tradesim cost``, execution on replayed books, the benchmarks and the notebooks all call
:meth:`VenueFeed.on_frame` (one frame) or :meth:`VenueFeed.replay` (an iterable of
``(recv_ns, frame)`` pairs). It owns the counters (``frames``, ``malformed`` by reason,
``malformed_frames``, ``apply_errors``) and, when ``stamp_stages`` is set, the
``time.perf_counter_ns()`` stamps of the *parsed* and *applied* stages of the last frame
(the latency ring of :mod:`tradesim_nb.metrics`). :meth:`VenueFeed.reset` forgets what an
instrument's sequencing state knew (a new socket: wait for a snapshot).
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, NamedTuple

import orjson

from .book import DEFAULT_MAX_LEVELS, OrderBook, RawLevels, scan_levels
from .events import BBO, BookDelta, BookSnapshot, Event, FeedStatus, StatusKind, Ticker, Trade
from .instruments import Instrument, find_instrument

__all__ = ["FeedStats", "MalformedFrame", "Replayed", "SymbolState", "TopCheck", "VenueFeed",
           "int_value", "is_levels", "load_json_levels", "load_json_object", "put_levels"]

_perf_ns = time.perf_counter_ns
#: frames at least this long (characters) have their level arrays read in place
#: (:func:`load_json_levels`); below it orjson alone is as fast (a trade, a ticker)
RAW_MIN_BYTES = 256
#: receive times below this (2001-09-09) are counters or placeholders, not clock readings
_CLOCK_NS = 10**18


def load_json_object(frame: str | bytes) -> dict[str, Any]:
    """``orjson.loads`` a frame that must be a JSON object, else :class:`MalformedFrame`
    (reasons ``invalid_json`` and ``not_an_object``), the one way every venue parser starts."""
    try:
        obj = orjson.loads(frame)
    except orjson.JSONDecodeError as e:
        raise MalformedFrame("invalid_json", str(e)[:120]) from None
    if type(obj) is not dict:
        raise MalformedFrame("not_an_object", type(obj).__name__)
    return obj


def load_json_levels(frame: str | bytes, keys: tuple[str, ...], min_len: int = RAW_MIN_BYTES
                     ) -> tuple[dict[str, Any], tuple[Any, ...] | None]:
    """:func:`load_json_object` of a frame whose level arrays are under ``keys``: for a frame
    of ``min_len`` characters or more in compact JSON the arrays are cut out of the text and
    read in place (:func:`tradesim_nb.book.scan_levels`); then each stands in the object as the
    integer ``-(k + 1)`` until :func:`put_levels` puts it back. ``(object, None)`` otherwise
    (a short frame, the pure-Python book, any text the scanner does not take)."""
    if scan_levels is not None and len(frame) >= min_len:
        cut = scan_levels(frame, keys)
        if cut is not None:
            return load_json_object(cut[0]), cut[1]
    return load_json_object(frame), None


def put_levels(d: dict[str, Any], keys: tuple[str, ...], raw: tuple[Any, ...]) -> None:
    """Put back into ``d`` (the object that holds them) the level arrays that
    :func:`load_json_levels` cut out: ``d[keys[k]]`` becomes ``raw[k]`` where it is the
    stand-in ``-(k + 1)``."""
    for k, key in enumerate(keys):
        r = raw[k]
        if r is not None:
            v = d.get(key)
            if type(v) is int and v == -(k + 1):
                d[key] = r


def is_levels(v: Any) -> bool:
    """A venue's level array: a list as ``orjson`` gives it, or a :class:`RawLevels`."""
    t = type(v)
    return t is list or t is RawLevels  # RawLevels is None with the twin: never a type


def int_value(x: Any) -> int | None:
    """An integer field as venues send it — a JSON integer or its decimal string — as an int;
    None for anything else (a float, a bool, a non-numeric string), for the parser to name."""
    t = type(x)
    if t is int:
        return x  # type: ignore[no-any-return]
    if t is str:
        try:
            return int(x)
        except ValueError:
            return None
    return None


class MalformedFrame(ValueError):
    """A frame that cannot be parsed; ``reason`` is a short stable key for counting.

    ``symbol`` and ``channel`` name the book the frame was for when the parser got that far
    ("" otherwise): that book is marked stale (an update of it was lost).
    """

    def __init__(self, reason: str, detail: str = "", symbol: str = "",
                 channel: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.symbol = symbol
        self.channel = channel


@dataclass
class FeedStats:
    """Counters for one instrument of one feed."""

    frames: int = 0
    snapshots: int = 0
    deltas: int = 0
    trades: int = 0
    bbos: int = 0
    checksum_ok: int = 0
    checksum_failed: int = 0
    gaps: int = 0
    resyncs: int = 0
    heartbeats: int = 0
    sequence_resets: int = 0
    stale_dropped: int = 0
    crossed: int = 0
    crossed_removed_levels: int = 0
    top_match: int = 0
    top_mismatch: int = 0
    top_unchecked: int = 0
    #: events older than the newest the book has applied (exchange time going backwards)
    time_backwards: int = 0
    #: snapshots not applied because they are older than the book
    older_snapshots: int = 0
    #: times the book fell behind the staleness bound
    behind: int = 0
    #: events the book refused (bad numbers, level cap), each also in ``malformed`` by reason
    refused: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class TopCheck:
    """The book's top captured after an update with final id ``seq``, awaiting its BBO."""

    __slots__ = ("ask_px", "ask_sz", "bid_px", "bid_sz", "recv_ns", "seq")

    def __init__(self, seq: int, book: OrderBook, recv_ns: int) -> None:
        self.seq = seq
        self.bid_px = book.best_bid
        self.bid_sz = book.best_bid_size
        self.ask_px = book.best_ask
        self.ask_sz = book.best_ask_size
        self.recv_ns = recv_ns


class Replayed(NamedTuple):
    """One frame of :meth:`VenueFeed.replay`: its receive time, the events and statuses
    :meth:`VenueFeed.on_frame` returned, and the instrument whose book or trades it carried
    (the last one when several; ``None`` for acks, heartbeats, BBOs and malformed frames;
    a 24-hour ticker names its instrument)."""

    recv_ns: int
    events: list[Event]
    symbol: str | None


@dataclass
class SymbolState:
    """Per-instrument sequencing state a venue's rule may use freely."""

    last_seq: int | None = None
    synced: bool = False
    was_crossed: bool = False
    buffer: deque[Any] = field(default_factory=lambda: deque(maxlen=10_000))
    #: recent BBOs in update-id order, and book tops waiting for their BBO (see _resolve_checks)
    bbo_hist: deque[BBO] = field(default_factory=lambda: deque(maxlen=512))
    top_checks: deque[TopCheck] = field(default_factory=lambda: deque(maxlen=4096))
    pending: list[FeedStatus] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: the newest venue time (ns) of an event of the book seen in order (applied or waiting
    #: for a snapshot); 0 before one
    newest_ns: int = 0
    #: whether the book is behind the staleness bound, and its last and largest lag (ns)
    behind: bool = False
    lag_ns: int | None = None
    max_lag_ns: int | None = None


class VenueFeed:
    """Raw frames in, events and statuses out, books kept correct. Subclass per venue.

    Parameters
    ----------
    sanitize_crossed : bool
        When True, a crossed book has its crossing levels removed by
        :meth:`OrderBook.remove_crossed` (and the event is still flagged ``crossed``).
        Default False: the book stays as the venue sent it and ``valid`` is False.
    verify_checksums : bool
        Verify venue checksums where the venue sends them (default True).

    Attributes
    ----------
    max_lag_s : float or None
        The staleness bound (seconds): a book whose last event's venue time is further behind
        the clock is not valid. None (the default) checks nothing; the live client sets it
        from :class:`~tradesim_nb.live.ClientConfig`.
    clock : callable or None
        ``() -> ns since the epoch`` the lag is measured against (the live client passes
        ``time.time_ns``); None: the event's receive time (replays).
    max_levels : int
        The level cap of every book the feed makes (default
        :data:`tradesim_nb.book.DEFAULT_MAX_LEVELS`, 200,000 a side, far above any venue's
        depth): an event that would leave more levels on a side is refused whole
        (``level_cap``) and counted.
    max_ahead_s : float
        An event whose venue time is more than this ahead of its receive time is refused
        (``bad_timestamp``; default 600 s, far beyond any clock difference). Receive times
        before 2001 (counters, placeholders such as 0) are not held to it.
    """

    venue: ClassVar[str] = ""
    #: whether the venue's book feed is one full snapshot per message (GoQuant relay)
    snapshot_only: ClassVar[bool] = False
    #: whether an event's ``exch_ts_ns`` is the time the venue sent it (False where it is only
    #: the latest time stamp of the levels it carries, as on Kraken v1): the time rules apply
    message_time: ClassVar[bool] = True
    #: book channels that are a top-N view beside the venue's full book: always their own book
    #: (keyed ``"<symbol>@<channel>"``), never the symbol's
    secondary_channels: ClassVar[frozenset[str]] = frozenset()
    #: whether a snapshot's time is held against the book's (False where snapshots come from
    #: a REST request beside the socket, placed by update ids alone: Binance)
    snapshot_time_rule: ClassVar[bool] = True
    #: whether a snapshot that arrives in a stream of diffs is valid only once a diff joins it
    #: (Binance: the REST snapshot is taken beside the socket); readers that build books
    #: without a feed (the column-wise Tardis replay) ask it
    snapshot_needs_diff: ClassVar[bool] = False

    def __init__(self, *, sanitize_crossed: bool = False, verify_checksums: bool = True) -> None:
        self.sanitize_crossed = sanitize_crossed
        self.verify_checksums = verify_checksums
        self.books: dict[str, OrderBook] = {}
        self.stats: dict[str, FeedStats] = {}
        self.states: dict[str, SymbolState] = {}
        #: frames seen; of them, frames whose parse failed (each also counted by reason)
        self.frames = 0
        self.malformed_frames = 0
        #: malformed frames and bad levels by reason (``invalid_json``, ``apply:KeyError``...)
        self.malformed: Counter[str] = Counter()
        #: events the book refused (an exception while applying: the book is marked stale)
        self.apply_errors = 0
        self.acks = 0
        self.errors: list[str] = []
        self.needs_resync: set[str] = set()
        #: the latest 24-hour ticker of each instrument (venues that send one)
        self.tickers: dict[str, Ticker] = {}
        #: the instrument whose book, trades or ticker the last frame carried (None: no market
        #: data)
        self.frame_symbol: str | None = None
        #: when True, :meth:`on_frame` stamps ``parsed_ns`` and ``applied_ns``
        #: (``time.perf_counter_ns``) for the latency ring
        self.stamp_stages = False
        self.parsed_ns = 0
        self.applied_ns = 0
        #: frames of this many characters or more have their level arrays read in place
        #: (:func:`load_json_levels`; a huge number: never, every level an orjson list)
        self.raw_levels_min = RAW_MIN_BYTES
        #: ns spent inside :meth:`on_frame` by :meth:`replay`
        self.busy_ns = 0
        #: book key -> the instrument symbol it is a book of (keys other than the symbol only)
        self.book_symbols: dict[str, str] = {}
        self._channel_owner: dict[str, str] = {}
        self._max_lag_ns: int | None = None
        self.clock: Callable[[], int] | None = None
        self.max_ahead_s = 600.0
        self.max_levels = DEFAULT_MAX_LEVELS
        self._timed_updates = bool(self.message_time)
        self._timed_snapshots = bool(self.message_time and self.snapshot_time_rule)

    @property
    def max_lag_s(self) -> float | None:
        """The staleness bound in seconds (None: no bound)."""
        return None if self._max_lag_ns is None else self._max_lag_ns / 1e9

    @max_lag_s.setter
    def max_lag_s(self, value: float | None) -> None:
        if value is None:
            self._max_lag_ns = None
            return
        if not (isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value) and 0 < value <= 86_400):
            raise ValueError(f"max_lag_s={value!r} must be None or a number of seconds in "
                             "(0, 86400]")
        self._max_lag_ns = int(value * 1e9)

    # -- venue hooks ----------------------------------------------------------------------
    def parse(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        raise NotImplementedError

    def sequence(self, event: BookSnapshot | BookDelta, book: OrderBook,
                 state: SymbolState) -> bool:
        """Default rule: snapshots always apply; deltas apply once a snapshot has arrived."""
        if type(event) is BookSnapshot:
            return True
        return state.synced

    def verify(self, event: BookSnapshot | BookDelta, book: OrderBook) -> bool | None:
        """The venue checksum of ``book`` after ``event``: True/False, or None if none sent."""
        return None

    def instrument(self, symbol: str) -> Instrument | None:
        return find_instrument(self.venue, symbol)

    @classmethod
    def looks_like(cls, frame: str) -> bool:
        """Whether a raw frame of a recording is in this venue's format (a cheap text test,
        used to guess the venue of a file without a header)."""
        return False

    @classmethod
    def recognizes(cls, obj: Any) -> bool:
        """Whether a decoded frame (``orjson.loads`` of it) has this venue's shape: how a
        file's venue is told from its content (:func:`tradesim_nb.venues.sniff_venue`)."""
        return False

    # -- machinery ------------------------------------------------------------------------
    def book_key(self, symbol: str, channel: str) -> str:
        """The key of the book of ``symbol`` on the venue's book ``channel``.

        The first depth channel seen for a symbol keeps the symbol itself (so a stream of one
        depth a symbol, the usual case, keys its books by symbol); any other channel of that
        symbol is keyed ``"<symbol>@<channel>"``. A top-N view (one of
        :attr:`secondary_channels`, e.g. OKX ``books5``) that holds the symbol's key gives it
        up to the first full-depth channel of the symbol: its book, counters and state move to
        ``"<symbol>@<channel>"``. ``channel=""`` (a venue with one book a symbol) is the symbol.
        """
        if not channel:
            return symbol
        owner = self._channel_owner.get(symbol)
        if owner is None:
            self._channel_owner[symbol] = channel
            return symbol
        if owner == channel:
            return symbol
        sec = self.secondary_channels
        if owner in sec and channel not in sec:
            self._move(symbol, f"{symbol}@{owner}")  # the full book takes the symbol's key
            self._channel_owner[symbol] = channel
            return symbol
        key = f"{symbol}@{channel}"
        if key not in self.book_symbols:
            self.book_symbols[key] = symbol
        return key

    def _move(self, old: str, new: str) -> None:
        """Move a book, its counters and its sequencing state from key ``old`` to ``new``."""
        self.book_symbols[new] = self.symbol_of(old)
        if old in self.books:
            self.books[new] = self.books.pop(old)
            self.stats[new] = self.stats.pop(old)
            self.states[new] = self.states.pop(old)
        if old in self.needs_resync:
            self.needs_resync.discard(old)
            self.needs_resync.add(new)

    def symbol_of(self, key: str) -> str:
        """The instrument symbol a book key belongs to (the key itself for most books)."""
        return self.book_symbols.get(key, key)

    def book_channel(self, key: str) -> str:
        """The venue channel of a book key ("" for a venue with one book a symbol)."""
        if key in self.book_symbols:
            return key.rpartition("@")[2]
        return self._channel_owner.get(key, "")

    def book(self, symbol: str) -> OrderBook:
        """The book of a key (an instrument symbol, or ``"<symbol>@<channel>"``), created on
        first use."""
        b = self.books.get(symbol)
        if b is None:
            inst = self.instrument(self.symbol_of(symbol))
            b = OrderBook(inst, venue=self.venue, symbol=inst.symbol if inst else
                          self.symbol_of(symbol), max_levels=self.max_levels)
            self.books[symbol] = b
            self.stats[symbol] = FeedStats()
            self.states[symbol] = SymbolState()
        return b

    def status(self, kind: StatusKind, symbol: str, detail: str, recv_ns: int) -> FeedStatus:
        return FeedStatus(kind, self.venue, symbol, detail, recv_ns)

    def drop_until_snapshot(self, event: BookSnapshot | BookDelta, state: SymbolState) -> bool:
        """An update that arrived while its book waits for a snapshot (none yet, or stale):
        counted in ``stale_dropped`` with a ``stale`` status; returns False (not applied), for
        a :meth:`sequence` to return."""
        sym = event.symbol
        self.stats[sym].stale_dropped += 1
        state.pending.append(self.status(
            "stale", sym, "update dropped: " + (
                "book stale, waiting for a snapshot" if self.stats[sym].snapshots
                else "no snapshot yet"), event.recv_ts_ns))
        return False

    def mark_stale(self, symbol: str, kind: StatusKind, detail: str, recv_ns: int) -> FeedStatus:
        """Mark a book stale (gap or checksum failure) and ask for a resync."""
        book = self.book(symbol)
        book.stale = True
        self.states[symbol].synced = False
        self.needs_resync.add(symbol)
        st = self.stats[symbol]
        if kind == "gap":
            st.gaps += 1
        elif kind == "checksum_failed":
            st.checksum_failed += 1
        return self.status(kind, symbol, detail, recv_ns)

    def _keyed(self, ev: BookSnapshot | BookDelta) -> BookSnapshot | BookDelta:
        """``ev`` with its book key as its symbol (itself when the key is the symbol)."""
        ch = ev.channel
        if ch and ev.symbol not in self.book_symbols:  # (not already keyed)
            key = self.book_key(ev.symbol, ch)
            if key != ev.symbol:
                return replace(ev, symbol=key)
        return ev

    def on_frame(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        """Parse one raw frame, apply it, and return its events followed by any statuses.

        Never raises for a bad frame: one that does not parse is counted in
        ``malformed_frames`` and in ``malformed`` by reason and comes back as a ``malformed``
        status; an event the book refuses is counted (``apply_errors``, reason
        ``apply:<exception>``) and marks its book stale. Afterwards :attr:`frame_symbol` names
        the instrument whose book, trades or 24-hour ticker the frame carried, and with :attr:`stamp_stages`
        :attr:`parsed_ns` / :attr:`applied_ns` hold the stage stamps.
        """
        self.frames += 1
        try:
            events = self.parse(frame, recv_ns)
        except MalformedFrame as e:
            self.frame_symbol = None
            self.malformed_frames += 1
            self.malformed[e.reason] += 1
            return [FeedStatus("malformed", self.venue, "", str(e), recv_ns),
                    *self._lost(frame, e, str(e), recv_ns)]
        except Exception as e:  # a parser bug on hostile input: counted, the stream goes on
            self.frame_symbol = None
            self.malformed_frames += 1
            reason = f"unparseable:{type(e).__name__}"
            self.malformed[reason] += 1
            detail = f"{reason}: {str(e)[:200]}"
            return [FeedStatus("malformed", self.venue, "", detail, recv_ns),
                    *self._lost(frame, e, detail, recv_ns)]
        stamp = self.stamp_stages
        if stamp:
            self.parsed_ns = _perf_ns()
        sym: str | None = None
        if len(events) == 1:
            ev = events[0]
            t = type(ev)
            if t is BookDelta or t is BookSnapshot:
                if ev.channel:  # type: ignore[union-attr]
                    ev = self._keyed(ev)  # type: ignore[arg-type]
                sym = ev.symbol  # type: ignore[union-attr]
            elif t is Trade or t is Ticker:
                sym = ev.symbol  # type: ignore[union-attr]
            try:
                out = self.on_event(ev)
            except Exception as e:
                out = self._refused(ev, e, recv_ns)
        else:
            out = []
            for ev in events:
                t = type(ev)
                if t is BookDelta or t is BookSnapshot:
                    if ev.channel:  # type: ignore[union-attr]
                        ev = self._keyed(ev)  # type: ignore[arg-type]
                    sym = ev.symbol  # type: ignore[union-attr]
                elif t is Trade or t is Ticker:
                    sym = ev.symbol  # type: ignore[union-attr]
                try:
                    out.extend(self.on_event(ev))
                except Exception as e:
                    out.extend(self._refused(ev, e, recv_ns))
        self.frame_symbol = sym
        if stamp:
            self.applied_ns = _perf_ns()
        return out

    def salvage(self, frame: str | bytes) -> tuple[str, ...] | None:
        """The book a frame that is not valid JSON was for, read from its text: ``(symbol,
        channel)``; ``()`` when it cannot have been a book update (an event, a pong); None
        when the text does not say. Venues override it (a regular expression on the head)."""
        return None

    def _lost(self, frame: str | bytes, e: Exception, detail: str,
              recv_ns: int) -> list[Event]:
        """A frame that could not be read may have been an update: mark stale the book it
        was for (named by the parser, or :meth:`salvage`), or, when that is not known, every
        synced book, where the book's stream has no sequence ids (with ids the next update
        shows whether one was lost). A frame that is valid JSON the parser does not attribute
        to a book is not an update of one (a venue never sends it)."""
        where: tuple[str, ...] | None
        if isinstance(e, MalformedFrame):
            if e.symbol:
                where = (e.symbol, e.channel)
            elif e.reason != "invalid_json":
                return []
            else:
                where = self.salvage(frame)
        else:
            where = self.salvage(frame)
        if where is not None:
            if not where:
                return []
            symbol, channel = where[0], where[1] if len(where) > 1 else ""
            key = self.book_key(symbol, channel) if channel else symbol
            if (key in self.books and not self.books[key].stale
                    and self.states[key].last_seq is None):  # (ids would show a loss later)
                return [self.mark_stale(key, "malformed", f"an unreadable frame of this book: "
                                        f"{detail}", recv_ns)]
            return []
        out: list[Event] = []
        for key, state in self.states.items():
            if state.synced and state.last_seq is None and not self.books[key].stale:
                out.append(self.mark_stale(key, "malformed", "an unreadable frame may have been "
                                           f"an update of this book (no sequence ids): {detail}",
                                           recv_ns))
        return out

    def _refused(self, ev: Event, e: Exception, recv_ns: int) -> list[Event]:
        """An event whose application raised: counted, and its book marked stale."""
        self.apply_errors += 1
        self.malformed[f"apply:{type(e).__name__}"] += 1
        sym = getattr(ev, "symbol", "")
        if sym:
            return [self.mark_stale(sym, "malformed", f"apply failed: {e!r}", recv_ns)]
        return []

    def replay(self, frames: Iterable[tuple[int, str | bytes]],
               before: Callable[[int], object] | None = None) -> Iterator[Replayed]:
        """:meth:`on_frame` over ``(recv_ns, frame)`` pairs (a recording, a list), lazily.

        Yields a :class:`Replayed` per frame. The time spent inside the feed (not reading the
        frames) is added to :attr:`busy_ns`. ``before(recv_ns)``, when given, is called just
        before each frame is applied, so a consumer can read the books as they stood when that
        frame arrived (e.g. to fill an order decided a latency earlier).
        """
        on_frame = self.on_frame
        clock = _perf_ns
        for recv_ns, frame in frames:
            if before is not None:
                before(recv_ns)
            t = clock()
            out = on_frame(frame, recv_ns)
            self.busy_ns += clock() - t
            yield Replayed(recv_ns, out, self.frame_symbol)

    def reset(self, symbol: str) -> None:
        """Forget what ``symbol``'s sequencing knew: a new connection, whose first snapshot
        starts the book again (buffered diffs, BBO history and pending top checks of the old
        connection dropped; the book stale until then)."""
        self.book(symbol).stale = True
        st = self.states[symbol]
        st.synced = False
        st.buffer.clear()
        # BBOs missed between the connections would fail the top cross-check: start it again
        st.bbo_hist.clear()
        st.top_checks.clear()
        self.needs_resync.discard(symbol)

    def is_synced(self, symbol: str) -> bool:
        """Whether ``symbol``'s book has had its snapshot and no gap since."""
        return self.states[symbol].synced and symbol not in self.needs_resync

    def in_sync(self, key: str) -> bool:
        """Whether the venue's sequencing rule holds the book of ``key`` to be the venue's
        (its snapshot arrived, no gap since; a venue may ask more, see Binance's bridge)."""
        return self.is_synced(key)

    def buffered(self, symbol: str) -> int:
        """Updates of ``symbol`` held back while waiting for a snapshot (Binance's rule)."""
        return len(self.states[symbol].buffer)

    def on_event(self, ev: Event) -> list[Event]:
        """Apply one parsed event (a book event goes to the book of its
        :meth:`book_key`) and return it followed by any statuses."""
        t = type(ev)
        if t is BookDelta or t is BookSnapshot:
            if ev.channel:  # type: ignore[union-attr]
                ev = self._keyed(ev)  # type: ignore[arg-type]
            return self._on_book(ev)  # type: ignore[arg-type]
        if t is Trade:
            self.book(ev.symbol)  # type: ignore[union-attr]
            self.stats[ev.symbol].trades += 1  # type: ignore[union-attr]
            return [ev]
        if t is BBO:
            return self._on_bbo(ev)  # type: ignore[arg-type]
        if t is Ticker:
            self.book(ev.symbol)  # type: ignore[union-attr]
            self.tickers[ev.symbol] = ev  # type: ignore[union-attr,assignment]
            return [ev]
        if t is FeedStatus:
            if ev.kind == "ack":  # type: ignore[union-attr]
                self.acks += 1
            elif ev.kind == "error":  # type: ignore[union-attr]
                self.errors.append(ev.detail)  # type: ignore[union-attr]
        return [ev]

    def _on_book(self, ev: BookSnapshot | BookDelta) -> list[Event]:
        sym = ev.symbol
        book = self.books.get(sym)
        if book is None:
            book = self.book(sym)
        st = self.stats[sym]
        state = self.states[sym]
        st.frames += 1
        is_snap = type(ev) is BookSnapshot
        t_ns = ev.exch_ts_ns if (self._timed_snapshots if is_snap else self._timed_updates) else 0
        if t_ns:
            r = ev.recv_ts_ns
            if r > _CLOCK_NS and t_ns - r > self.max_ahead_s * 1e9:
                return self._book_refused(ev, MalformedFrame(
                    "bad_timestamp", f"venue time {t_ns} ns is {(t_ns - r) / 1e9:.0f} s ahead "
                    "of the receive time"), book, st, state)
            if t_ns < state.newest_ns:
                st.time_backwards += 1
                if is_snap or ev.seq is None:
                    return self._older(ev, book, st, state)
            else:
                state.newest_ns = t_ns
        if not self.sequence(ev, book, state):
            out: list[Event] = [ev, *state.pending]
            state.pending.clear()
            return out
        was_stale = book.stale and not state.behind
        try:
            book.apply(ev)
        except (ValueError, TypeError, ArithmeticError, IndexError) as e:
            return self._book_refused(ev, e, book, st, state)
        if is_snap:
            st.snapshots += 1
            state.synced = True
            if was_stale and st.snapshots > 1:
                st.resyncs += 1
                state.pending.append(self.status("resync", sym, f"snapshot seq={ev.seq}",
                                                 ev.recv_ts_ns))
            self.needs_resync.discard(sym)
        else:
            st.deltas += 1
        out = [ev]
        if self.verify_checksums and ev.checksum:
            ok = self.verify(ev, book)
            if ok is True:
                st.checksum_ok += 1
            elif ok is False:
                out.append(self.mark_stale(sym, "checksum_failed",
                                           f"checksum {ev.checksum} != book at seq={ev.seq}",
                                           ev.recv_ts_ns))
        if book.crossed:
            st.crossed += 1
            if not state.was_crossed:
                out.append(self.status("crossed", sym,
                                       f"best bid {book.best_bid} >= best ask {book.best_ask}",
                                       ev.recv_ts_ns))
            state.was_crossed = True
            if self.sanitize_crossed:
                nb, na = book.remove_crossed()
                st.crossed_removed_levels += nb + na
                state.was_crossed = False
        elif state.was_crossed:
            state.was_crossed = False
            out.append(self.status("uncrossed", sym, "", ev.recv_ts_ns))
        if not is_snap and state.bbo_hist and ev.seq is not None and not book.stale:
            # only once the venue's BBO stream is seen (a feed without it never checks)
            state.top_checks.append(TopCheck(ev.seq, book, ev.recv_ts_ns))
            out.extend(self._resolve_checks(sym, state))
        if t_ns and self._max_lag_ns is not None:
            self._check_lag(ev, t_ns, book, state, st, out)
        if state.pending:
            out.extend(state.pending)
            state.pending.clear()
        return out

    def _older(self, ev: BookSnapshot | BookDelta, book: OrderBook, st: FeedStats,
               state: SymbolState) -> list[Event]:
        """An event older than the newest of its book seen: a snapshot is not applied; an
        update without a sequence id cannot be placed in the chain and marks the book stale."""
        sym = ev.symbol
        detail = (f"exchange time {ev.exch_ts_ns} ns < newest seen {state.newest_ns} ns: "
                  "time went backwards")
        if type(ev) is BookSnapshot:
            st.older_snapshots += 1
            return [ev, self.status("time_backwards", sym,
                                    f"snapshot not applied, {detail}", ev.recv_ts_ns)]
        if state.synced:
            return [ev, self.mark_stale(sym, "time_backwards", f"update not applied, {detail}",
                                        ev.recv_ts_ns)]
        st.stale_dropped += 1
        return [ev, self.status("time_backwards", sym, f"update dropped, {detail}",
                                ev.recv_ts_ns)]

    def _book_refused(self, ev: BookSnapshot | BookDelta, e: Exception, book: OrderBook,
                      st: FeedStats, state: SymbolState) -> list[Event]:
        """The book refused ``ev`` (its levels are not numbers the book takes): counted by
        reason; the book stays as it was, stale until a snapshot (the venue's book changed in
        a way the book does not hold)."""
        reason = getattr(e, "reason", None) or f"bad_level:{type(e).__name__}"
        self.malformed[reason] += 1
        st.refused += 1
        sym = ev.symbol
        state.pending.clear()
        return [ev, self.status("refused", sym, f"{reason}: {e}", ev.recv_ts_ns),
                self.mark_stale(sym, "malformed", f"book stale after a refused event: {e}",
                                ev.recv_ts_ns)]

    def _check_lag(self, ev: BookSnapshot | BookDelta, t_ns: int, book: OrderBook,
                   state: SymbolState, st: FeedStats, out: list[Event]) -> None:
        """The staleness bound, once per applied event."""
        clock = self.clock
        lag = (clock() if clock is not None else ev.recv_ts_ns) - t_ns
        state.lag_ns = lag
        if state.max_lag_ns is None or lag > state.max_lag_ns:
            state.max_lag_ns = lag
        bound = self._max_lag_ns
        assert bound is not None
        if lag > bound:
            if not state.behind:
                state.behind = True
                st.behind += 1
                out.append(self.status("behind", ev.symbol,
                                       f"venue time {lag / 1e9:.3f} s behind the clock "
                                       f"(bound {bound / 1e9:g} s): book not valid",
                                       ev.recv_ts_ns))
            book.stale = True
        elif state.behind:
            state.behind = False
            if self.in_sync(ev.symbol):
                book.stale = False
                out.append(self.status("caught_up", ev.symbol,
                                       f"venue time {lag / 1e9:.3f} s behind the clock",
                                       ev.recv_ts_ns))

    # -- BBO cross-check --------------------------------------------------------------------
    # Rule (Binance's documented one, applied to every venue with a BBO stream carrying update
    # ids): after a book update with final id u, the top must equal the latest BBO whose id is
    # <= u. BBOs are real time while book updates may be batched, so the BBO for an id inside an
    # update can arrive before *or after* the update: the book's top is captured when the update
    # is applied and compared once a BBO with id >= u has been seen (the BBO stream being in id
    # order, every BBO with id <= u has then arrived). Checks whose BBO fell out of the short
    # history are counted as ``top_unchecked``.
    def _on_bbo(self, ev: BBO) -> list[Event]:
        self.book(ev.symbol)
        self.stats[ev.symbol].bbos += 1
        state = self.states[ev.symbol]
        hist = state.bbo_hist
        if ev.update_id is not None and (not hist or hist[-1].update_id is None
                                         or ev.update_id >= hist[-1].update_id):
            hist.append(ev)
        out: list[Event] = [ev]
        if state.top_checks:
            out.extend(self._resolve_checks(ev.symbol, state))
        return out

    def _resolve_checks(self, sym: str, state: SymbolState) -> list[Event]:
        checks = state.top_checks
        hist = state.bbo_hist
        if not checks or not hist:
            return []
        newest = hist[-1].update_id
        assert newest is not None
        out: list[Event] = []
        st = self.stats[sym]
        while checks and checks[0].seq <= newest:
            c = checks.popleft()
            ref: BBO | None = None
            for b in reversed(hist):
                assert b.update_id is not None
                if b.update_id <= c.seq:
                    ref = b
                    break
            if ref is None:
                st.top_unchecked += 1
                continue
            if (ref.bid_px == c.bid_px and ref.ask_px == c.ask_px
                    and _close(ref.bid_sz, c.bid_sz) and _close(ref.ask_sz, c.ask_sz)):
                st.top_match += 1
            else:
                st.top_mismatch += 1
                out.append(self.status(
                    "top_mismatch", sym,
                    f"book {c.bid_px}x{c.bid_sz}/{c.ask_px}x{c.ask_sz} after u={c.seq} vs "
                    f"bbo {ref.bid_px}x{ref.bid_sz}/{ref.ask_px}x{ref.ask_sz} "
                    f"(id {ref.update_id})", c.recv_ns))
        return out

    # -- reporting ------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Per-instrument counters and final top of book, plus feed-level counts."""
        inst: dict[str, Any] = {}
        for sym, book in self.books.items():
            d: dict[str, Any] = self.stats[sym].to_dict()
            state = self.states[sym]
            d.update(
                best_bid=_num(book.best_bid), best_bid_size=_num(book.best_bid_size),
                best_ask=_num(book.best_ask), best_ask_size=_num(book.best_ask_size),
                book_valid=book.valid, stale=book.stale, levels=[book.n_bids, book.n_asks],
                top_pending=len(state.top_checks), behind_now=state.behind,
                lag_ms=None if state.lag_ns is None else state.lag_ns / 1e6,
                max_lag_ms=None if state.max_lag_ns is None else state.max_lag_ns / 1e6,
            )
            if sym in self.book_symbols:
                d["symbol"] = self.book_symbols[sym]
                d["channel"] = sym.rpartition("@")[2]
            inst[sym] = d
        return {"venue": self.venue, "frames": self.frames, "malformed": dict(self.malformed),
                "malformed_frames": self.malformed_frames, "apply_errors": self.apply_errors,
                "acks": self.acks, "errors": list(self.errors), "instruments": inst}


def _close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x
