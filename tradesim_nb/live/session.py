"""Reproducible sessions: record a live cost session, replay it, get the same numbers.

:func:`record_session` runs the live client (the local venue by default, or the exchange) with a
:class:`~tradesim_nb.simulator.TradeSimulator` as its consumer and records every raw frame with
its receive time (``record=`` of :class:`~tradesim_nb.live.BookClient`). :func:`replay_session`
feeds the recorded frames, with their recorded receive times, through a fresh venue parser and a
fresh simulator exactly as the client does (the consumer is called after each frame that carried
book or trade data, with that frame's events), so the estimates are the same numbers, bit for
bit, except the measured computing time (``latency_ns``). :func:`compare_estimates` says so.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..instruments import get_instrument
from ..recording import PathLike, read_frames
from ..venues import get_feed

__all__ = ["SessionResult", "compare_estimates", "record_session", "replay_session"]

#: CostEstimate fields that measure the machine, not the market: left out of comparisons
VOLATILE_FIELDS = ("latency_ns",)


@dataclass(frozen=True)
class SessionResult:
    """What a recorded session produced."""

    path: Path
    source: str
    frames: int
    estimates: tuple[Any, ...]


def _simulator(venue: str, symbol: str, side: str, quantity_usd: float, models: Any,
               **kwargs: Any) -> Any:
    from ..simulator import TradeSimulator

    inst = get_instrument(venue, symbol)
    return TradeSimulator(inst, side, quantity_usd, unit="usd", models=models,
                          history=1_000_000, **kwargs)


async def record_session(path: PathLike, *, venue: str = "okx", symbol: str = "BTC-USDT-SWAP",
                         seconds: float = 3.0, side: str = "buy", quantity_usd: float = 100_000.0,
                         source: str = "local", local_rate_hz: float = 100.0, seed: int = 7,
                         models: Any = None, **sim_kwargs: Any) -> SessionResult:
    """Run a live cost session for ``seconds`` and record its raw frames to ``path``.

    ``source`` is that of :class:`~tradesim_nb.live.BookClient` (``"local"``: a seeded local
    venue on 127.0.0.1; ``"auto"``: the exchange if reachable). ``sim_kwargs`` go to the
    simulator (``order_type``, ``fee_tier``, ``volatility_bps``, ``impact``).
    """
    from ..simulator import TradeSimulator
    from .client import BookClient

    if not (math.isfinite(seconds) and 0 < seconds <= 3600):
        raise ValueError(f"seconds={seconds!r} must be in (0, 3600]")
    if models is None:
        models = await asyncio.to_thread(TradeSimulator.default_models)
    sim = _simulator(venue, symbol, side, quantity_usd, models, **sim_kwargs)
    client = BookClient(venue, symbol, source=source, record=path,
                             channels=("books", "trades"),
                             local_venue={"rate_hz": local_rate_hz, "seed": seed})
    client.on_update(sim.on_update)
    await client.start(wait_snapshot_s=5.0)
    try:
        await asyncio.sleep(seconds)
    finally:
        await client.stop()
    return SessionResult(Path(path), str(client.source), client.frames, tuple(sim.history))


def replay_session(path: PathLike, *, venue: str = "okx", symbol: str = "BTC-USDT-SWAP",
                   side: str = "buy", quantity_usd: float = 100_000.0, models: Any = None,
                   **sim_kwargs: Any) -> tuple[Any, ...]:
    """Replay a recorded session through a fresh parser and simulator; return the estimates.

    The same frame loop as the live client (:meth:`tradesim_nb.feed.VenueFeed.replay`): each
    frame goes through the feed with its recorded receive time, and the simulator is called
    with the book of the frame's instrument and the frame's events when the frame carried a
    book update or a trade (malformed frames are counted and skipped, as live).
    """
    from ..simulator import TradeSimulator

    if models is None:
        models = TradeSimulator.default_models()
    sim = _simulator(venue, symbol, side, quantity_usd, models, **sim_kwargs)
    feed = get_feed(venue)
    feed.book(symbol)
    for recv_ns, events, book_sym in feed.replay(read_frames(path)):
        if book_sym is not None:
            sim.on_update(feed.book(book_sym), events, recv_ns)
    return tuple(sim.history)


def compare_estimates(a: Sequence[Any], b: Sequence[Any]) -> dict[str, Any]:
    """Field-by-field comparison of two estimate sequences (``latency_ns`` left out).

    Returns ``{"n_a", "n_b", "identical", "max_abs_diff": {field: float}}``; ``identical`` is
    True when the lengths match and every compared field is equal (NaN equals NaN).
    """
    fields = [f for f in (a[0]._fields if a else ()) if f not in VOLATILE_FIELDS]
    diffs: dict[str, float] = {}
    same = len(a) == len(b)
    for f in fields:
        worst = 0.0
        for x, y in zip(a, b):
            u, v = getattr(x, f), getattr(y, f)
            if isinstance(u, float) and isinstance(v, float):
                if math.isnan(u) and math.isnan(v):
                    continue
                if u != v:
                    same = False
                    worst = max(worst, abs(u - v) if math.isfinite(u - v) else math.inf)
            elif u != v:
                same = False
                worst = math.inf
        diffs[f] = worst
    return {"n_a": len(a), "n_b": len(b), "identical": same, "max_abs_diff": diffs}
