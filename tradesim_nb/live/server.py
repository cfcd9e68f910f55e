"""A local venue on loopback: OKX v5 public, GoQuant relay, Binance and Bybit, with seeded faults.

:class:`LocalVenue` is a ``websockets`` server (127.0.0.1 by default) that publishes one or
more instruments from

* a :class:`~tradesim_nb.sources.BookSource` (the random walk of
  :mod:`tradesim_nb.live.synthetic`, or the impact-aware market), stepped ``rate_hz`` times a
  second; or
* a recording (any venue whose feed rebuilds book states from it: the packaged OKX v5 log
  (:mod:`tradesim_nb.datasets`), recordings made by ``tradesim record``, Binance, GoQuant), replayed at ``speed`` times
  real time (``speed=0``: as fast as the clients read).

Protocols, by URL path:

* ``/ws/v5/public`` (any path not below): OKX v5 public. ``{"op":"subscribe"|"unsubscribe",
  "args":[{"channel":C,"instId":S}]}`` with ``C`` in ``books``, ``books5``, ``trades`` is
  acknowledged (``{"event":"subscribe","arg":...,"connId":...}``); bad requests get
  ``{"event":"error","code":"60012",...}``, unknown instruments ``"60018"``; the text ``ping``
  gets ``pong``. ``books`` sends a snapshot of the whole true book (``prevSeqId = -1``), then
  updates whose ``prevSeqId`` is the previous ``seqId`` (ids grow by 1 to 3) and whose
  ``checksum`` is :func:`~tradesim_nb.venues.okx.okx_checksum` of the true book after the
  update. ``books5`` sends the top 5 levels after each change.
* ``/ws/l2-orderbook/okx/<SYMBOL>``: the GoQuant relay, a full top-50 snapshot a message.
* ``/stream?streams=<sym>@depth@100ms/<sym>@trade/<sym>@bookTicker``: Binance combined streams
  (``{"stream", "data"}`` frames; also ``SUBSCRIBE``/``UNSUBSCRIBE`` requests). Each update is a
  ``depthUpdate`` carrying the ids it consumed, ``U = prev + 1 .. u = seqId`` and ``pu = prev``
  (so the spot rule ``U = u_prev + 1`` and the futures rule ``pu = u_prev`` both hold); a
  ``bookTicker`` (``u`` = the update's id) whenever the top price or size changed; trades. The
  REST snapshot ``GET /api/v3/depth?symbol=S&limit=N`` (and ``/fapi/v1/depth``) is answered
  over plain HTTP on the same port (websockets' ``process_request``): the true book's best
  ``N`` levels with ``lastUpdateId`` = the current id, so it is consistent with the stream
  exactly as Binance's procedure expects. Unknown symbols get HTTP 400 ``-1121``.
* ``/v5/public/linear`` (any ``/v5/public/<category>``): Bybit v5. ``{"op": "subscribe",
  "args": ["orderbook.50.S", "publicTrade.S"]}`` is acknowledged (``success``/``ret_msg``/
  ``conn_id``), ``{"op": "ping"}`` gets ``ret_msg: "pong"``. ``orderbook.{depth}`` is a view of
  the true book's top ``depth`` levels with its own update id ``u`` (+1 a delta, a delta only
  when the view changes; ``seq`` carries the venue's id): a snapshot on subscribe, then deltas
  (size ``"0"`` deletes, also levels leaving the top ``depth``). Unsubscribe + subscribe gives a
  fresh snapshot.

The venue knows its **true book** (:meth:`true_levels`, and :meth:`truth_at` for a past
``seqId`` when ``history`` > 0) so tests can compare a client's book at every level.

Faults (:mod:`tradesim_nb.live.faults`) act per connection on the frames the venue writes:
``drop``/``dup``/``reorder``/``corrupt`` on book updates only (snapshots, acks and trades are
left intact; Binance depthUpdates and Bybit deltas are book updates), ``stall``/``close`` on
any frame. ``stats`` counts what fired, and ``gaps_injected`` the destructive faults (drop,
reorder, corrupt) that hit a subscription whose chain was intact since its last snapshot,
counted when a later update of that chain is written (a close or a snapshot before it heals the
chain unseen): each of these must be detected by a client. For Binance the snapshot is the last
REST answer for the symbol (while the socket was open), and an update at or below its
``lastUpdateId`` is harmless (the client drops it anyway); counting is exact with one client a
symbol.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..book import OrderBook
from ..events import BookDelta, BookSnapshot, Trade
from ..instruments import Instrument
from ..recording import read_frames, read_header
from ..sources import BookSource
from ..venues import get_feed
from ..venues.okx import CHECKSUM_DEPTH, okx_checksum
from .faults import DESTRUCTIVE, FaultInjector, FaultSpec, corrupt_frame, parse_faults

__all__ = ["BINANCE_REST_PATHS", "BINANCE_STREAM_PATH", "BYBIT_PREFIX", "OKX_PATH",
           "LocalVenue"]

log = logging.getLogger(__name__)

OKX_PATH = "/ws/v5/public"
GOQUANT_PREFIX = "/ws/l2-orderbook/okx/"
BINANCE_STREAM_PATH = "/stream"
#: REST depth snapshot paths (spot, USD-M futures) answered over HTTP on the same port
BINANCE_REST_PATHS = ("/api/v3/depth", "/fapi/v1/depth")
BYBIT_PREFIX = "/v5/public/"
_BINANCE_CHANNELS = ("depth", "trade", "aggTrade", "bookTicker")
_CHANNELS = ("books", "books5", "trades")
_Str2 = tuple[str, str]


def _decimals(x: float) -> int:
    s = f"{x:.12f}".rstrip("0")
    return len(s.split(".")[1]) if "." in s else 0


@dataclass
class _Change:
    """One change of one instrument: levels as venue strings (size "0" removes), trades."""

    symbol: str
    bids: list[_Str2]
    asks: list[_Str2]
    trades: list[tuple[str, str, str]] = field(default_factory=list)


class _Truth:
    """The venue's true book of one instrument: price-string dicts + an OrderBook for order."""

    def __init__(self, symbol: str, instrument: Instrument | None, history: int) -> None:
        self.symbol = symbol
        self.instrument = instrument
        self.book = OrderBook(instrument, venue="okx", symbol=symbol)
        self.book.stale = False
        self.levels: dict[str, dict[str, str]] = {"bid": {}, "ask": {}}
        self.seq = 0
        self.history: deque[tuple[int, list[tuple[str, str, str | None]]]] = deque(
            maxlen=history or 1)
        self.keep_history = history > 0
        self.trade_id = 0
        self.announced = True
        #: Binance bookTicker: the last top sent (bid px, bid sz, ask px, ask sz)
        self.last_top: tuple[str, str, str, str] | None = None
        #: Bybit orderbook.{depth} views: their own ``u`` chain over the top ``depth`` levels
        self.bybit: dict[int, _BybitView] = {}

    def apply(self, bids: Sequence[_Str2], asks: Sequence[_Str2]) -> None:
        undo: list[tuple[str, str, str | None]] = []
        for side, lv in (("bid", bids), ("ask", asks)):
            d = self.levels[side]
            for ps, ss in lv:
                old = d.get(ps)
                if float(ss) == 0.0:
                    if old is None:
                        continue
                    del d[ps]
                else:
                    d[ps] = ss
                undo.append((side, ps, old))
        self.book.apply_delta(bids, asks)
        if self.keep_history:
            self.history.append((self.seq, undo))

    def replace(self, bids: Sequence[_Str2], asks: Sequence[_Str2]) -> tuple[list[_Str2],
                                                                          list[_Str2]]:
        """The changes that turn the truth into ``(bids, asks)`` (not applied)."""
        out: list[list[_Str2]] = []
        for side, lv in (("bid", bids), ("ask", asks)):
            d = self.levels[side]
            new = {ps: ss for ps, ss in lv if float(ss) > 0}
            ch = [(ps, ss) for ps, ss in new.items() if d.get(ps) != ss]
            ch += [(ps, "0") for ps in d if ps not in new]
            out.append(ch)
        return out[0], out[1]

    def sides(self, n: int | None = None) -> tuple[list[_Str2], list[_Str2]]:
        nb = self.book.n_bids if n is None else n
        na = self.book.n_asks if n is None else n
        return self.book.level_strings("bid", nb), self.book.level_strings("ask", na)


