"""``tradesim watch URL|PRESET``: run the live client, a status line a second to stderr.

Presets: every venue of the registry (:data:`tradesim_nb.venues.VENUES`: its public
stream), ``local`` (start a local venue in this process), ``auto`` (the venue if reachable,
else local). A ``ws://``/``wss://`` URL is read with ``--venue`` (default
:data:`~tradesim_nb.venues.DEFAULT_VENUE`); the URL may be the bare ``ws://host:port`` of
``tradesim venue`` where the venue's protocol appends its path (REST snapshots are then
asked from ``http://host:port``). With ``--json`` one final object on stdout: frames,
gaps_detected, resyncs, reconnects, book_valid, best_bid, best_ask, p50_us, p99_us and more.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from typing import Any

from ..venues.registry import DEFAULT_VENUE, get_venue
from ..venues.registry import VENUES as _REGISTRY
from . import emit_json

VENUES = tuple(_REGISTRY)
PRESETS = (*VENUES, "local", "auto")


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="URL|PRESET",
                   help="ws:// or wss:// URL, or one of " + ", ".join(PRESETS))
    p.add_argument("--venue", default=None, choices=VENUES,
                   help=f"protocol of a URL, local or auto (default {DEFAULT_VENUE})")
    p.add_argument("--instrument", "-i", action="append", default=None,
                   help="instrument id (repeatable; default: the venue's first, e.g. "
                        "BTC-USDT-SWAP on OKX, BTCUSDT on Binance and Bybit)")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")


def client_from_args(args: argparse.Namespace, **kwargs: Any) -> Any:
    from ..live.client import BookClient

    src = args.source
    venue = args.venue or (src if src in VENUES else DEFAULT_VENUE)
    symbols = args.instrument or [get_venue(venue).default_symbol]
    if src.startswith(("ws://", "wss://")):
        return BookClient(venue, symbols, source=src, **kwargs)
    if src in VENUES:
        return BookClient(venue, symbols, source="live", **kwargs)
    if src in ("local", "auto"):
        return BookClient(venue, symbols, source=src, **kwargs)
    raise ValueError(f"source={src!r} must be a ws:// or wss:// URL or one of "
                     f"{', '.join(PRESETS)}")


def register(sub: Any) -> None:
    p = sub.add_parser("watch", help="watch a live book: status line each second",
                       description=__doc__)
    add_source_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))


def _line(m: dict[str, Any]) -> str:
    def f(x: Any) -> str:
        return "-" if x is None else f"{x:g}" if isinstance(x, float) else str(x)

    return (f"{m['status']:<12} frames={m['frames']} bid={f(m['best_bid'])} "
            f"ask={f(m['best_ask'])} gaps={m['gaps_detected']} resyncs={m['resyncs']} "
            f"reconnects={m['reconnects']} malformed={m['malformed']} "
            f"p50={m['p50_us']:.0f}us p99={m['p99_us']:.0f}us")


async def run_until(client: Any, duration: float | None, status_lines: bool) -> None:
    if duration is not None and not duration > 0:
        raise ValueError(f"--duration={duration!r} must be > 0")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    client.start_nowait()
    t_end = None if duration is None else time.monotonic() + duration
    while not stop.is_set():
        left = 1.0 if t_end is None else min(1.0, t_end - time.monotonic())
        if left <= 0 or client.error:
            break  # (a client that stopped on its own: a source that cannot work)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), left)
        if status_lines:
            print(_line(client.metrics), file=sys.stderr, flush=True)


async def _main(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    try:
        await run_until(client, args.duration, True)
    finally:
        m = client.metrics
        await client.stop()
    if args.json:
        emit_json(m)
    if client.error:
        print(f"tradesim watch: error: {client.error}", file=sys.stderr)
        return 1
    return 0
