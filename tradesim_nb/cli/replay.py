"""``tradesim replay FILE... --venue V [--json] [--sanitize/--no-sanitize]``.

Replays recordings through the venue's parser and books (:func:`tradesim_nb.replay.replay`)
and prints a per-instrument table, or with ``--json`` exactly one JSON object.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from ..venues import VENUES
from . import emit_json

VENUE_CHOICES = tuple(VENUES)

_COLUMNS = (
    ("frames", "frames"),
    ("checksum_ok", "cks_ok"),
    ("checksum_failed", "cks_bad"),
    ("gaps", "gaps"),
    ("resyncs", "resync"),
    ("stale_dropped", "dup/stale"),
    ("crossed", "crossed"),
    ("top_match", "top_ok"),
    ("top_mismatch", "top_bad"),
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay", help="replay recordings through a venue's parser and books",
        description="Replay raw frames through the venue parser, sequence checks, checksums "
                    "and books; report counts and the final top of book per instrument.")
    p.add_argument("files", nargs="+", metavar="FILE", help="recordings, in time order")
    p.add_argument("--venue", required=True, choices=VENUE_CHOICES)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--sanitize", action=argparse.BooleanOptionalAction, default=None,
                   help="remove the fewest levels that uncross a crossed book "
                        "(default: the venue's default; on for goquant)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..replay import replay

    kwargs: dict[str, Any] = {}
    if args.sanitize is not None:
        kwargs["sanitize_crossed"] = args.sanitize
    rep = replay(args.files, args.venue, **kwargs)
    if args.json:
        emit_json(rep)
    else:
        print(format_report(rep))
    return 0


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:.10g}"
    return str(x)


def format_report(rep: dict[str, Any]) -> str:
    """A readable table of :func:`tradesim_nb.replay.replay`'s report."""
    inst = rep["instruments"]
    header = ["instrument", *(h for _, h in _COLUMNS), "bid", "bid_sz", "ask", "ask_sz", "book"]
    rows = [header]
    for sym in sorted(inst):
        d = inst[sym]
        state = "stale" if d.get("stale") else ("valid" if d.get("book_valid") else "invalid")
        rows.append([sym, *(_fmt(d.get(k, 0)) for k, _ in _COLUMNS),
                     _fmt(d.get("best_bid")), _fmt(d.get("best_bid_size")),
                     _fmt(d.get("best_ask")), _fmt(d.get("best_ask_size")), state])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    mal = rep.get("malformed") or {}
    mal_s = ", ".join(f"{k}={v}" for k, v in sorted(mal.items())) or "0"
    lines.append("")
    lines.append(f"venue {rep['venue']}: {rep['frames']} frames, malformed {mal_s}, "
                 f"acks {rep.get('acks', 0)}, errors {len(rep.get('errors', []))}, "
                 f"{rep['us_per_frame']:.1f} us/frame in the feed "
                 f"({rep['wall_s']:.3f} s wall with file reading)")
    if rep.get("needs_resync"):
        lines.append("needs resync: " + ", ".join(rep["needs_resync"]))
    return "\n".join(lines)