class _BybitView:
    """What Bybit's ``orderbook.{depth}`` publishes: the top ``depth`` levels of the truth, with
    an update id ``u`` that grows by exactly 1 a delta (a delta only when the view changes)."""

    def __init__(self, depth: int, u0: int, keep: int) -> None:
        self.depth = depth
        self.u = u0
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.keep = max(1, keep)
        #: u -> the venue's seq at which the view was that (for tests: truth at a client's u)
        self.seqs: dict[int, int] = {}

    def note(self, seq: int) -> None:
        self.seqs[self.u] = seq
        if len(self.seqs) > self.keep:
            del self.seqs[next(iter(self.seqs))]

    def reset(self, tr: _Truth) -> None:
        b, a = tr.sides(self.depth)
        self.bids, self.asks = dict(b), dict(a)
        self.note(tr.seq)

    def delta(self, tr: _Truth) -> tuple[list[_Str2], list[_Str2]] | None:
        """Advance the view to the truth's top ``depth``; the changes, or None if none."""
        out: list[list[_Str2]] = []
        for side, old in (("bid", self.bids), ("ask", self.asks)):
            new = dict(tr.book.level_strings(side, self.depth))  # type: ignore[arg-type]
            ch = [(ps, ss) for ps, ss in new.items() if old.get(ps) != ss]
            ch += [(ps, "0") for ps in old if ps not in new]
            out.append(ch)
            if side == "bid":
                self.bids = new
            else:
                self.asks = new
        if not (out[0] or out[1]):
            return None
        self.u += 1
        self.note(tr.seq)
        return out[0], out[1]


class _Conn:
    __slots__ = ("gap_pending", "held", "id", "injector", "intact", "kind", "names", "queue",
                 "snap_id", "subs", "wake", "ws")

    def __init__(self, ws: Any, cid: int, injector: FaultInjector) -> None:
        self.ws = ws
        self.id = cid
        self.injector = injector
        self.queue: deque[tuple[str, str, str, int]] = deque()  # (frame, kind, symbol, seq)
        self.wake = asyncio.Event()
        self.subs: set[tuple[str, str]] = set()  # (channel, symbol)
        self.intact: dict[str, bool] = {}
        #: Binance: lastUpdateId of the last REST snapshot served while this socket was open
        self.snap_id: dict[str, int] = {}
        #: Binance: stream name of each (channel, symbol) subscription (the wrapper's "stream")
        self.names: dict[tuple[str, str], str] = {}
        self.held: tuple[str, str] | None = None
        self.gap_pending: set[str] = set()
        self.kind = "okx"

    def put(self, frame: str, kind: str = "ctl", symbol: str = "", seq: int = 0) -> None:
        self.queue.append((frame, kind, symbol, seq))
        self.wake.set()


