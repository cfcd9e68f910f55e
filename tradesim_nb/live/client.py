"""The live order-book client: asyncio tasks on the loop that is already running.

:class:`BookClient` keeps one :class:`~tradesim_nb.book.OrderBook` per instrument current from a
venue's websocket. It borrows the running event loop (a notebook kernel's, or the one of
``asyncio.run`` in a script) and never owns it; every task it creates is kept in
``client.tasks`` and cancelled and awaited by :meth:`BookClient.stop` (or ``async with``).

In a notebook::

    import tradesim_nb.live as live
    client = await live.connect("okx", "BTC-USDT-SWAP", source="auto")   # returns at once
    client.book, client.status, client.metrics                           # in later cells
    await client.stop()

or, from a cell that does not await, ``client = live.start("okx", "BTC-USDT-SWAP")`` (its
tasks are scheduled on the running loop and run between cells).

The client names no venue. It looks the venue up in the registry
(:data:`tradesim_nb.venues.VENUES`) and asks its descriptor for everything venue-specific:
the feed (parser, sequencing, checksum: :class:`~tradesim_nb.feed.VenueFeed`, the one frame
loop) and the client protocol (:class:`~tradesim_nb.venues.protocol.ClientProtocol`: URLs,
subscribe and unsubscribe, which keepalive, how to resync). It does the I/O: the socket,
keepalive timing, backoff, the watchdog, REST snapshots beside the socket
(:mod:`tradesim_nb.live.rest`), recording, consumers.

Robustness
----------
* keepalive: the protocol's text keepalive (or a websocket ping frame) when the socket has
  been quiet for ``keepalive_s / 2``, or every ``keepalive_s / 2`` whatever arrives where the
  venue asks for that; a socket that stays silent for ``keepalive_s`` is dead: its books are
  not valid from that moment and the client reconnects;
* watchdog: no frame for ``silence_timeout_s`` closes the socket and reconnects;
* a lost connection makes every book not valid at once (until the next connection's
  snapshots), and so does a book whose venue time falls more than ``config.max_lag_s`` behind
  the local clock (the staleness bound; :attr:`BookClient.metrics` has the lag and the age);
* reconnect with capped exponential backoff and jitter, attempt :math:`k = 0, 1, \\dots`:

  .. math::

      d_k = \\min(d_{max},\\, d_0 2^k)\\,(1 + j\\,u_k),\\qquad u_k \\sim U(-1, 1),

  reset to :math:`k = 0` only after a session that delivered valid books and lasted
  ``config.backoff_reset_s`` (a venue that drops every connection sees the delay grow to
  :math:`d_{max}`); every subscription is sent again on the new socket;
* resyncs are rate-limited: at most one request a symbol per ``config.resync_min_interval_s``
  (the others are counted in ``resyncs_limited`` and sent when the interval ends);
* latency is measured from the moment a frame is read off the socket (not when the loop
  gets to it), so a backlog shows in the latency ring;
* a sequence gap or checksum failure marks the book stale (``book.valid`` is False, and
  :meth:`BookClient.snapshot` refuses it); the client resyncs as the protocol says (messages
  on the socket that make the venue send a fresh snapshot, a REST snapshot fetched beside the
  socket, or a reconnect); a resync not answered within ``resync_timeout_s`` reconnects. A
  reconnect also marks every book stale until its snapshot (:meth:`VenueFeed.reset`).

Consumers: :meth:`BookClient.on_update` callbacks ``fn(book, events, recv_ns)`` run on the loop
thread after each frame that carried market data (their time is the *estimate* stage of the
latency ring), and :meth:`BookClient.events` async iterators with a bounded queue that drops
the oldest events (counted) so a slow consumer never stalls parsing.

References
----------
AWS Architecture Blog, "Exponential Backoff And Jitter" (M. Brooker, 2015). Each venue's
protocol module cites its venue's documentation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from ..book import OrderBook
from ..events import BookSnapshot, Event, FeedStatus
from ..feed import VenueFeed
from ..metrics import LatencyRing
from ..recording import RecordingWriter
from ..venues.protocol import ClientProtocol
from ..venues.registry import get_venue
from .config import ClientConfig
from .consumers import DropPolicy, EventStream, UpdateCallback
from .rest import RestSnapshots

__all__ = ["BookClient", "ClientConfig", "ClientStatus", "EventStream", "StaleBookError",
           "connect", "start"]

log = logging.getLogger(__name__)

ClientStatus = Literal["idle", "connecting", "syncing", "live", "stale", "reconnecting",
                       "stopped"]


class StaleBookError(RuntimeError):
    """The book asked for is stale, crossed or empty: it must not be used as fresh."""


def check_ws_url(url: str, name: str = "source") -> str:
    """``url`` if it is a ``ws://``/``wss://`` URL with a host and a port in [1, 65535] (when
    given), else ``ValueError`` naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"{name}={url!r} must be a ws:// or wss:// URL with a host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{name}={url!r}: the port must be an integer in [1, 65535]") from None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"{name}={url!r}: the port must be an integer in [1, 65535]")
    return url


