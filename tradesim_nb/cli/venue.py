"""``tradesim venue``: the local venue on loopback, one true book served in the protocol of
every venue of the registry (:data:`tradesim_nb.venues.VENUES`).

Prints its default URL on the first line of stdout and every venue's URL to stderr, logs to
stderr, runs until interrupted (SIGINT or SIGTERM) or ``--duration`` seconds; with ``--json``
prints the venue's counters at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from ..venues.registry import VENUES
from . import emit_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "venue", help="run the local venue (loopback) from a synthetic book or a recording",
        description="Serve one true book in the protocol of every registered venue ("
                    + ", ".join(VENUES) + "; each on its own URL path, REST snapshots over "
                    "plain HTTP on the same port) from the seeded random-walk book or a "
                    "recording, optionally with injected faults. The first line of stdout is "
                    "the default protocol's URL; stderr lists each venue's.")
    p.add_argument("--source", default="synthetic",
                   help="'synthetic' (seeded random walk, BTC-USDT-SWAP), 'market' (the "
                        "impact-aware synthetic market, SYN-USD) or a recording file")
    p.add_argument("--venue", default=None, choices=tuple(VENUES),
                   help="venue of the recording (default: its header's, else guessed)")
    p.add_argument("--instrument", "-i", action="append", default=None, metavar="VENUE:SYMBOL",
                   help="instrument of the synthetic source (repeatable), e.g. binance:BTCUSDT "
                        "or bybit:BTCUSDT; default okx:BTC-USDT-SWAP")
    p.add_argument("--port", type=int, default=0, help="port (0 = pick a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (loopback by default)")
    p.add_argument("--i-know-this-is-not-loopback", dest="allow_remote", action="store_true",
                   help="required with a --host that is not a loopback address")
    p.add_argument("--speed", type=float, default=1.0,
                   help="replay speed of a recording (1 = real time, 0 = as fast as possible)")
    p.add_argument("--rate", type=float, default=1000.0,
                   help="synthetic book updates per second (default 1000)")
    p.add_argument("--loop", action="store_true", help="replay the recording again at its end")
    p.add_argument("--faults", default=None,
                   help="fault spec, e.g. 'drop:0.01,dup:every=500,corrupt:0.001,"
                        "close:every=2000,stall:0.0005:2s'")
    p.add_argument("--seed", type=int, default=0, help="seed of the source and the faults")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--json", action="store_true", help="print the counters as JSON at the end")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))


async def _main(args: argparse.Namespace) -> int:
    from ..live.server import LocalVenue

    if args.duration is not None and not args.duration > 0:
        raise ValueError(f"--duration={args.duration!r} must be > 0")
    source: Any = args.source
    if args.instrument:
        if args.source != "synthetic":
            raise ValueError(f"--instrument={args.instrument!r} needs --source synthetic")
        from ..instruments import get_instrument
        from ..random_walk import RandomWalkBook

        source = []
        for i, spec in enumerate(args.instrument):
            ven, _, sym = spec.partition(":")
            if not (ven and sym):
                raise ValueError(f"--instrument={spec!r} must be VENUE:SYMBOL, e.g. "
                                 "binance:BTCUSDT")
            source.append(RandomWalkBook(get_instrument(ven, sym), seed=args.seed + i))
    venue = LocalVenue(source, host=args.host, port=args.port, rate_hz=args.rate,
                       speed=args.speed, loop=args.loop, faults=args.faults, seed=args.seed,
                       venue=args.venue, allow_remote=args.allow_remote)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with venue:
        print(venue.url, flush=True)
        syms = venue.symbols or ["<SYMBOL>"]
        urls = "; ".join(f"{name}: {venue.url_for(name, syms[:1])}" for name in VENUES)
        print(f"local venue: {venue.url}  ({urls}; HTTP {venue.http_url}); "
              f"symbols: {', '.join(venue.symbols) or '(from the recording)'}; "
              f"faults: {venue.fault_spec or 'none'}", file=sys.stderr, flush=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), args.duration)
        stats = {"url": venue.url, "symbols": venue.symbols, "faults": str(venue.fault_spec),
                 "gaps_injected": venue.gaps_injected, **dict(venue.stats)}
    if args.json:
        emit_json(stats)
    return 0
