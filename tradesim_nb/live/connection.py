"""One client connection of the local venue: its queue, its subscriptions and its faults.

The venue's dialect (:mod:`tradesim_nb.venues.dialect`) queues frames with :meth:`Connection.put`;
:meth:`Connection.write` sends them in order, applying this connection's seeded faults
(:mod:`tradesim_nb.live.faults`): ``drop``/``dup``/``reorder``/``corrupt`` on book updates
only (frames queued as ``"data"``), ``stall``/``close`` on any frame.

Gap accounting: a destructive fault (drop, reorder, corrupt) that hits an update of a chain
intact since its last snapshot breaks it; it is counted (``gaps``) when a later update of that
chain is written, the first moment a client can see it (a close or a snapshot first heals it
unseen): ``stats["gaps_injected"]``. For venues whose snapshot comes beside the socket (a
REST snapshot), its id is kept: an update at or below it is harmless, the client drops it
anyway. Counting is exact with one client a symbol.

Queue cap: a connection queues at most ``max_queue`` frames, whatever asked for them. The
frame that would pass the cap closes the connection as a slow consumer (what was queued is
dropped, later frames are not queued); while the dialect answers a request it also raises
:class:`SlowConsumer`, so a request that asks for too much (one subscribe carrying 100,000
copies of its argument) stops being answered at the cap.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from typing import Any, Literal

from ..venues.dialect import Dialect, FrameKind
from .faults import DESTRUCTIVE, FaultInjector, corrupt_frame

__all__ = ["Connection", "SlowConsumer"]

log = logging.getLogger(__name__)

_Queued = tuple[str, FrameKind | Literal["close"], str, int]


class SlowConsumer(Exception):
    """A request of this connection asked for more frames than its queue holds."""


class Connection:
    """A client of the local venue, as its dialect and its writer see it."""

    __slots__ = ("closing", "dialect", "gap_pending", "held", "id", "in_request", "injector",
                 "intact", "max_queue", "queue", "snap_id", "state", "stats", "subs", "wake",
                 "ws")

    def __init__(self, ws: Any, cid: int, injector: FaultInjector, dialect: Dialect,
                 stats: Counter[str], max_queue: int = 50_000) -> None:
        self.ws = ws
        #: frames queued at most; the one past it closes the connection as a slow consumer
        self.max_queue = max_queue
        self.closing = False
        #: True while the dialect answers one of this connection's requests
        self.in_request = False
        #: the venue's counters: ``frames_sent`` and ``gaps_injected`` are counted here
        self.stats = stats
        self.id = cid
        self.injector = injector
        self.dialect = dialect
        self.queue: deque[_Queued] = deque()  # (frame, kind, symbol, seq)
        self.wake = asyncio.Event()
        self.subs: set[tuple[str, str]] = set()  # (channel, symbol), in the dialect's names
        self.state: dict[str, Any] = {}
        self.intact: dict[str, bool] = {}
        #: id of the last snapshot served beside the socket (REST) while it was open
        self.snap_id: dict[str, int] = {}
        self.held: tuple[str, str] | None = None
        self.gap_pending: set[str] = set()

    def put(self, frame: str, kind: FrameKind = "ctl", symbol: str = "", seq: int = 0) -> None:
        if self.closing:
            return
        if len(self.queue) >= self.max_queue:
            log.warning("local venue: closing connection %d, slow consumer (%d frames queued)",
                        self.id, len(self.queue))
            self.stats["slow_consumer_closed"] += 1
            self.close_slow()
            if self.in_request:
                raise SlowConsumer(f"connection {self.id}: a request asked for more than "
                                   f"{self.max_queue} frames")
            return
        self.queue.append((frame, kind, symbol, seq))
        self.wake.set()

    def chain_whole(self, symbol: str, seq: int) -> None:
        self.intact[symbol] = True
        self.snap_id[symbol] = seq
        self.gap_pending.discard(symbol)

    def close_slow(self) -> None:
        """Drop what is queued and close the connection as a slow consumer."""
        self.closing = True
        self.queue.clear()
        self.queue.append(("", "close", "", 0))
        self.wake.set()

    async def write(self, faults_enabled: Any) -> None:
        """Send the queued frames until the connection closes (``faults_enabled()`` says
        whether the faults are on for each frame)."""
        ws = self.ws
        inj = self.injector
        q = self.queue
        key = self.dialect.checksum_key
        while True:
            if not q:
                self.wake.clear()
                await self.wake.wait()
                continue
            frame, kind, sym, seq = q.popleft()
            if kind == "close":
                await ws.close(code=1008, reason="slow consumer")
                return
            inj.enabled = faults_enabled()
            fired = inj.decide(kind == "data") if inj.spec else ()
            hit: list[str] = []
            if fired:
                if "close" in fired:
                    log.info("fault: closing connection %d", self.id)
                    await ws.close(code=1011, reason="injected fault: close")
                    return
                if "stall" in fired:
                    d = inj.stall_s()
                    log.info("fault: stalling connection %d for %.3f s", self.id, d)
                    await asyncio.sleep(d)
                hit = [f for f in fired if f in DESTRUCTIVE
                       and not (f == "reorder" and self.held is not None)]
                # (a snapshot served beside the socket makes older updates harmless)
                if hit and self.intact.get(sym, False) and seq > self.snap_id.get(sym, -1):
                    self.intact[sym] = False
                    self.gap_pending.add(sym)
                if "drop" in fired:
                    continue
                if "corrupt" in fired:
                    frame = corrupt_frame(frame, inj.rng, key)
                if "reorder" in fired and self.held is None:
                    self.held = (frame, sym)
                    continue
            if kind == "snap":
                self.intact[sym] = True
                self.gap_pending.discard(sym)
            await ws.send(frame)
            self.stats["frames_sent"] += 1
            if kind == "data" and not hit and sym in self.gap_pending:
                self.gap_pending.discard(sym)
                self.stats["gaps_injected"] += 1
            if fired and "dup" in fired:
                await ws.send(frame)
                self.stats["frames_sent"] += 1
            if self.held is not None and kind == "data" and self.held[1] == sym:
                await ws.send(self.held[0])
                self.held = None
