"""A local venue on loopback: OKX v5 public and the GoQuant relay, with seeded faults.

:class:`LocalVenue` is a ``websockets`` server (127.0.0.1 by default) that publishes one or
more instruments from

* a :class:`~tradesim_nb.sources.BookSource` (the random walk of
  :mod:`tradesim_nb.live.synthetic`, or the impact-aware market), stepped ``rate_hz`` times a
  second; or
* a recording (any venue whose feed rebuilds book states from it: the OKX v5 log in the shared
  data, recordings made by ``tradesim record``, Binance, GoQuant), replayed at ``speed`` times
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

The venue knows its **true book** (:meth:`true_levels`, and :meth:`truth_at` for a past
``seqId`` when ``history`` > 0) so tests can compare a client's book at every level.

Faults (:mod:`tradesim_nb.live.faults`) act per connection on the frames the venue writes:
``drop``/``dup``/``reorder``/``corrupt`` on book updates only (snapshots, acks and trades are
left intact), ``stall``/``close`` on any frame. ``stats`` counts what fired, and
``gaps_injected`` the destructive faults (drop, reorder, corrupt) that hit a subscription whose
chain was intact since its last snapshot: each of these must be detected by a client.
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

__all__ = ["OKX_PATH", "LocalVenue"]

log = logging.getLogger(__name__)

OKX_PATH = "/ws/v5/public"
GOQUANT_PREFIX = "/ws/l2-orderbook/okx/"
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


class _Conn:
    __slots__ = ("held", "id", "injector", "intact", "kind", "queue", "subs", "wake", "ws")

    def __init__(self, ws: Any, cid: int, injector: FaultInjector) -> None:
        self.ws = ws
        self.id = cid
        self.injector = injector
        self.queue: deque[tuple[str, str, str]] = deque()  # (frame, kind, symbol)
        self.wake = asyncio.Event()
        self.subs: set[tuple[str, str]] = set()  # (channel, symbol)
        self.intact: dict[str, bool] = {}
        self.held: tuple[str, str] | None = None
        self.kind = "okx"

    def put(self, frame: str, kind: str = "ctl", symbol: str = "") -> None:
        self.queue.append((frame, kind, symbol))
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
    """

    def __init__(self, source: Any = "synthetic", *, host: str = "127.0.0.1", port: int = 0,
                 rate_hz: float = 1000.0, speed: float = 1.0, loop: bool = False,
                 faults: str | FaultSpec | None = None, seed: int = 0, venue: str | None = None,
                 history: int = 0, max_queue: int = 50_000,
                 allow_remote: bool = False) -> None:
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
                                   ping_interval=None, compression=None)
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
            for recv_ns, frame in read_frames(*self._paths):
                if t0 is None:
                    t0 = recv_ns
                try:
                    events = feed.parse(frame, recv_ns)
                except ValueError:
                    continue
                out: list[_Change] = []
                for ev in events:
                    t = type(ev)
                    if t is Trade:
                        out.append(_Change(ev.symbol, [], [], [  # type: ignore[union-attr]
                            (repr(ev.price), repr(ev.qty), ev.side)]))  # type: ignore[union-attr]
                        feed.on_event(ev)
                        continue
                    if t is not BookDelta and t is not BookSnapshot:
                        feed.on_event(ev)
                        continue
                    sym = ev.symbol  # type: ignore[union-attr]
                    book = feed.book(sym)
                    before = book.updates
                    try:
                        feed.on_event(ev)
                    except (ValueError, TypeError, IndexError):
                        continue
                    n = book.updates - before
                    if n <= 0 or book.stale:
                        continue
                    tr = self.truth.get(sym)
                    if tr is None:
                        tr = _Truth(sym, book.instrument, self.history)
                        tr.announced = False
                        tr.seq = int(self._rng.integers(1_000, 100_000))
                        self.truth[sym] = tr
                    if t is BookDelta and n == 1:
                        out.append(_Change(sym, [(lv[0], lv[1]) for lv in ev.bids],  # type: ignore[union-attr]
                                           [(lv[0], lv[1]) for lv in ev.asks]))  # type: ignore[union-attr]
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
                return
            ts = str(time.time_ns() // 1_000_000)
            books_frame: str | None = None
            b5: str | None = None
            gq: str | None = None
            for c in self._conns.values():
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

    def _on_request(self, conn: _Conn, msg: str | bytes) -> None:
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
            frame, kind, sym = q.popleft()
            if kind == "close":
                await ws.close(code=1008, reason="slow consumer")
                return
            inj.enabled = self.faults_enabled
            fired = inj.decide(kind == "data") if inj.spec else ()
            if fired:
                if "close" in fired:
                    log.info("fault: closing connection %d", conn.id)
                    await ws.close(code=1011, reason="injected fault: close")
                    return
                if "stall" in fired:
                    d = inj.stall_s()
                    log.info("fault: stalling connection %d for %.3f s", conn.id, d)
                    await asyncio.sleep(d)
                hit = [f for f in fired if f in DESTRUCTIVE]
                if hit and conn.intact.get(sym, False):
                    conn.intact[sym] = False
                    self.gaps_injected += 1
                if "drop" in fired:
                    continue
                if "corrupt" in fired:
                    frame = corrupt_frame(frame, inj.rng)
                if "reorder" in fired and conn.held is None:
                    conn.held = (frame, sym)
                    continue
            if kind == "snap":
                conn.intact[sym] = True
            await ws.send(frame)
            self.stats["frames_sent"] += 1
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