class LocalVenue:
    """A local market-data venue speaking OKX v5 public and the GoQuant relay format.

    Parameters
    ----------
    source : "synthetic", "market", BookSource, sequence of BookSource, or a recording path
        What to publish. ``"synthetic"`` is a :class:`~tradesim_nb.live.synthetic.RandomWalkBook`
        of OKX ``BTC-USDT-SWAP`` seeded with ``seed``; ``"market"`` the impact-aware
        :class:`~tradesim_nb.market.SyntheticMarket` (instrument ``SYN-USD``).
    host : str
        Address to bind; must be a loopback address unless ``allow_remote=True``.
    port : int
        0 picks a free port (see :attr:`url`).
    rate_hz : float
        Book-source steps per second (> 0); ignored for recordings.
    speed : float
        Replay speed of a recording (1 = real time, 10 = ten times faster, 0 = as fast as the
        clients read).
    loop : bool
        Replay the recording again when it ends (the wrap is published as an update).
    faults : str or FaultSpec, optional
        Fault spec (see :mod:`tradesim_nb.live.faults`).
    seed : int
        Seeds the synthetic source, the sequence-id increments and each connection's faults.
    venue : str, optional
        Venue of a recording (default: the recording header's, else ``"okx"``).
    history : int
        Updates a symbol kept to rebuild past true books (:meth:`truth_at`); 0 = off.
    max_queue : int
        Frames queued for one connection before it is closed as a slow consumer.
    allow_remote : bool
        Required to bind a non-loopback address.
    rest_delay_s : float
        Delay before each Binance REST depth answer (a slow venue, for tests), in [0, 60].
    """

    def __init__(self, source: Any = "synthetic", *, host: str = "127.0.0.1", port: int = 0,
                 rate_hz: float = 1000.0, speed: float = 1.0, loop: bool = False,
                 faults: str | FaultSpec | None = None, seed: int = 0, venue: str | None = None,
                 history: int = 0, max_queue: int = 50_000,
                 allow_remote: bool = False, rest_delay_s: float = 0.0) -> None:
        if not (isinstance(port, int) and 0 <= port <= 65535):
            raise ValueError(f"port={port!r} must be an int in [0, 65535]")
        if not (np.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz={rate_hz!r} must be a finite number > 0")
        if not (np.isfinite(speed) and speed >= 0):
            raise ValueError(f"speed={speed!r} must be a finite number >= 0 (0 = as fast as "
                             "possible)")
        if not (isinstance(history, int) and 0 <= history <= 10_000_000):
            raise ValueError(f"history={history!r} must be an int in [0, 1e7]")
        if not (isinstance(max_queue, int) and max_queue >= 10):
            raise ValueError(f"max_queue={max_queue!r} must be an int >= 10")
        if not (isinstance(rest_delay_s, int | float) and 0.0 <= rest_delay_s <= 60.0):
            raise ValueError(f"rest_delay_s={rest_delay_s!r} must be a number in [0, 60]")
        if not allow_remote and not _is_loopback(host):
            raise ValueError(f"host={host!r} is not a loopback address; pass "
                             "allow_remote=True (CLI: --i-know-this-is-not-loopback) to bind it")
        self.host = host
        self.port = port
        self.rate_hz = float(rate_hz)
        self.speed = float(speed)
        self.loop_replay = loop
        self.fault_spec = parse_faults(faults)
        self.seed = seed
        self.history = history
        self.max_queue = max_queue
        self.rest_delay_s = float(rest_delay_s)
        self._rng = np.random.default_rng(seed)
        self._sources: list[BookSource] = []
        self._paths: list[Path] = []
        self.recording_venue = venue
        if isinstance(source, str) and source == "synthetic":
            from .synthetic import RandomWalkBook

            self._sources = [RandomWalkBook(seed=seed)]
        elif isinstance(source, str) and source == "market":
            from ..market import SyntheticMarket

            self._sources = [SyntheticMarket(seed=seed)]
        elif isinstance(source, BookSource):
            self._sources = [source]
        elif isinstance(source, str | os.PathLike):
            p = Path(source)
            if not p.exists():
                raise ValueError(f"source={str(source)!r} is neither 'synthetic' nor an "
                                 "existing recording file")
            self._paths = [p]
            if self.recording_venue is None:
                self.recording_venue = read_header(p).get("venue") or "okx"
        elif isinstance(source, Sequence) and source and all(
                isinstance(s, BookSource) for s in source):
            self._sources = list(source)
        else:
            raise ValueError(f"source={source!r} must be 'synthetic', 'market', a BookSource, "
                             "a list of them or a recording path")
        self.truth: dict[str, _Truth] = {}
        self._conns: dict[int, _Conn] = {}
        self._cid = itertools.count(1)
        self._server: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running = asyncio.Event()
        self._running.set()
        self.finished = asyncio.Event()
        self.stats: Counter[str] = Counter()
        self.gaps_injected = 0
        self.faults_enabled = True
        if self._sources:
            for s in self._sources:
                self._init_source_truth(s)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> LocalVenue:
        """Bind the socket and start publishing; returns self (``venue.url`` is then valid)."""
        from websockets.asyncio.server import serve

        if self._server is not None:
            return self
        self.finished = asyncio.Event()
        self._server = await serve(self._handler, self.host, self.port, max_size=2**24,
                                   ping_interval=None, compression=None,
                                   process_request=self._process_request)
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        t = asyncio.get_running_loop().create_task(self._produce(), name="venue-produce")
        self._tasks.add(t)
        log.info("local venue on %s (source=%s, faults=%s)", self.url, self.source_name,
                 self.fault_spec or "none")
        return self

    async def stop(self) -> None:
        """Close every connection, stop publishing and release the port."""
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
            log.info("local venue on port %d stopped", self.port)

    async def __aenter__(self) -> LocalVenue:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """OKX v5 public URL of this venue (``ws://127.0.0.1:PORT/ws/v5/public``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}{OKX_PATH}"

    def goquant_url(self, symbol: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}{GOQUANT_PREFIX}{symbol}"

    @property
    def base_url(self) -> str:
        """``ws://127.0.0.1:PORT``: the Binance client appends ``/stream?streams=...``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT``: base of the Binance REST depth snapshot."""
        return "http" + self.base_url[2:]

    def binance_url(self, symbols: str | Sequence[str], depth_ms: int = 100) -> str:
        """Combined-stream URL: ``<sym>@depth@100ms``, ``<sym>@trade``, ``<sym>@bookTicker``."""
        syms = [symbols] if isinstance(symbols, str) else list(symbols)
        names = [f"{s.lower()}@{k}" for s in syms
                 for k in (f"depth@{depth_ms}ms", "trade", "bookTicker")]
        return f"{self.base_url}{BINANCE_STREAM_PATH}?streams=" + "/".join(names)

    def bybit_url(self, category: str = "linear") -> str:
        """Bybit v5 public URL of this venue (``ws://127.0.0.1:PORT/v5/public/linear``)."""
        return f"{self.base_url}{BYBIT_PREFIX}{category}"

    @property
    def source_name(self) -> str:
        if self._paths:
            return str(self._paths[0])
        return ",".join(type(s).__name__ for s in self._sources)

    @property
    def symbols(self) -> list[str]:
        return list(self.truth)

    @property
    def connections(self) -> int:
        return len(self._conns)

    def pause(self) -> None:
        """Stop publishing updates (connections stay open) until :meth:`resume`; may be
        called before :meth:`start` to let clients subscribe before a replay begins."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def true_levels(self, symbol: str) -> tuple[list[_Str2], list[_Str2]]:
        """The venue's current true book, best first, as ``(price_str, size_str)``."""
        return self.truth[symbol].sides()

    def seq(self, symbol: str) -> int:
        return self.truth[symbol].seq

    def bybit_u(self, symbol: str, depth: int = 50) -> int | None:
        """The current ``u`` of the Bybit ``orderbook.{depth}`` view of ``symbol`` (None if it
        was never subscribed)."""
        v = self.truth[symbol].bybit.get(depth)
        return None if v is None else v.u

    def bybit_truth(self, symbol: str, u: int, depth: int = 50
                    ) -> tuple[dict[str, str], dict[str, str]] | None:
        """The true top ``depth`` levels when the Bybit view had update id ``u`` (needs
        ``history`` covering it), as ``({px: sz} bids, {px: sz} asks)``; None if unknown."""
        v = self.truth[symbol].bybit.get(depth)
        seq = None if v is None else v.seqs.get(u)
        if seq is None:
            return None
        full = self.truth_at(symbol, seq)
        if full is None:
            return None
        bids = sorted(full[0].items(), key=lambda kv: -float(kv[0]))[:depth]
        asks = sorted(full[1].items(), key=lambda kv: float(kv[0]))[:depth]
        return dict(bids), dict(asks)

    def bybit_restart(self, symbol: str, depth: int = 50) -> None:
        """Emulate a restart of Bybit's book service: the ``orderbook.{depth}`` view's ``u``
        starts again at 1 and every subscriber gets a snapshot with ``u = 1`` (a client must
        replace its book, not call it a gap)."""
        v = self.truth[symbol].bybit.get(depth)
        if v is None:
            raise ValueError(f"depth={depth!r}: orderbook.{depth}.{symbol} was never subscribed")
        v.u = 1
        v.seqs.clear()
        for c in list(self._conns.values()):
            if (f"ob{depth}", symbol) in c.subs:
                self._bybit_subscribe(c, self.truth[symbol], depth, resend=True)

    def _symbol(self, name: str) -> str:
        """The truth symbol a Binance/Bybit stream name means (case-insensitive)."""
        up = name.upper()
        for s in self.truth:
            if s.upper() == up:
                return s
        return up

    def _known(self, sym: str) -> bool:
        """A symbol with a truth, or one a recording may still announce."""
        return sym in self.truth or bool(self._paths and not self.finished.is_set())

    def truth_at(self, symbol: str, seq: int) -> tuple[dict[str, str], dict[str, str]] | None:
        """The true book just after update ``seq`` as ``({px: sz} bids, {px: sz} asks)``, or
        None when ``seq`` is older than the kept history (needs ``history`` > 0)."""
        tr = self.truth[symbol]
        bids = dict(tr.levels["bid"])
        asks = dict(tr.levels["ask"])
        if seq == tr.seq:
            return bids, asks
        if not tr.keep_history or not tr.history:
            return None
        sides = {"bid": bids, "ask": asks}
        found = False
        for s, undo in reversed(tr.history):
            if s == seq:
                found = True
                break
            for side, ps, old in reversed(undo):
                if old is None:
                    sides[side].pop(ps, None)
                else:
                    sides[side][ps] = old
        return (bids, asks) if found else None

    # -- sources ------------------------------------------------------------------------------
    def _fmt(self, inst: Instrument) -> tuple[str, str]:
        return f"{{:.{inst.price_decimals}f}}", f"{{:.{_decimals(inst.lot_size)}f}}"

    def _init_source_truth(self, s: BookSource) -> None:
        inst = s.instrument
        pf, sf = self._fmt(inst)
        b, a = s.snapshot()
        tr = _Truth(inst.symbol, inst, self.history)
        tr.apply([(pf.format(p), sf.format(q)) for p, q in b],
                 [(pf.format(p), sf.format(q)) for p, q in a])
        tr.seq = int(self._rng.integers(1_000, 100_000))
        self.truth[inst.symbol] = tr

    def _source_changes(self) -> Iterator[tuple[float, list[_Change]]]:
        """Book sources: one step of each source per tick; yields (t_s, changes)."""
        fmts = [self._fmt(s.instrument) for s in self._sources]
        dt = 1.0 / self.rate_hz
        for k in itertools.count():
            out: list[_Change] = []
            for s, (pf, sf) in zip(self._sources, fmts):
                st = s.step()
                out.append(_Change(
                    s.instrument.symbol,
                    [(pf.format(p), sf.format(q)) for p, q in st.bids],
                    [(pf.format(p), sf.format(q)) for p, q in st.asks],
                    [(pf.format(p), sf.format(q), side) for p, q, side in st.trades]))
            yield k * dt, out

    def _recording_changes(self) -> Iterator[tuple[float, list[_Change]]]:
        """A recording through its venue's feed; yields (t_s since first frame, changes)."""
        venue = self.recording_venue or "okx"
        while True:
            feed = get_feed(venue)
            t0: int | None = None
            applied: dict[str, int] = {}  # book.updates of each instrument after the last frame
            for recv_ns, events, _sym in feed.replay(read_frames(*self._paths)):
                if t0 is None:
                    t0 = recv_ns
                out: list[_Change] = []
                books: dict[str, list[Any]] = {}
                for ev in events:
                    t = type(ev)
                    if t is Trade:
                        out.append(_Change(ev.symbol, [], [], [  # type: ignore[union-attr]
                            (repr(ev.price), repr(ev.qty), ev.side)]))  # type: ignore[union-attr]
                    elif t is BookDelta or t is BookSnapshot:
                        books.setdefault(ev.symbol, []).append(ev)  # type: ignore[union-attr]
                for sym, evs in books.items():
                    book = feed.book(sym)
                    n = book.updates - applied.get(sym, 0)
                    applied[sym] = book.updates
                    if n <= 0 or book.stale:
                        continue
                    tr = self.truth.get(sym)
                    if tr is None:
                        tr = _Truth(sym, book.instrument, self.history)
                        tr.announced = False
                        tr.seq = int(self._rng.integers(1_000, 100_000))
                        self.truth[sym] = tr
                    ev = evs[0]
                    if n == 1 and len(evs) == 1 and type(ev) is BookDelta:
                        out.append(_Change(sym, [(lv[0], lv[1]) for lv in ev.bids],
                                           [(lv[0], lv[1]) for lv in ev.asks]))
                    else:
                        b, a = tr.replace(book.level_strings("bid", book.n_bids),
                                          book.level_strings("ask", book.n_asks))
                        out.append(_Change(sym, b, a))
                if out:
                    yield (recv_ns - t0) / 1e9, out
            if not self.loop_replay:
                return

    # -- publishing ---------------------------------------------------------------------------
    async def _produce(self) -> None:
        gen = self._source_changes() if self._sources else self._recording_changes()
        loop = asyncio.get_running_loop()
        speed = self.speed if self._paths else 1.0
        t_start = loop.time()
        paused_at: float | None = None
        n = 0
        for t_s, changes in gen:
            if not self._running.is_set():
                paused_at = loop.time()
                await self._running.wait()
                t_start += loop.time() - paused_at
            for ch in changes:
                self._publish(ch)
            n += 1
            if speed > 0:
                target = t_start + t_s / speed
                delay = target - loop.time()
                if delay > 0.0005:
                    await asyncio.sleep(delay)
                elif n % 64 == 0:
                    await asyncio.sleep(0)
            else:
                # as fast as the clients read: wait while a queue is long
                while any(len(c.queue) > 2000 for c in self._conns.values()):
                    await asyncio.sleep(0.0005)
                if n % 16 == 0:
                    await asyncio.sleep(0)
        self.finished.set()
        log.info("local venue: source exhausted after %d steps", n)

    def _publish(self, ch: _Change) -> None:
        tr = self.truth.get(ch.symbol)
        if tr is None:
            return
        if ch.bids or ch.asks:
            prev_id = tr.seq
            tr.seq += int(self._rng.integers(1, 4))
            tr.apply(ch.bids, ch.asks)
            self.stats["updates"] += 1
            if not tr.announced:
                # first data of an instrument of a recording: subscribers get a snapshot
                tr.announced = True
                for c in self._conns.values():
                    if ("books", ch.symbol) in c.subs:
                        c.put(self._snapshot_frame(tr), "snap", ch.symbol)
                    for k, sym in list(c.subs):
                        if sym == ch.symbol and k.startswith("ob"):
                            self._bybit_subscribe(c, tr, int(k[2:]), resend=True)
                return
            ts = str(time.time_ns() // 1_000_000)
            books_frame: str | None = None
            b5: str | None = None
            gq: str | None = None
            bn: dict[str, str] = {}  # Binance frames by stream name
            ticker: str | bool | None = False  # False: not computed yet, None: top unchanged
            by: dict[int, str | None] = {}  # Bybit deltas by depth (None: view unchanged)
            for c in self._conns.values():
                if c.kind == "binance":
                    key = ("depth", ch.symbol)
                    if key in c.subs:
                        name = c.names[key]
                        fr = bn.get(name)
                        if fr is None:
                            fr = bn[name] = self._binance_depth_frame(tr, ch, name, prev_id)
                        c.put(fr, "data", ch.symbol, tr.seq)
                    key = ("bookTicker", ch.symbol)
                    if key in c.subs:
                        if ticker is False:
                            ticker = self._binance_ticker(tr)
                        if isinstance(ticker, str):
                            name = c.names[key]
                            fr = bn.get(name)
                            if fr is None:
                                fr = bn[name] = orjson.dumps(
                                    {"stream": name, "data": orjson.Fragment(ticker)}).decode()
                            c.put(fr, "ctl", ch.symbol)
                    continue
                if c.kind == "bybit":
                    for depth in self._bybit_depths(c, ch.symbol):
                        if depth not in by:
                            by[depth] = self._bybit_delta_frame(tr, depth, ts)
                        fr2 = by[depth]
                        if fr2 is not None:
                            c.put(fr2, "data", ch.symbol)
                    continue
                if c.kind == "goquant":
                    if c.subs and ("gq", ch.symbol) in c.subs:
                        if gq is None:
                            gq = self._goquant_frame(tr)
                        c.put(gq, "gq", ch.symbol)
                    continue
                if ("books", ch.symbol) in c.subs:
                    if books_frame is None:
                        books_frame = self._update_frame(tr, ch, ts, prev_id)
                    c.put(books_frame, "data", ch.symbol)
                if ("books5", ch.symbol) in c.subs:
                    if b5 is None:
                        b5 = self._books5_frame(tr, ts)
                    c.put(b5, "ctl", ch.symbol)
        if ch.trades:
            ts = str(time.time_ns() // 1_000_000)
            data = []
            for px, sz, side in ch.trades:
                tr.trade_id += 1
                data.append({"instId": ch.symbol, "tradeId": str(tr.trade_id), "px": px,
                             "sz": sz, "side": side, "ts": ts})
            frame: str | None = None
            for c in self._conns.values():
                if c.kind == "binance":
                    key = ("trade", ch.symbol)
                    if key in c.subs:
                        self._binance_trades(c, c.names[key], data)
                    continue
                if c.kind == "bybit":
                    if ("pt", ch.symbol) in c.subs:
                        c.put(self._bybit_trades_frame(ch.symbol, data), "ctl", ch.symbol)
                    continue
                if ("trades", ch.symbol) in c.subs:
                    if frame is None:
                        frame = orjson.dumps({"arg": {"channel": "trades", "instId": ch.symbol},
                                              "data": data}).decode()
                    c.put(frame, "ctl", ch.symbol)
        self._check_queues()

    def _check_queues(self) -> None:
        for c in list(self._conns.values()):
            if len(c.queue) > self.max_queue:
                log.warning("local venue: closing connection %d, slow consumer (%d frames queued)",
                            c.id, len(c.queue))
                self.stats["slow_consumer_closed"] += 1
                c.queue.clear()
                c.put("", "close")

    # -- Binance frames ------------------------------------------------------------------------
    @staticmethod
    def _binance_depth_frame(tr: _Truth, ch: _Change, name: str, prev_id: int) -> str:
        """``depthUpdate``: ids ``prev_id+1 .. seq`` (``U``..``u``), ``pu`` = previous ``u``."""
        ms = time.time_ns() // 1_000_000
        return orjson.dumps({"stream": name, "data": {
            "e": "depthUpdate", "E": ms, "T": ms, "s": tr.symbol, "U": prev_id + 1, "u": tr.seq,
            "pu": prev_id, "b": [[p, q] for p, q in ch.bids],
            "a": [[p, q] for p, q in ch.asks]}}).decode()

    @staticmethod
    def _binance_ticker(tr: _Truth) -> str | None:
        """The bookTicker payload (JSON) if the top changed since the last one, else None."""
        b = tr.book.level_strings("bid", 1)
        a = tr.book.level_strings("ask", 1)
        if not (b and a):
            return None
        top = (b[0][0], b[0][1], a[0][0], a[0][1])
        if top == tr.last_top:
            return None
        tr.last_top = top
        return orjson.dumps({"u": tr.seq, "s": tr.symbol, "b": top[0], "B": top[1],
                             "a": top[2], "A": top[3]}).decode()

    @staticmethod
    def _binance_trades(c: _Conn, name: str, data: list[dict[str, str]]) -> None:
        ms = time.time_ns() // 1_000_000
        agg = name.endswith("@aggTrade")
        for t in data:
            d: dict[str, Any] = {"e": "aggTrade" if agg else "trade", "E": ms,
                                 "s": t["instId"], "p": t["px"], "q": t["sz"], "T": ms,
                                 "m": t["side"] == "sell"}
            d["a" if agg else "t"] = int(t["tradeId"])
            c.put(orjson.dumps({"stream": name, "data": d}).decode(), "ctl", t["instId"])

    def _rest_depth(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        """Answer ``GET /api/v3/depth`` or ``/fapi/v1/depth``: (HTTP status, JSON body)."""
        futures = path == BINANCE_REST_PATHS[1]
        sym_q = (query.get("symbol") or [""])[0]
        sym = self._symbol(sym_q)
        tr = self.truth.get(sym)
        if tr is None or not tr.announced:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        raw = (query.get("limit") or ["500" if futures else "100"])[0]
        try:
            limit = int(raw)
        except ValueError:
            limit = -1
        ok = limit in (5, 10, 20, 50, 100, 500, 1000) if futures else 1 <= limit <= 5000
        if not ok:
            return 400, {"code": -1100, "msg": f"Illegal characters found in parameter "
                                               f"'limit'; legal range is "
                         f"{'5,10,20,50,100,500,1000' if futures else '1..5000'}."}
        b, a = tr.sides(limit)
        body: dict[str, Any] = {"lastUpdateId": tr.seq, "bids": [[p, q] for p, q in b],
                                "asks": [[p, q] for p, q in a]}
        if futures:
            ms = time.time_ns() // 1_000_000
            body["E"] = ms
            body["T"] = ms
        # the socket chains of this symbol are whole again from this id on
        for c in self._conns.values():
            if c.kind == "binance" and ("depth", sym) in c.subs:
                c.intact[sym] = True
                c.snap_id[sym] = tr.seq
                c.gap_pending.discard(sym)
        self.stats["rest_snapshots"] += 1
        return 200, body

    async def _process_request(self, connection: Any, request: Any) -> Any:
        """Plain HTTP on the websocket port: the Binance REST depth snapshot."""
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(request.path)
        if parts.path not in BINANCE_REST_PATHS:
            return None
        if self.rest_delay_s > 0:
            await asyncio.sleep(self.rest_delay_s)
        status, body = self._rest_depth(parts.path, parse_qs(parts.query))
        resp = connection.respond(status, orjson.dumps(body).decode())
        del resp.headers["Content-Type"]
        resp.headers["Content-Type"] = "application/json"
        return resp

    # -- Bybit frames --------------------------------------------------------------------------
    @staticmethod
    def _bybit_depths(c: _Conn, sym: str) -> list[int]:
        return [int(k[2:]) for k, s in c.subs if s == sym and k.startswith("ob")]

    def _bybit_view(self, tr: _Truth, depth: int) -> _BybitView:
        v = tr.bybit.get(depth)
        if v is None:
            v = tr.bybit[depth] = _BybitView(depth, int(self._rng.integers(1_000, 100_000)),
                                             self.history)
            v.reset(tr)
        return v

    def _bybit_subscribe(self, c: _Conn, tr: _Truth, depth: int, resend: bool = False) -> None:
        """Subscribe ``c`` to ``orderbook.{depth}`` and queue its snapshot."""
        key = (f"ob{depth}", tr.symbol)
        others = any(key in o.subs for o in self._conns.values() if o is not c)
        c.subs.add(key)
        if not tr.announced:
            return  # a recording's instrument: the snapshot goes out with its first data
        v = self._bybit_view(tr, depth)
        if not others or resend:
            v.reset(tr)  # nobody kept the view current: start it again from the truth
        b, a = tr.sides(depth)
        ms = time.time_ns() // 1_000_000
        c.put(orjson.dumps({"topic": f"orderbook.{depth}.{tr.symbol}", "type": "snapshot",
                            "ts": ms, "data": {"s": tr.symbol, "b": [[p, q] for p, q in b],
                                               "a": [[p, q] for p, q in a], "u": v.u,
                                               "seq": tr.seq}, "cts": ms}).decode(),
              "snap", tr.symbol)
        self.stats["snapshots"] += 1

    def _bybit_delta_frame(self, tr: _Truth, depth: int, ts: str) -> str | None:
        v = self._bybit_view(tr, depth)
        ch = v.delta(tr)
        if ch is None:
            return None
        return orjson.dumps({"topic": f"orderbook.{depth}.{tr.symbol}", "type": "delta",
                             "ts": int(ts), "data": {
                                 "s": tr.symbol, "b": [[p, q] for p, q in ch[0]],
                                 "a": [[p, q] for p, q in ch[1]], "u": v.u, "seq": tr.seq},
                             "cts": int(ts)}).decode()

    @staticmethod
    def _bybit_trades_frame(sym: str, data: list[dict[str, str]]) -> str:
        ms = time.time_ns() // 1_000_000
        return orjson.dumps({"topic": f"publicTrade.{sym}", "type": "snapshot", "ts": ms,
                             "data": [{"T": ms, "s": sym, "S": "Sell" if t["side"] == "sell"
                                       else "Buy", "v": t["sz"], "p": t["px"],
                                       "i": t["tradeId"], "BT": False} for t in data]}).decode()

    @staticmethod
    def _lv(levels: list[_Str2]) -> list[list[str]]:
        return [[p, s, "0", "1"] for p, s in levels]

    def _update_frame(self, tr: _Truth, ch: _Change, ts: str, prev_id: int) -> str:
        cs = okx_checksum(tr.book.level_strings("bid", CHECKSUM_DEPTH),
                          tr.book.level_strings("ask", CHECKSUM_DEPTH))
        return orjson.dumps({
            "arg": {"channel": "books", "instId": tr.symbol}, "action": "update",
            "data": [{"asks": self._lv(ch.asks), "bids": self._lv(ch.bids), "ts": ts,
                      "checksum": cs, "seqId": tr.seq, "prevSeqId": prev_id}]}).decode()

    def _snapshot_frame(self, tr: _Truth) -> str:
        b, a = tr.sides()
        cs = okx_checksum(b[:CHECKSUM_DEPTH], a[:CHECKSUM_DEPTH])
        return orjson.dumps({
            "arg": {"channel": "books", "instId": tr.symbol}, "action": "snapshot",
            "data": [{"asks": self._lv(a), "bids": self._lv(b),
                      "ts": str(time.time_ns() // 1_000_000), "checksum": cs,
                      "seqId": tr.seq, "prevSeqId": -1}]}).decode()

    def _books5_frame(self, tr: _Truth, ts: str) -> str:
        b, a = tr.sides(5)
        return orjson.dumps({
            "arg": {"channel": "books5", "instId": tr.symbol},
            "data": [{"asks": self._lv(a), "bids": self._lv(b), "instId": tr.symbol,
                      "ts": ts, "seqId": tr.seq}]}).decode()

    def _goquant_frame(self, tr: _Truth) -> str:
        b, a = tr.sides(50)
        now = time.time_ns()
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now // 1_000_000_000))
        return orjson.dumps({"timestamp": f"{iso}.{now % 1_000_000_000 // 1000:06d}Z",
                             "exchange": "OKX", "symbol": tr.symbol,
                             "asks": [list(x) for x in a], "bids": [list(x) for x in b]}).decode()

    # -- connections --------------------------------------------------------------------------
    async def _handler(self, ws: Any) -> None:
        cid = next(self._cid)
        conn = _Conn(ws, cid, FaultInjector(self.fault_spec, self.seed + cid))
        conn.injector.enabled = self.faults_enabled
        path = ws.request.path if ws.request is not None else OKX_PATH
        self._conns[cid] = conn
        self.stats["connections"] += 1
        writer = asyncio.get_running_loop().create_task(self._writer(conn), name=f"venue-w{cid}")
        self._tasks.add(writer)
        try:
            if path.startswith(GOQUANT_PREFIX):
                conn.kind = "goquant"
                sym = path[len(GOQUANT_PREFIX):]
                tr = self.truth.get(sym)
                if tr is None:
                    await ws.close(code=1008, reason=f"unknown symbol {sym}")
                    return
                conn.subs.add(("gq", sym))
                conn.put(self._goquant_frame(tr), "gq", sym)
            elif path.startswith(BINANCE_STREAM_PATH):
                conn.kind = "binance"
                from urllib.parse import parse_qs, urlsplit

                names = (parse_qs(urlsplit(path).query).get("streams") or [""])[0]
                bad = self._binance_subscribe(conn, [n for n in names.split("/") if n])
                if bad:
                    await ws.close(code=1008, reason=f"invalid stream(s) {','.join(bad)}"[:120])
                    return
            elif path.startswith(BYBIT_PREFIX):
                conn.kind = "bybit"
            async for msg in ws:
                self._on_request(conn, msg)
        except Exception as e:  # a client's broken socket must not stop the venue
            log.debug("local venue: connection %d ended: %r", cid, e)
        finally:
            self._conns.pop(cid, None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
            self._tasks.discard(writer)
            for k, v in conn.injector.counts.items():
                self.stats[f"fault_{k}"] += v

    def _binance_subscribe(self, conn: _Conn, names: Sequence[str], sub: bool = True
                           ) -> list[str]:
        """(Un)subscribe Binance stream names; returns the names not understood."""
        bad = []
        for name in names:
            s_l, _, kind = name.partition("@")
            ch = kind.split("@", 1)[0]
            ok = ch in _BINANCE_CHANNELS and kind in ("depth", "depth@100ms", "depth@250ms",
                                                      "depth@500ms", "depth@1000ms", ch)
            sym = self._symbol(s_l)
            if not (ok and s_l and self._known(sym)):
                bad.append(name)
                continue
            key = ("trade" if ch == "aggTrade" else ch, sym)
            if sub:
                conn.subs.add(key)
                conn.names[key] = name
            else:
                conn.subs.discard(key)
        return bad

    def _on_binance(self, conn: _Conn, msg: str | bytes) -> None:
        """``{"method": "SUBSCRIBE"|"UNSUBSCRIBE"|"LIST_SUBSCRIPTIONS", "params", "id"}``."""
        try:
            req = orjson.loads(msg)
            method = req["method"]
            rid = req.get("id")
            params = req.get("params", [])
            if method not in ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS") or not (
                    isinstance(params, list) and all(isinstance(x, str) for x in params)):
                raise ValueError(method)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            conn.put(orjson.dumps({"error": {"code": 2, "msg": "Invalid request"},
                                   "id": None}).decode())
            return
        if method == "LIST_SUBSCRIPTIONS":
            conn.put(orjson.dumps({"result": sorted(conn.names[k] for k in conn.subs),
                                   "id": rid}).decode())
            return
        bad = self._binance_subscribe(conn, params, method == "SUBSCRIBE")
        if bad:
            conn.put(orjson.dumps({"error": {"code": 2, "msg": f"Invalid request: unknown "
                                             f"stream(s) {','.join(bad)}"}, "id": rid}).decode())
            return
        conn.put(orjson.dumps({"result": None, "id": rid}).decode())

    def _on_bybit(self, conn: _Conn, msg: str | bytes) -> None:
        """Bybit v5 public: ``{"op": "ping"|"subscribe"|"unsubscribe", "args", "req_id"}``."""
        cid = f"{conn.id:08x}-local"
        try:
            req = orjson.loads(msg)
            op = req["op"]
            rid = req.get("req_id", "")
            args = req.get("args", [])
            if not isinstance(args, list):
                raise ValueError(args)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            conn.put(orjson.dumps({"success": False, "ret_msg": f"error:invalid request "
                                   f"{str(msg)[:100]}", "conn_id": cid, "op": ""}).decode())
            return
        if op == "ping":
            self.stats["pings"] += 1
            conn.put(orjson.dumps({"success": True, "ret_msg": "pong", "conn_id": cid,
                                   "req_id": rid, "op": "ping"}).decode())
            return
        if op not in ("subscribe", "unsubscribe"):
            conn.put(orjson.dumps({"success": False, "ret_msg": f"error:unknown op {op!r}",
                                   "conn_id": cid, "req_id": rid, "op": op}).decode())
            return
        todo: list[tuple[str, str, int]] = []
        for t in args:
            parts = t.split(".") if isinstance(t, str) else []
            ok = False
            if len(parts) == 3 and parts[0] == "orderbook" and parts[1].isdigit():
                ok = int(parts[1]) in (1, 50, 200, 500, 1000)
            elif len(parts) == 2 and parts[0] == "publicTrade":
                ok = True
            sym = self._symbol(parts[-1]) if ok else ""
            if not (ok and self._known(sym)):
                conn.put(orjson.dumps({"success": False, "ret_msg": f"error:handler not found,"
                                       f"topic:{t}", "conn_id": cid, "req_id": rid,
                                       "op": op}).decode())
                return
            todo.append((parts[0], sym, int(parts[1]) if len(parts) == 3 else 0))
        conn.put(orjson.dumps({"success": True, "ret_msg": "", "conn_id": cid, "req_id": rid,
                               "op": op}).decode())
        for kind, sym, depth in todo:
            key = (f"ob{depth}", sym) if kind == "orderbook" else ("pt", sym)
            if op == "unsubscribe":
                conn.subs.discard(key)
            elif kind == "publicTrade":
                conn.subs.add(key)
            elif sym in self.truth:
                self._bybit_subscribe(conn, self.truth[sym], depth)
            else:
                conn.subs.add(key)  # a recording's instrument, announced with its first data

    def _on_request(self, conn: _Conn, msg: str | bytes) -> None:
        if conn.kind == "bybit":
            self._on_bybit(conn, msg)
            return
        if conn.kind == "binance":
            self._on_binance(conn, msg)
            return
        if msg == "ping" or msg == b"ping":
            self.stats["pings"] += 1
            conn.put("pong")
            return
        if conn.kind != "okx":
            return
        try:
            req = orjson.loads(msg)
            op = req["op"]
            args = req["args"]
            if op not in ("subscribe", "unsubscribe") or not isinstance(args, list) or not args:
                raise ValueError(op)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            conn.put(orjson.dumps({"event": "error", "code": "60012",
                                   "msg": f"Invalid request: {str(msg)[:200]}",
                                   "connId": f"{conn.id:08x}"}).decode())
            return
        for arg in args:
            ch = arg.get("channel") if isinstance(arg, dict) else None
            sym_any = arg.get("instId") if isinstance(arg, dict) else None
            sym: str = sym_any if isinstance(sym_any, str) else ""
            if ch not in _CHANNELS:
                conn.put(orjson.dumps({"event": "error", "code": "60012",
                                       "msg": f"Invalid request: channel {ch!r}",
                                       "connId": f"{conn.id:08x}"}).decode())
                continue
            tr = self.truth.get(sym)
            if tr is None and self._paths and sym and not self.finished.is_set():
                # a recording's instrument whose first data has not been replayed yet: the
                # snapshot goes out when it is
                conn.put(orjson.dumps({"event": op, "arg": {"channel": ch, "instId": sym},
                                       "connId": f"{conn.id:08x}"}).decode())
                if op == "subscribe":
                    conn.subs.add((ch, sym))
                else:
                    conn.subs.discard((ch, sym))
                continue
            if tr is None:
                conn.put(orjson.dumps({"event": "error", "code": "60018",
                                       "msg": f"Wrong URL or channel:{ch},instId:{sym} doesn't "
                                       "exist", "connId": f"{conn.id:08x}"}).decode())
                continue
            conn.put(orjson.dumps({"event": op, "arg": {"channel": ch, "instId": sym},
                                   "connId": f"{conn.id:08x}"}).decode())
            if op == "subscribe":
                conn.subs.add((ch, sym))
                if ch == "books":
                    conn.put(self._snapshot_frame(tr), "snap", sym)
                    self.stats["snapshots"] += 1
                elif ch == "books5":
                    conn.put(self._books5_frame(tr, str(time.time_ns() // 1_000_000)), "ctl",
                             sym)
            else:
                conn.subs.discard((ch, sym))

    async def _writer(self, conn: _Conn) -> None:
        ws = conn.ws
        inj = conn.injector
        q = conn.queue
        while True:
            if not q:
                conn.wake.clear()
                await conn.wake.wait()
                continue
            frame, kind, sym, seq = q.popleft()
            if kind == "close":
                await ws.close(code=1008, reason="slow consumer")
                return
            inj.enabled = self.faults_enabled
            fired = inj.decide(kind == "data") if inj.spec else ()
            hit: list[str] = []
            if fired:
                if "close" in fired:
                    log.info("fault: closing connection %d", conn.id)
                    await ws.close(code=1011, reason="injected fault: close")
                    return
                if "stall" in fired:
                    d = inj.stall_s()
                    log.info("fault: stalling connection %d for %.3f s", conn.id, d)
                    await asyncio.sleep(d)
                hit = [f for f in fired if f in DESTRUCTIVE
                       and not (f == "reorder" and conn.held is not None)]
                # (Binance: an update older than the last REST snapshot is harmless)
                if hit and conn.intact.get(sym, False) and seq > conn.snap_id.get(sym, -1):
                    conn.intact[sym] = False
                    # counted once a later update of the chain is written: the first moment a
                    # client can see it (a close or a snapshot first heals it unseen)
                    conn.gap_pending.add(sym)
                if "drop" in fired:
                    continue
                if "corrupt" in fired:
                    frame = corrupt_frame(frame, inj.rng)
                if "reorder" in fired and conn.held is None:
                    conn.held = (frame, sym)
                    continue
            if kind == "snap":
                conn.intact[sym] = True
                conn.gap_pending.discard(sym)
            await ws.send(frame)
            self.stats["frames_sent"] += 1
            if kind == "data" and not hit and sym in conn.gap_pending:
                conn.gap_pending.discard(sym)
                self.gaps_injected += 1
            if fired and "dup" in fired:
                await ws.send(frame)
                self.stats["frames_sent"] += 1
            if conn.held is not None and kind == "data" and conn.held[1] == sym:
                await ws.send(conn.held[0])
                conn.held = None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
