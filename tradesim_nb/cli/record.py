"""``tradesim record URL|PRESET OUT.jsonl.gz``: save raw frames with receive times.

The frames go through the live client (so the status line shows gaps and resyncs) and are
written as received, including the venue's acks and resync snapshots, so the file replays
through ``tradesim replay`` exactly as the client saw the stream.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from . import emit_json
from .watch import add_source_arguments, client_from_args, run_until


def register(sub: Any) -> None:
    p = sub.add_parser("record", help="record raw frames from a feed to .jsonl.gz",
                       description=__doc__)
    add_source_arguments(p)
    p.add_argument("out", metavar="OUT.jsonl.gz", help="output recording")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))


async def _main(args: argparse.Namespace) -> int:
    client = client_from_args(args, record=args.out)
    try:
        await run_until(client, args.duration, True)
    finally:
        m = client.metrics
        await client.stop()
    print(f"recorded {m['recorded_frames']} frames to {args.out}", file=sys.stderr)
    if args.json:
        emit_json(m)
    return 0
