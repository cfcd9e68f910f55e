"""The venue-independent part of turning raw frames into a correct book.

A :class:`VenueFeed` subclass (one per venue, in :mod:`tradesim_nb.venues`) supplies

* ``parse(frame, recv_ns) -> list[Event]``: pure, raises :class:`MalformedFrame` with a reason;
* ``sequence(event, book, state) -> bool``: the venue's sequencing rule; it appends
  :class:`FeedStatus` events to ``state.pending`` (gap, heartbeat, resync, ...) and returns
  whether the event should be applied;
* optionally ``verify(event, book)``: the venue checksum after an update (``None`` when the
  event carries none).

This base class keeps one :class:`OrderBook` and one :class:`FeedStats` per instrument, counts
malformed frames by reason (the stream goes on), flags crossed books, cross-checks the book's
top against the venue's own BBO stream, and marks a book stale on a gap or checksum failure
until a snapshot arrives. ``needs_resync`` lists the instruments the live client must resync.

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
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, NamedTuple

import orjson

from .book import OrderBook
from .events import BBO, BookDelta, BookSnapshot, Event, FeedStatus, StatusKind, Trade
from .instruments import Instrument, find_instrument

__all__ = ["FeedStats", "MalformedFrame", "Replayed", "SymbolState", "TopCheck", "VenueFeed",
           "load_json_object"]

_perf_ns = time.perf_counter_ns


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


class MalformedFrame(ValueError):
    """A frame that cannot be parsed; ``reason`` is a short stable key for counting."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


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
    (the last one when several; ``None`` for acks, heartbeats, BBOs and malformed frames)."""

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
    """

    venue: ClassVar[str] = ""
    #: whether the venue's book feed is one full snapshot per message (GoQuant relay)
    snapshot_only: ClassVar[bool] = False

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
        #: the instrument whose book or trades the last frame carried (None: no market data)
        self.frame_symbol: str | None = None
        #: when True, :meth:`on_frame` stamps ``parsed_ns`` and ``applied_ns``
        #: (``time.perf_counter_ns``) for the latency ring
        self.stamp_stages = False
        self.parsed_ns = 0
        self.applied_ns = 0
        #: ns spent inside :meth:`on_frame` by :meth:`replay`
        self.busy_ns = 0

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

    # -- machinery ------------------------------------------------------------------------
    def book(self, symbol: str) -> OrderBook:
        b = self.books.get(symbol)
        if b is None:
            inst = self.instrument(symbol)
            b = OrderBook(inst, venue=self.venue, symbol=symbol)
            self.books[symbol] = b
            self.stats[symbol] = FeedStats()
            self.states[symbol] = SymbolState()
        return b

    def status(self, kind: StatusKind, symbol: str, detail: str, recv_ns: int) -> FeedStatus:
        return FeedStatus(kind, self.venue, symbol, detail, recv_ns)

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

    def on_frame(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        """Parse one raw frame, apply it, and return its events followed by any statuses.

        Never raises for a bad frame: one that does not parse is counted in
        ``malformed_frames`` and in ``malformed`` by reason and comes back as a ``malformed``
        status; an event the book refuses is counted (``apply_errors``, reason
        ``apply:<exception>``) and marks its book stale. Afterwards :attr:`frame_symbol` names
        the instrument whose book or trades the frame carried, and with :attr:`stamp_stages`
        :attr:`parsed_ns` / :attr:`applied_ns` hold the stage stamps.
        """
        self.frames += 1
        try:
            events = self.parse(frame, recv_ns)
        except MalformedFrame as e:
            self.frame_symbol = None
            self.malformed_frames += 1
            self.malformed[e.reason] += 1
            return [FeedStatus("malformed", self.venue, "", str(e), recv_ns)]
        except Exception as e:  # a parser bug on hostile input: counted, the stream goes on
            self.frame_symbol = None
            self.malformed_frames += 1
            reason = f"unparseable:{type(e).__name__}"
            self.malformed[reason] += 1
            return [FeedStatus("malformed", self.venue, "", f"{reason}: {e}", recv_ns)]
        stamp = self.stamp_stages
        if stamp:
            self.parsed_ns = _perf_ns()
        sym: str | None = None
        if len(events) == 1:
            ev = events[0]
            t = type(ev)
            if t is BookDelta or t is BookSnapshot or t is Trade:
                sym = ev.symbol  # type: ignore[union-attr]
            try:
                out = self.on_event(ev)
            except Exception as e:
                out = self._refused(ev, e, recv_ns)
        else:
            out = []
            for ev in events:
                t = type(ev)
                if t is BookDelta or t is BookSnapshot or t is Trade:
                    sym = ev.symbol  # type: ignore[union-attr]
                try:
                    out.extend(self.on_event(ev))
                except Exception as e:
                    out.extend(self._refused(ev, e, recv_ns))
        self.frame_symbol = sym
        if stamp:
            self.applied_ns = _perf_ns()
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

    def buffered(self, symbol: str) -> int:
        """Updates of ``symbol`` held back while waiting for a snapshot (Binance's rule)."""
        return len(self.states[symbol].buffer)

    def on_event(self, ev: Event) -> list[Event]:
        t = type(ev)
        if t is BookDelta or t is BookSnapshot:
            return self._on_book(ev)  # type: ignore[arg-type]
        if t is Trade:
            self.book(ev.symbol)  # type: ignore[union-attr]
            self.stats[ev.symbol].trades += 1  # type: ignore[union-attr]
            return [ev]
        if t is BBO:
            return self._on_bbo(ev)  # type: ignore[arg-type]
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
        if not self.sequence(ev, book, state):
            out: list[Event] = [ev, *state.pending]
            state.pending.clear()
            return out
        was_stale = book.stale
        book.apply(ev)
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
        if state.pending:
            out.extend(state.pending)
            state.pending.clear()
        return out

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
            d.update(
                best_bid=_num(book.best_bid), best_bid_size=_num(book.best_bid_size),
                best_ask=_num(book.best_ask), best_ask_size=_num(book.best_ask_size),
                book_valid=book.valid, stale=book.stale, levels=[book.n_bids, book.n_asks],
                top_pending=len(self.states[sym].top_checks),
            )
            inst[sym] = d
        return {"venue": self.venue, "frames": self.frames, "malformed": dict(self.malformed),
                "malformed_frames": self.malformed_frames, "apply_errors": self.apply_errors,
                "acks": self.acks, "errors": list(self.errors), "instruments": inst}


def _close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x