def _stamped_connection() -> Any:
    """A websockets client connection that notes when each message was read off the socket
    (``perf_counter_ns``, ``time_ns``), so latency is measured from receive, not from when
    the loop gets to the message."""
    from websockets.asyncio.client import ClientConnection
    from websockets.frames import Frame, Opcode

    data = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)

    class StampedConnection(ClientConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.stamps: deque[tuple[int, int]] = deque()

        def process_event(self, event: Any) -> None:
            if (self.response is not None and type(event) is Frame and event.fin
                    and event.opcode in data):
                self.stamps.append((time.perf_counter_ns(), time.time_ns()))
            super().process_event(event)

    return StampedConnection


# -- the client --------------------------------------------------------------------------------
class BookClient:
    """Live L2 books of one venue, kept current by tasks on the running event loop.

    Parameters
    ----------
    venue : str
        A name of :data:`tradesim_nb.venues.VENUES` (or an alias): its descriptor gives the
        protocol and the feed.
    symbols : str or sequence of str
        Instrument ids (``"BTC-USDT-SWAP"``). A venue with one socket an instrument (the
        protocol's ``per_symbol_socket``) takes one.
    source : str
        ``"live"`` (the venue's public URL), ``"auto"`` (live if it answers within
        ``config.auto_timeout_s``, else a :class:`~tradesim_nb.live.server.LocalVenue` started on
        127.0.0.1, said in the log and in :attr:`source`), ``"local"`` (a local venue), or a
        ``ws://``/``wss://`` URL.
    live_url : str, optional
        Override of the venue's public URL (tests point it at a closed local port).
    channels : sequence of str
        Channels where the venue's protocol offers a choice (default ``("books",)``; on OKX
        ``"trades"`` adds trades; see each venue's protocol module).
    record : path, optional
        Write every raw frame with its receive time to this ``.jsonl.gz`` while live.
    config : ClientConfig
    local_venue : dict, optional
        Keyword arguments of the local venue started by ``"auto"``/``"local"``.
    seed : int, optional
        Seeds the backoff jitter.
    rest_url : str, optional
        Venues that sync over REST: base of the REST depth snapshot. Default: the venue's own
        for its live URL, else ``http(s)://host:port`` of the socket URL (the local venue
        answers REST on its websocket port).
    """

    def __init__(self, venue: str, symbols: str | Sequence[str], *, source: str = "live",
                 live_url: str | None = None, channels: Sequence[str] = ("books",),
                 record: str | os.PathLike[str] | None = None, config: ClientConfig | None = None,
                 local_venue: dict[str, Any] | None = None, feed: VenueFeed | None = None,
                 seed: int | None = None, rest_url: str | None = None) -> None:
        syms = [symbols] if isinstance(symbols, str) else list(symbols)
        if not syms or not all(isinstance(s, str) and s for s in syms):
            raise ValueError(f"symbols={symbols!r} must be a non-empty instrument id or list")
        desc = get_venue(venue)
        venue = desc.name
        self.protocol: ClientProtocol = desc.new_protocol(channels)
        if self.protocol.per_symbol_socket and len(syms) != 1:
            raise ValueError(f"symbols={syms!r}: venue {venue!r} takes one instrument a client")
        if not isinstance(source, str) or not (
                source in ("live", "auto", "local") or source.startswith(("ws://", "wss://"))):
            raise ValueError(f"source={source!r} must be 'live', 'auto', 'local' or a ws:// or "
                             "wss:// URL")
        if rest_url is not None and not (isinstance(rest_url, str)
                                         and rest_url.startswith(("http://", "https://"))):
            raise ValueError(f"rest_url={rest_url!r} must be an http:// or https:// URL")
        if source.startswith(("ws://", "wss://")):
            check_ws_url(source)
        if live_url is not None:
            check_ws_url(live_url, "live_url")
        self.venue = venue
        self.symbols = syms
        self.rest_url = rest_url
        self.requested_source = source
        self.source = source
        self.live_url = live_url or self.protocol.live_url(syms)
        self.url: str | None = source if source.startswith(("ws://", "wss://")) else None
        self.config = config or ClientConfig()
        self.feed: VenueFeed = feed or desc.new_feed()
        self.feed.stamp_stages = True  # parsed / applied stamps for the latency ring
        # the staleness bound, measured against the local clock when an update is applied
        self.feed.max_lag_s = self.config.max_lag_s
        self.feed.clock = time.time_ns
        for s in syms:
            self.feed.book(s)
            if self.protocol.rest_snapshots:
                self.rest_snapshot_url(s)  # a bad config.rest_limit raises here, not in a task
        self.record_path = Path(record) if record is not None else None
        self.recorder: RecordingWriter | None = None
        self._local_kwargs = dict(local_venue or {})
        self.local_venue: Any = None
        self._rng = random.Random(seed)
        self.latency = LatencyRing(self.config.latency_capacity)
        self.tasks: set[asyncio.Task[Any]] = set()
        self._callbacks: list[UpdateCallback] = []
        self._streams: list[EventStream] = []
        self._ws: Any = None
        self._state: ClientStatus = "idle"
        self._stopping = False
        self._main: asyncio.Task[Any] | None = None
        self._synced = asyncio.Event()
        self._resync_pending: dict[str, float] = {}
        self._synced_once: set[str] = set()
        self._last_resync: dict[str, float] = {}
        self._resync_waiting: set[str] = set()
        self._warned = 0
        self._last_recv = time.monotonic()
        self._last_send = time.monotonic()
        self._last_ping = time.monotonic()
        self.rest = RestSnapshots(self)
        self.loop: asyncio.AbstractEventLoop | None = None
        # counters
        self.frames = 0
        self.market_frames = 0
        self.callback_errors = 0
        self.gaps_detected = 0
        self.checksum_failures = 0
        self.stale_episodes = 0
        self.resync_requests = 0
        self.reconnects = 0
        self.sessions = 0
        self.watchdog_closes = 0
        self.resyncs_limited = 0
        self.last_close_reason = ""
        #: why the client stopped on its own (a source that cannot work), else None
        self.error: str | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start_nowait(self) -> BookClient:
        """Schedule the client's tasks on the running loop and return at once."""
        loop = asyncio.get_running_loop()
        if self._main is not None:
            return self
        self.loop = loop
        self._stopping = False
        self._synced = asyncio.Event()
        if self.record_path is not None and not self.record_path.parent.is_dir():
            raise ValueError(f"record={str(self.record_path)!r}: the folder "
                             f"{str(self.record_path.parent)!r} does not exist")
        self._main = self._spawn(self._run(), "book-client")
        return self

    async def start(self, wait_snapshot_s: float | None = 2.0) -> BookClient:
        """Start and, if ``wait_snapshot_s``, wait that long at most for every book to be valid.

        Returns the client either way (check :attr:`status`).
        """
        self.start_nowait()
        if wait_snapshot_s:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._synced.wait(), wait_snapshot_s
                                       + (self.config.auto_timeout_s
                                          if self.requested_source == "auto" else 0.0))
        return self

    async def wait_synced(self, timeout_s: float = 10.0) -> bool:
        """Wait until every book is valid (True) or ``timeout_s`` passes (False)."""
        deadline = time.monotonic() + timeout_s
        while not self.all_valid:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._synced.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._synced.wait(), min(left, 0.05))
        return True

    async def stop(self) -> None:
        """Cancel and await every task this client created; close the socket, recorder and any
        local venue it started."""
        self._stopping = True
        for st in list(self._streams):
            st.close()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)
        tasks = [t for t in self.tasks if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self.tasks.clear()
        self._main = None
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.transport.abort()
        self._ws = None
        if self.recorder is not None:
            self.recorder.close()
        if self.local_venue is not None:
            await self.local_venue.stop()
            self.local_venue = None
        self._state = "stopped"
        log.info("client %s %s stopped after %d frames", self.venue, ",".join(self.symbols),
                 self.frames)

    async def __aenter__(self) -> BookClient:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        t = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(t)
        t.add_done_callback(self._task_done)
        return t

    def _task_done(self, t: asyncio.Task[Any]) -> None:
        self.tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            log.error("client task %s failed: %r", t.get_name(), t.exception())

    # -- consumers ------------------------------------------------------------------------
    def on_update(self, fn: UpdateCallback) -> UpdateCallback:
        """Call ``fn(book, events, recv_ns)`` on the loop thread after each market-data frame.

        ``book`` is the live book of the frame's instrument (check ``book.valid``), ``events``
        the frame's events and statuses, ``recv_ns`` its receive time (ns since the epoch).
        Exceptions are logged and counted, never raised into the feed. Usable as a decorator.
        """
        self._callbacks.append(fn)
        return fn

    def remove_callback(self, fn: UpdateCallback) -> None:
        with contextlib.suppress(ValueError):
            self._callbacks.remove(fn)

    def events(self, maxsize: int = 10_000, drop: DropPolicy = "oldest") -> EventStream:
        """A new async iterator over every event (see :class:`EventStream`)."""
        st = EventStream(maxsize, drop, on_close=self._stream_closed)
        self._streams.append(st)
        return st

    def _stream_closed(self, st: EventStream) -> None:
        with contextlib.suppress(ValueError):
            self._streams.remove(st)

    # -- state ----------------------------------------------------------------------------
    @property
    def rest_requests(self) -> int:
        """REST snapshot requests sent (venues that sync over REST)."""
        return self.rest.requests

    @property
    def rest_errors(self) -> int:
        """REST snapshot requests that failed (refused, timed out, not JSON)."""
        return self.rest.errors

    @property
    def malformed(self) -> int:
        """Frames (and REST answers) that did not parse, as the feed counted them."""
        return self.feed.malformed_frames

    @property
    def apply_errors(self) -> int:
        """Events the book refused (the feed's count; each marked its book stale)."""
        return self.feed.apply_errors

    @property
    def book(self) -> OrderBook:
        """The live book of the first instrument. It may be stale: check ``book.valid`` or use
        :meth:`snapshot`, which refuses a stale book."""
        return self.feed.book(self.symbols[0])

    @property
    def books(self) -> dict[str, OrderBook]:
        return {s: self.feed.book(s) for s in self.symbols}

    @property
    def book_valid(self) -> bool:
        return self.book.valid

    @property
    def all_valid(self) -> bool:
        return all(self.feed.book(s).valid for s in self.symbols)

    def snapshot(self, n: int | None = None, symbol: str | None = None,
                 allow_stale: bool = False) -> tuple[list[tuple[float, float]],
                                                     list[tuple[float, float]]]:
        """A copy ``(bids, asks)`` of the best ``n`` levels; raises :class:`StaleBookError`
        unless the book is valid (or ``allow_stale``)."""
        b = self.feed.book(symbol or self.symbols[0])
        if not b.valid and not allow_stale:
            raise StaleBookError(f"book {b.venue}:{b.symbol} is not valid ({self.status}); "
                                 "wait for the resync or pass allow_stale=True")
        return b.snapshot_levels(n)

    @property
    def status(self) -> ClientStatus:
        """``"live"`` while every book is valid (in sync, within the staleness bound, on an
        open connection); ``"stale"`` when one is not after having been; ``"syncing"`` before
        the first snapshots; ``"connecting"``, ``"reconnecting"``, ``"stopped"``, ``"idle"``."""
        st = self._state
        if st in ("idle", "connecting", "reconnecting", "stopped"):
            return st
        if self.all_valid:
            return "live"
        if self._synced_once:
            return "stale"
        return "syncing"

    def book_age_s(self, symbol: str | None = None) -> float | None:
        """Seconds since the last update of a book was received (None before one)."""
        b = self.feed.book(symbol or self.symbols[0])
        if not b.last_recv_ts_ns:
            return None
        return max(0.0, (time.time_ns() - b.last_recv_ts_ns) / 1e9)

    def book_lag_s(self, symbol: str | None = None) -> float | None:
        """How far the venue time of a book's last update was behind the local clock when it
        was applied (seconds; None before one, or where the venue's time is no message time)."""
        lag = self.feed.states[symbol or self.symbols[0]].lag_ns
        return None if lag is None else lag / 1e9

    @property
    def metrics(self) -> dict[str, Any]:
        """Counters, book state and latency quantiles (µs) of the ring, as one flat dict."""
        b = self.book
        m: dict[str, Any] = {
            "venue": self.venue, "symbols": list(self.symbols), "source": self.source,
            "url": self.url, "status": self.status, "frames": self.frames,
            "market_frames": self.market_frames, "malformed": self.malformed,
            "apply_errors": self.apply_errors, "gaps_detected": self.gaps_detected,
            "checksum_failures": self.checksum_failures, "stale_episodes": self.stale_episodes,
            "resync_requests": self.resync_requests,
            "resyncs": sum(self.feed.stats[s].resyncs for s in self.symbols),
            "reconnects": self.reconnects, "watchdog_closes": self.watchdog_closes,
            "callback_errors": self.callback_errors, "rest_requests": self.rest_requests,
            "rest_errors": self.rest_errors,
            "events_dropped": sum(s.dropped for s in self._streams),
            "book_valid": b.valid, "best_bid": b.best_bid if b.n_bids else None,
            "best_ask": b.best_ask if b.n_asks else None, "levels": [b.n_bids, b.n_asks],
            "recorded_frames": self.recorder.frames if self.recorder else 0,
            "book_age_s": self.book_age_s(), "book_lag_s": self.book_lag_s(),
            "behind": sum(self.feed.stats[s].behind for s in self.symbols),
            "max_lag_s": self.config.max_lag_s, "resyncs_limited": self.resyncs_limited,
            "error": self.error,
        }
        lat = self.latency.summary()
        m.update(lat)
        m["p50_us"] = lat["applied_p50_us"]
        m["p99_us"] = lat["applied_p99_us"]
        return m

    # -- the frame handler (also usable without a socket) -----------------------------------
    def handle_frame(self, frame: str | bytes, t0_ns: int | None = None,
                     recv_ns: int | None = None) -> list[Event]:
        """Parse and apply one raw frame (:meth:`VenueFeed.on_frame`); record it, call the
        consumers; return its events ([] for a malformed frame).

        ``t0_ns`` is the perf-counter receive stamp and ``recv_ns`` the wall-clock one, both
        taken when the frame was read off the socket (here when None). Never raises for a bad
        frame: the feed counts malformed frames and apply errors.
        """
        if t0_ns is None:
            t0_ns = time.perf_counter_ns()
        if recv_ns is None:
            recv_ns = time.time_ns()
        self.frames += 1
        if self.recorder is not None:
            self.recorder.write(recv_ns, frame)
        feed = self.feed
        bad = feed.malformed_frames
        out = feed.on_frame(frame, recv_ns)
        if feed.malformed_frames != bad:
            if len(out) > 1:
                self._on_statuses(out)  # a book it was for is stale: count it, resync it
            return []
        self._deliver(out, feed.frame_symbol, t0_ns, feed.parsed_ns, feed.applied_ns, recv_ns)
        return out

    def handle_rest_snapshot(self, symbol: str, payload: str | bytes | dict[str, Any],
                             t0_ns: int | None = None) -> list[Event]:
        """Apply a REST depth snapshot of ``symbol`` (and the diffs buffered behind it): the
        protocol wraps it into a frame (:meth:`ClientProtocol.rest_frame`) that is recorded and
        goes through the feed like any other; consumers are called as for a frame.
        """
        if t0_ns is None:
            t0_ns = time.perf_counter_ns()
        recv_ns = time.time_ns()
        frame = self.protocol.rest_frame(symbol, payload)
        if self.recorder is not None:
            self.recorder.write(recv_ns, frame)
        feed = self.feed
        bad = feed.malformed_frames
        out = feed.on_frame(frame, recv_ns)
        if feed.malformed_frames != bad:
            log.warning("%s %s: bad REST snapshot: %s", self.venue, symbol,
                        out[0].detail if out else "")  # type: ignore[union-attr]
            return []
        self._deliver(out, feed.frame_symbol, t0_ns, feed.parsed_ns, feed.applied_ns, recv_ns)
        return out

    def _deliver(self, out: list[Event], book_sym: str | None, t0_ns: int, t1: int, t2: int,
                 recv_ns: int) -> None:
        feed = self.feed
        self._on_statuses(out)
        t3 = 0
        if book_sym is not None:
            self.market_frames += 1
            if self._callbacks:
                book = feed.book(book_sym)
                for fn in list(self._callbacks):
                    try:
                        fn(book, out, recv_ns)
                    except Exception as e:
                        self.callback_errors += 1
                        if self.callback_errors & (self.callback_errors - 1) == 0:
                            # 1st, 2nd, 4th, 8th, ... failure: the log cannot flood the loop
                            log.error("on_update callback %r failed (%d failures so far): %r",
                                      fn, self.callback_errors, e)
                t3 = time.perf_counter_ns()
            self.latency.record(t0_ns, t1, t2, t3)
        if self._streams and out:
            for st in self._streams:
                st.push(out)

    def _on_statuses(self, out: list[Event]) -> None:
        need = False
        book_event = False
        for ev in out:
            if type(ev) is not FeedStatus:
                if type(ev) is BookSnapshot:
                    sym = ev.symbol
                    if self.feed.is_synced(sym):  # the snapshot was applied: resync answered
                        self._resync_pending.pop(sym, None)
                        self._synced_once.add(sym)
                book_event = True
                continue
            k = ev.kind
            if k == "gap" or k == "checksum_failed" or (
                    k in ("malformed", "time_backwards") and ev.symbol in self.feed.needs_resync):
                if k == "gap":
                    self.gaps_detected += 1
                elif k == "checksum_failed":
                    self.checksum_failures += 1
                self.stale_episodes += 1
                need = True
                self._warned += 1
                if self._warned <= 8 or self._warned & (self._warned - 1) == 0:
                    # the first 8, then the 16th, 32nd, ...: a storm cannot flood the log
                    log.warning("%s %s: %s; book stale, resync (%d such so far)", ev.venue,
                                ev.symbol or "", ev.detail, self._warned)
            elif k == "behind":
                log.warning("%s %s: %s", ev.venue, ev.symbol, ev.detail)
            elif k == "resync":
                log.info("%s %s resynced (%s)", ev.venue, ev.symbol, ev.detail)
            elif k == "error":
                log.warning("%s venue error: %s", ev.venue, ev.detail)
            elif k == "crossed":
                log.warning("%s %s crossed book: %s", ev.venue, ev.symbol, ev.detail)
        if book_event and not self._synced.is_set() and self.all_valid:
            self._synced.set()
        if need or self.feed.needs_resync:
            self._request_resync()

    def _request_resync(self) -> None:
        now = time.monotonic()
        gap = self.config.resync_min_interval_s
        for sym in sorted(self.feed.needs_resync):
            if sym in self._resync_pending or sym not in self.symbols:
                continue
            last = self._last_resync.get(sym)
            if last is not None and now - last < gap:
                if sym not in self._resync_waiting:
                    self._resync_waiting.add(sym)  # sent by the watchdog when the interval ends
                    self.resyncs_limited += 1
                continue
            self._resync_waiting.discard(sym)
            msgs = self.protocol.resync(sym)
            self._resync_pending[sym] = now
            self._last_resync[sym] = now
            self.resync_requests += 1
            if msgs is None:
                self._close_ws("resync by reconnect")
            elif msgs and self._ws is not None and self.loop is not None:
                self._spawn(self._send(self._ws, msgs), f"resync-{sym}")
            if self.protocol.rest_snapshots and self._ws is not None and self.loop is not None:
                self.rest.ensure(sym, self._ws)

    # -- REST snapshots ------------------------------------------------------------------------
    def rest_snapshot_url(self, symbol: str) -> str:
        """The REST depth snapshot URL this client asks (limit ``config.rest_limit``): on
        ``rest_url`` when given, else where the protocol says for the socket's URL."""
        base = (self.rest_url.rstrip("/") if self.rest_url
                else self.protocol.rest_base(self.url, self.live_url))
        return self.protocol.rest_snapshot_url(symbol, self.config.rest_limit, base)

    async def _send(self, ws: Any, msgs: list[str]) -> None:
        with contextlib.suppress(Exception):
            for m in msgs:
                await ws.send(m)
            self._last_send = time.monotonic()

    def _close_ws(self, reason: str) -> None:
        ws = self._ws
        if ws is not None:
            self.last_close_reason = reason
            self._spawn(self._close(ws), "close-ws")

    @staticmethod
    async def _close(ws: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 1.0)
        with contextlib.suppress(Exception):
            ws.transport.abort()

    # -- the connection loop ------------------------------------------------------------------
    async def _resolve(self) -> str:
        src = self.requested_source
        if self.url is not None and src.startswith(("ws://", "wss://")):
            return self.url
        if src == "live":
            return self.live_url
        if src == "auto":
            from websockets.asyncio.client import connect as ws_connect

            try:
                ws = await asyncio.wait_for(ws_connect(self.live_url, open_timeout=None),
                                            self.config.auto_timeout_s)
                await ws.close()
                self.source = "live"
                log.info("source=auto: live venue %s reachable", self.live_url)
                return self.live_url
            except Exception as e:  # refused, timed out, bad handshake
                log.warning("source=auto: live venue %s unreachable (%r); starting a local venue "
                            "on 127.0.0.1", self.live_url, e)
        return await self._start_local()

    async def _start_local(self) -> str:
        from ..instruments import get_instrument
        from ..random_walk import RandomWalkBook
        from .server import LocalVenue

        kw = dict(self._local_kwargs)
        if "source" not in kw:
            sources = []
            for i, s in enumerate(self.symbols):
                try:
                    inst = get_instrument(self.venue, s)
                except KeyError as e:
                    raise ValueError(f"symbols: {s!r} has no instrument for the local venue "
                                     f"({e.args[0]})") from None
                # a plausible price, depth and traded volume (the 24-hour ticker reports it)
                sources.append(RandomWalkBook.for_instrument(
                    inst, seed=kw.get("seed", 0) + i, rate_hz=kw.get("rate_hz", 1000.0)))
            kw["source"] = sources
        venue = LocalVenue(**kw)
        await venue.start()
        self.local_venue = venue
        url = venue.url_for(self.venue, self.symbols)
        self.source = f"local:{url}"
        log.warning("using the LOCAL venue %s (synthetic data, not a live market)", url)
        return url

    async def _run(self) -> None:
        from websockets.asyncio.client import connect as ws_connect

        self._state = "connecting"
        try:
            self.url = await self._resolve()
            self.url = check_ws_url(self.protocol.ws_url(self.url, self.symbols), "url")
        except Exception as e:
            log.error("client could not resolve source %r: %r", self.requested_source, e)
            self.error = f"source {self.requested_source!r}: {e}"
            self._state = "stopped"
            raise
        if self.record_path is not None and self.recorder is None:
            # opened once the source is resolved, so the header names the url really used
            self.recorder = RecordingWriter(self.record_path, venue=self.venue, url=self.url,
                                            symbols=self.symbols)
        from websockets.exceptions import InvalidURI

        attempt = 0
        conn_cls = _stamped_connection()
        while not self._stopping:
            self._state = "connecting"
            got_data = False
            t_open = time.monotonic()
            try:
                ws = await ws_connect(self.url, open_timeout=self.config.connect_timeout_s,
                                      ping_interval=None, close_timeout=1.0, max_size=2**24,
                                      max_queue=None, create_connection=conn_cls)
            except (InvalidURI, ValueError) as e:  # no retry makes this URL work
                self.error = f"cannot connect to {self.url}: {e}"
                log.error("client stops: %s", self.error)
                self._state = "stopped"
                return
            except Exception as e:  # refused, timed out, bad handshake
                reason = f"connect failed: {e!r}"
            else:
                self.sessions += 1
                log.info("connected to %s (%s %s)", self.url, self.venue, ",".join(self.symbols))
                got_data, reason = await self._session(ws)
            if self._stopping:
                break
            if got_data and time.monotonic() - t_open >= self.config.backoff_reset_s:
                attempt = 0  # a session that worked for a while: start the backoff again
            delay = self.config.backoff_s(attempt, self._rng)
            attempt += 1
            self._state = "reconnecting"
            self.reconnects += 1
            self.last_close_reason = reason
            log.warning("disconnected from %s (%s); reconnect %d in %.2f s", self.url, reason,
                        self.reconnects, delay)
            await asyncio.sleep(delay)

    async def _session(self, ws: Any) -> tuple[bool, str]:
        self._ws = ws
        self._state = "syncing"
        now = time.monotonic()
        self._last_recv = now
        self._last_send = now
        self._last_ping = now
        self._resync_pending.clear()
        for s in self.symbols:  # a new socket: every book waits for its snapshot
            self.feed.reset(s)
            self._resync_pending[s] = now
        got = False
        reason = "closed by venue"
        watchdog = self._spawn(self._watchdog(ws), "client-watchdog")
        try:
            for m in self.protocol.subscribe(self.symbols):
                await ws.send(m)
            if self.protocol.rest_snapshots:
                for s in self.symbols:
                    self.rest.ensure(s, ws)
            perf = time.perf_counter_ns
            wall = time.time_ns
            mono = time.monotonic
            handle = self.handle_frame
            stamps = getattr(ws, "stamps", None)
            async for frame in ws:
                self._last_recv = mono()
                if stamps:
                    t0, recv = stamps.popleft()  # when it was read off the socket
                else:
                    t0, recv = perf(), wall()
                handle(frame, t0, recv)
                if not got and self.all_valid:
                    got = True
                    self._state = "syncing"
            if ws.close_code is not None:
                reason = f"closed code={ws.close_code} reason={ws.close_reason!r}"
        except asyncio.CancelledError:
            raise
        except Exception as e:
            reason = f"{type(e).__name__}: {e}"
        finally:
            self._ws = None
            self._lost_connection()
            pending = [watchdog, *self.rest.take_tasks()]
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            with contextlib.suppress(Exception):
                ws.transport.abort()
        if self.last_close_reason and self.last_close_reason.startswith(("watchdog", "resync")):
            reason = self.last_close_reason
            self.last_close_reason = ""
        return got, reason

    def _lost_connection(self) -> None:
        """The socket is gone (or dead): no book of it is valid from now until the next
        connection's snapshots."""
        for key in list(self.feed.books):
            self.feed.reset(key)
        self._resync_waiting.clear()

    def _heard(self, _: Any = None) -> None:
        self._last_recv = time.monotonic()

    async def _watchdog(self, ws: Any) -> None:
        cfg = self.config
        tick = max(0.01, min(0.5, cfg.silence_timeout_s / 5, cfg.resync_timeout_s / 5,
                             cfg.keepalive_s / 8))
        half = cfg.keepalive_s / 2
        dead = cfg.keepalive_s - tick  # checked every tick: caught within keepalive_s
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            quiet = now - self._last_recv
            if quiet > cfg.silence_timeout_s or quiet > dead:
                self.watchdog_closes += 1
                why = ("keepalive not answered" if quiet > dead else "watchdog")
                self.last_close_reason = f"watchdog: silent for {quiet:.2f} s ({why})"
                log.warning("watchdog: no frame for %.2f s from %s (%s); reconnecting", quiet,
                            self.url, why)
                self._lost_connection()  # not valid from this moment, not when the close ends
                await self._close(ws)
                return
            if self._resync_waiting:
                gap = cfg.resync_min_interval_s
                if any(now - self._last_resync.get(s, -gap) >= gap for s in self._resync_waiting):
                    self._request_resync()
            for sym, t in list(self._resync_pending.items()):
                if now - t > cfg.resync_timeout_s:
                    self.last_close_reason = f"resync timeout for {sym}"
                    log.warning("resync of %s not answered in %.1f s; reconnecting", sym,
                                cfg.resync_timeout_s)
                    await self._close(ws)
                    return
            if self.protocol.keepalive_always:
                due = now - self._last_ping >= half
            else:
                due = quiet > half and now - self._last_send > half
            if due:
                self._last_send = self._last_ping = now
                try:
                    if self.protocol.keepalive_text:
                        await ws.send(self.protocol.keepalive_text)
                    else:
                        pong = await ws.ping()
                        pong.add_done_callback(self._heard)  # a pong frame is no message
                except Exception:
                    return

    def __repr__(self) -> str:
        return (f"BookClient({self.venue} {','.join(self.symbols)} {self.status} "
                f"frames={self.frames} source={self.source})")


# -- entry points ----------------------------------------------------------------------------
async def connect(venue: str, symbols: str | Sequence[str], *, source: str = "live",
                  wait_snapshot_s: float | None = 2.0, **kwargs: Any) -> BookClient:
    """Start a :class:`BookClient` on the running loop; return once every book is valid or
    after ``wait_snapshot_s`` (None: at once). ``kwargs`` go to :class:`BookClient`."""
    client = BookClient(venue, symbols, source=source, **kwargs)
    return await client.start(wait_snapshot_s)


def start(venue: str, symbols: str | Sequence[str], *, source: str = "live",
          **kwargs: Any) -> BookClient:
    """Plain-cell form: schedule a :class:`BookClient` on the running loop, return it at once.

    Raises ``RuntimeError`` when no loop is running (in a script, use ``asyncio.run`` with
    :func:`connect`, or :func:`start_in_thread`).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError("tradesim_nb.live.start needs a running event loop (a notebook "
                           "cell has one); in plain code use start_in_thread(...)") from None
    return BookClient(venue, symbols, source=source, **kwargs).start_nowait()
