"""A local venue on loopback that speaks every registered venue's protocol, with seeded faults.

:class:`LocalVenue` is a ``websockets`` server (127.0.0.1 by default) that publishes one or
more instruments from

* a :class:`~tradesim_nb.sources.BookSource` (the random walk of
  :mod:`tradesim_nb.random_walk`, or the impact-aware market of :mod:`tradesim_nb.market`),
  stepped ``rate_hz`` times a second; or
* a recording (any venue whose feed rebuilds book states from it: the shipped recordings of
  :mod:`tradesim_nb.datasets`, recordings made by ``tradesim record``), replayed through the
  venue's feed at ``speed`` times real time (``speed=0``: as fast as the clients read).

It keeps one **true book** an instrument (:class:`~tradesim_nb.venues.dialect.TrueBook`) and
serves it in the protocol of each venue of :data:`tradesim_nb.venues.VENUES`: a connection's
URL path picks the venue's **dialect** (:mod:`tradesim_nb.venues.dialect`, one in each venue's
package), which answers its requests and turns every change of the truth into that venue's
frames, ids and checksums; a path no dialect claims gets the default one. :meth:`url_for`
gives the URL a client of a venue opens; plain HTTP on the same port goes to the dialect that
serves the path (a REST depth snapshot). This module does the I/O only and names no venue.

The venue knows its true book (:meth:`true_levels`, and :meth:`truth_at` for a past id when
``history`` > 0; :meth:`dialect` for what a client of one protocol must hold) so tests can
compare a client's book at every level.

Every instrument has a 24-hour ticker where its venue's protocol has one (OKX ``tickers``,
Binance ``<symbol>@ticker``, Bybit ``tickers.<symbol>``, Kraken ``ticker``), sent on
subscription and about once a second of market time; its volume is :meth:`LocalVenue.daily_volume`:
a book source's expected volume (``expected_volume_per_step()`` times the steps a second, times a
day), else, for a recording, the volume published so far scaled to a day once 60 s of it have
been replayed.

Faults (:mod:`tradesim_nb.live.faults`) act per connection on the frames the venue writes
(:mod:`tradesim_nb.live.connection`): ``drop``/``dup``/``reorder``/``corrupt`` on book updates
only (snapshots, acks and trades are left intact), ``stall``/``close`` on any frame.
``stats`` counts what fired, and ``gaps_injected`` the destructive faults that hit a
subscription whose chain was intact since its last snapshot, counted when a later update of
that chain is written (a close or a snapshot before it heals the chain unseen): each of these
must be detected by a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import orjson

from ..events import BookDelta, BookSnapshot, Trade
from ..instruments import Instrument
from ..recording import guess_venue, read_frames
from ..sources import BookSource
from ..venues.dialect import Change, Dialect, Levels, TrueBook
from ..venues.registry import DEFAULT_VENUE, VENUES, get_venue
from .connection import Connection, SlowConsumer
from .faults import FaultInjector, FaultSpec, parse_faults

__all__ = ["LocalVenue"]

log = logging.getLogger(__name__)


def _decimals(x: float) -> int:
    s = f"{x:.12f}".rstrip("0")
    return len(s.split(".")[1]) if "." in s else 0


class LocalVenue:
    """A local market-data venue: one true book an instrument, every registered protocol.

    Parameters
    ----------
    source : "synthetic", "market", BookSource, sequence of BookSource, or a recording path
        What to publish. ``"synthetic"`` is a :class:`~tradesim_nb.random_walk.RandomWalkBook`
        (its default instrument) seeded with ``seed``; ``"market"`` the impact-aware
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
        Venue of a recording (default: the recording header's, else guessed from its frames).
    history : int
        Updates a symbol kept to rebuild past true books (:meth:`truth_at`); 0 = off.
    max_queue : int
        Frames queued for one connection before it is closed as a slow consumer.
    allow_remote : bool
        Required to bind a non-loopback address.
    rest_delay_s : float
        Delay before each plain-HTTP answer (a REST snapshot; a slow venue, for tests), in
        [0, 60].
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
            from ..random_walk import RandomWalkBook

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
                try:
                    self.recording_venue = guess_venue(p)
                except ValueError:
                    self.recording_venue = DEFAULT_VENUE
        elif isinstance(source, Sequence) and source and all(
                isinstance(s, BookSource) for s in source):
            self._sources = list(source)
        else:
            raise ValueError(f"source={source!r} must be 'synthetic', 'market', a BookSource, "
                             "a list of them or a recording path")
        self.truth: dict[str, TrueBook] = {}
        self.stats: Counter[str] = Counter()
        # one dialect instance per protocol class, in registry order; the fallback last
        by_cls: dict[type[Dialect], Dialect] = {}
        self._dialect_of: dict[str, Dialect] = {}
        for name in VENUES:
            cls = VENUES[name].dialect
            d = by_cls.get(cls)
            if d is None:
                d = by_cls[cls] = cls(self)
            self._dialect_of[name] = d
        self._dialects = sorted(by_cls.values(), key=lambda d: d.fallback)
        self._conns: dict[int, Connection] = {}
        self._conns_of: dict[Dialect, dict[int, Connection]] = {d: {} for d in self._dialects}
        self._cid = itertools.count(1)
        self._server: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running = asyncio.Event()
        self._running.set()
        self.finished = asyncio.Event()
        self.faults_enabled = True
        #: traded volume (venue units) of each instrument and the market time of the first
        #: and last trade published, for the recording's daily volume
        self._traded: dict[str, list[float]] = {}
        self._t_s = 0.0
        self._next_ticker_s = 0.0
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

    # -- URLs and protocols ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``ws://127.0.0.1:PORT``: every protocol is a path below it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT``: base of plain-HTTP requests (REST snapshots)."""
        return "http" + self.base_url[2:]

    @property
    def url(self) -> str:
        """The URL of the default protocol (:data:`~tradesim_nb.venues.DEFAULT_VENUE`'s)."""
        return self.url_for(DEFAULT_VENUE)

    def dialect(self, venue: str) -> Dialect:
        """The dialect serving ``venue`` here (its own helpers: the ids and views a client
        of that protocol sees, a service restart, ...)."""
        return self._dialect_of[get_venue(venue).name]

    def url_for(self, venue: str, symbols: str | Sequence[str] = (), **kwargs: Any) -> str:
        """The URL a client of ``venue`` for ``symbols`` opens here (``kwargs`` go to the
        dialect: ``depth_ms`` of Binance streams, ``category`` of Bybit)."""
        syms = [symbols] if isinstance(symbols, str) else list(symbols)
        return self.dialect(venue).url(self.base_url, syms, **kwargs)

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

    @property
    def gaps_injected(self) -> int:
        """Broken update chains a client could see (see the module docstring)."""
        return self.stats["gaps_injected"]

    def pause(self) -> None:
        """Stop publishing updates (connections stay open) until :meth:`resume`; may be
        called before :meth:`start` to let clients subscribe before a replay begins."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def true_levels(self, symbol: str) -> tuple[Levels, Levels]:
        """The venue's current true book, best first, as ``(price_str, size_str)``."""
        return self.truth[symbol].sides()

    def seq(self, symbol: str) -> int:
        return self.truth[symbol].seq

    def truth_at(self, symbol: str, seq: int) -> tuple[dict[str, str], dict[str, str]] | None:
        """The true book just after update ``seq`` as ``({px: sz} bids, {px: sz} asks)``, or
        None when ``seq`` is older than the kept history (needs ``history`` > 0)."""
        return self.truth[symbol].at(seq)

    # -- what a dialect reads (tradesim_nb.venues.dialect.Host) ------------------------------
    def symbol_for(self, name: str) -> str:
        """The truth symbol a stream name means (case-insensitive), else ``name`` upper."""
        up = name.upper()
        for s in self.truth:
            if s.upper() == up:
                return s
        return up

    @property
    def awaiting_recording(self) -> bool:
        """A recording is being replayed and may still announce instruments."""
        return bool(self._paths and not self.finished.is_set())

    def known(self, symbol: str) -> bool:
        """A symbol with a truth, or one a recording may still announce."""
        return symbol in self.truth or self.awaiting_recording

    def new_id(self) -> int:
        """A fresh starting id in [1000, 100000) from the venue's seeded generator."""
        return int(self._rng.integers(1_000, 100_000))

    #: market time a recording must have traded before its volume is scaled to a day
    MIN_VOLUME_SPAN_S = 60.0

    def daily_volume(self, symbol: str) -> float:
        """Base units a day this venue trades in ``symbol`` (what its 24-hour ticker reports).

        A book source that states its expected volume a step (``expected_volume_per_step``)
        gives that times ``rate_hz`` times 86,400 s; a recording gives the volume published
        so far over the market time it spans, times 86,400 s, once it spans
        :attr:`MIN_VOLUME_SPAN_S`; NaN otherwise. Venue size units are converted to base at the
        current mid.
        """
        tr = self.truth.get(symbol)
        if tr is None:
            return float("nan")
        src = next((s for s in self._sources if s.instrument.symbol == symbol), None)
        per_step = getattr(src, "expected_volume_per_step", None)
        if per_step is not None:
            vol = float(per_step()) * self.rate_hz * 86_400.0
        else:
            t = self._traded.get(symbol)
            if t is None or t[2] - t[1] < self.MIN_VOLUME_SPAN_S:
                return float("nan")
            vol = t[0] / (t[2] - t[1]) * 86_400.0
        inst = tr.instrument
        mid = tr.book.mid
        if inst is None:
            return vol
        if not mid > 0:
            return float("nan")
        return inst.to_base(vol, mid)

    def subscribers(self, dialect: Dialect) -> list[Connection]:
        """The open connections ``dialect`` serves."""
        return list(self._conns_of[dialect].values())

    # -- sources ------------------------------------------------------------------------------
    def _fmt(self, inst: Instrument) -> tuple[str, str]:
        return f"{{:.{inst.price_decimals}f}}", f"{{:.{_decimals(inst.lot_size)}f}}"

    def _init_source_truth(self, s: BookSource) -> None:
        inst = s.instrument
        pf, sf = self._fmt(inst)
        b, a = s.snapshot()
        tr = TrueBook(inst.symbol, inst, self.history)
        tr.apply([(pf.format(p), sf.format(q)) for p, q in b],
                 [(pf.format(p), sf.format(q)) for p, q in a])
        tr.seq = int(self._rng.integers(1_000, 100_000))
        self.truth[inst.symbol] = tr

    def _source_changes(self) -> Iterator[tuple[float, list[Change]]]:
        """Book sources: one step of each source per tick; yields (t_s, changes)."""
        fmts = [self._fmt(s.instrument) for s in self._sources]
        dt = 1.0 / self.rate_hz
        for k in itertools.count():
            out: list[Change] = []
            for s, (pf, sf) in zip(self._sources, fmts):
                st = s.step()
                out.append(Change(
                    s.instrument.symbol,
                    [(pf.format(p), sf.format(q)) for p, q in st.bids],
                    [(pf.format(p), sf.format(q)) for p, q in st.asks],
                    [(pf.format(p), sf.format(q), side) for p, q, side in st.trades]))
            yield k * dt, out

    def _recording_changes(self) -> Iterator[tuple[float, list[Change]]]:
        """A recording through its venue's feed; yields (t_s since first frame, changes)."""
        venue = self.recording_venue or DEFAULT_VENUE
        while True:
            feed = get_venue(venue).new_feed()
            t0: int | None = None
            applied: dict[str, int] = {}  # book.updates of each instrument after the last frame
            for recv_ns, events, _sym in feed.replay(read_frames(*self._paths)):
                if t0 is None:
                    t0 = recv_ns
                out: list[Change] = []
                books: dict[str, list[Any]] = {}
                for ev in events:
                    t = type(ev)
                    if t is Trade:
                        out.append(Change(ev.symbol, [], [], [  # type: ignore[union-attr]
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
                        tr = TrueBook(sym, book.instrument, self.history)
                        tr.announced = False
                        tr.seq = int(self._rng.integers(1_000, 100_000))
                        self.truth[sym] = tr
                    ev = evs[0]
                    if n == 1 and len(evs) == 1 and type(ev) is BookDelta:
                        out.append(Change(sym, [(lv[0], lv[1]) for lv in ev.bids],
                                           [(lv[0], lv[1]) for lv in ev.asks]))
                    else:
                        b, a = tr.replace(book.level_strings("bid", book.n_bids),
                                          book.level_strings("ask", book.n_asks))
                        out.append(Change(sym, b, a))
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
            self._t_s = t_s
            for ch in changes:
                self._publish(ch)
            if t_s >= self._next_ticker_s:
                self._publish_tickers()
                self._next_ticker_s = t_s + 1.0
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

    def _publish(self, ch: Change) -> None:
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
                for d, conns in self._conns_of.items():
                    if conns:
                        d.announce(tr, list(conns.values()))
                return
            ts = str(time.time_ns() // 1_000_000)
            for d, conns in self._conns_of.items():
                if conns:
                    d.update(tr, ch, prev_id, ts, list(conns.values()))
        if ch.trades:
            ts = str(time.time_ns() // 1_000_000)
            data = []
            acc = self._traded.get(ch.symbol)
            if acc is None:
                acc = self._traded[ch.symbol] = [0.0, self._t_s, self._t_s]
            for _, sz, _ in ch.trades:
                acc[0] += float(sz)
            acc[2] = self._t_s
            for px, sz, side in ch.trades:
                tr.trade_id += 1
                data.append({"instId": ch.symbol, "tradeId": str(tr.trade_id), "px": px,
                             "sz": sz, "side": side, "ts": ts})
            for d, conns in self._conns_of.items():
                if conns:
                    d.trades(tr, data, list(conns.values()))
        self._check_queues()

    def _publish_tickers(self) -> None:
        """Each instrument's 24-hour ticker, where its daily volume is known."""
        for sym, tr in self.truth.items():
            if not tr.announced:
                continue
            vol = self.daily_volume(sym)
            if not (vol > 0 and vol < float("inf")):
                continue
            for d, conns in self._conns_of.items():
                if conns:
                    d.ticker_24h(tr, vol, list(conns.values()))

    def _check_queues(self) -> None:
        # (each connection's put closes it at the cap; this catches a cap lowered later)
        for c in list(self._conns.values()):
            if len(c.queue) > self.max_queue and not c.closing:
                log.warning("local venue: closing connection %d, slow consumer (%d frames queued)",
                            c.id, len(c.queue))
                self.stats["slow_consumer_closed"] += 1
                c.close_slow()

    # -- connections --------------------------------------------------------------------------
    def _route(self, path: str) -> Dialect:
        """The dialect whose path prefix matches best (the fallback when none does)."""
        best: Dialect | None = None
        n = -1
        for d in self._dialects:
            for p in d.paths:
                if path.startswith(p) and len(p) > n:
                    best, n = d, len(p)
        if best is None:
            best = next(d for d in self._dialects if d.fallback)
        return best

    async def _handler(self, ws: Any) -> None:
        cid = next(self._cid)
        path = ws.request.path if ws.request is not None else ""
        dialect = self._route(path)
        conn = Connection(ws, cid, FaultInjector(self.fault_spec, self.seed + cid), dialect,
                          self.stats, self.max_queue)
        conn.injector.enabled = self.faults_enabled
        self._conns[cid] = conn
        self._conns_of[dialect][cid] = conn
        self.stats["connections"] += 1
        writer = asyncio.get_running_loop().create_task(
            conn.write(lambda: self.faults_enabled), name=f"venue-w{cid}")
        self._tasks.add(writer)
        try:
            refused = dialect.open(conn, path)
            if refused is not None:
                await ws.close(code=1008, reason=refused)
                return
            async for msg in ws:
                conn.in_request = True
                try:
                    dialect.request(conn, msg)
                except SlowConsumer as e:
                    log.info("local venue: %s", e)
                    break  # the writer sends the close; nothing more of this client is read
                finally:
                    conn.in_request = False
        except Exception as e:  # a client's broken socket must not stop the venue
            log.debug("local venue: connection %d ended: %r", cid, e)
        finally:
            self._conns.pop(cid, None)
            self._conns_of[dialect].pop(cid, None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
            self._tasks.discard(writer)
            for k, v in conn.injector.counts.items():
                self.stats[f"fault_{k}"] += v

    async def _process_request(self, connection: Any, request: Any) -> Any:
        """Plain HTTP on the websocket port, answered by the dialect that serves the path."""
        parts = urlsplit(request.path)
        for d in self._dialects:
            if parts.path in d.http_paths:
                break
        else:
            return None
        if self.rest_delay_s > 0:
            await asyncio.sleep(self.rest_delay_s)
        ans = d.http(parts.path, parse_qs(parts.query))
        if ans is None:
            return None
        status, body = ans
        resp = connection.respond(status, orjson.dumps(body).decode())
        del resp.headers["Content-Type"]
        resp.headers["Content-Type"] = "application/json"
        return resp


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
