"""``tradesim replay FILE... [--venue V] [--format F] [--symbol S] [--json] [--sanitize]``.

Replays recordings through the venue's parser and books (:func:`tradesim_nb.replay.replay`,
reading any format of :func:`tradesim_nb.formats.open_source`) and prints a per-book table,
or with ``--json`` exactly one JSON object.

Exit status: 0 when the files gave a book; 1, after the report and a one-line reason on
stderr, when they gave none (a file of another venue or format, nothing but malformed
frames), when ``--symbol`` has no book, or when a file ended early (a truncated gzip, a line
over ``--max-line-bytes``: what was read is reported first); 2 for a file that cannot be read
at all (missing, empty, in no known format) or a bad argument, with the error on stderr.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from ..formats import DEFAULT_MAX_LINE_BYTES, FORMATS
from ..venues import VENUES
from . import emit_json

VENUE_CHOICES = tuple(VENUES)
FORMAT_CHOICES = ("auto", *(f for f in FORMATS if f != "document"))
#: files larger than this get a progress bar on stderr (not with --json)
PROGRESS_BYTES = 16 * 1024 * 1024

_COLUMNS = (
    ("frames", "frames"),
    ("checksum_ok", "cks_ok"),
    ("checksum_failed", "cks_bad"),
    ("gaps", "gaps"),
    ("resyncs", "resync"),
    ("stale_dropped", "dup/stale"),
    ("time_backwards", "t_back"),
    ("refused", "refused"),
    ("crossed", "crossed"),
    ("top_match", "top_ok"),
    ("top_mismatch", "top_bad"),
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay", help="replay recordings through a venue's parser and books",
        description="Replay raw frames through the venue parser, sequence checks, checksums "
                    "and books; report counts and the final top of book per book. Exits 1 "
                    "with a one-line reason when the files give no book or end early.")
    p.add_argument("files", nargs="+", metavar="FILE", help="recordings, in time order")
    p.add_argument("--venue", default=None, choices=VENUE_CHOICES,
                   help="the venue (default: the one the files name)")
    p.add_argument("--format", default="auto", choices=FORMAT_CHOICES,
                   help="the files' format (default auto: detected from the content, and "
                        "named in the report)")
    p.add_argument("--symbol", default=None,
                   help="the instrument: the symbol of a snapshot that names none (Binance's "
                        "REST answer), and the one whose book must be there")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--sanitize", action=argparse.BooleanOptionalAction, default=None,
                   help="remove the fewest levels that uncross a crossed book "
                        "(default: the venue's default; on for goquant)")
    p.add_argument("--max-lag", type=float, default=None, metavar="S",
                   help="staleness bound: a book whose venue time is more than S seconds "
                        "behind the frame's receive time is not valid (default: none)")
    p.add_argument("--max-line-bytes", type=int, default=DEFAULT_MAX_LINE_BYTES,
                   help=f"longest line read (default {DEFAULT_MAX_LINE_BYTES:,})")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress bar on stderr (default: for files over 16 MiB, never "
                        "with --json)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..replay import problems, replay

    kwargs: dict[str, Any] = {}
    if args.sanitize is not None:
        kwargs["sanitize_crossed"] = args.sanitize
    progress = args.progress
    if progress is None:
        try:
            size = sum(Path(f).stat().st_size for f in args.files)
        except OSError:
            size = 0
        progress = not args.json and size > PROGRESS_BYTES
    rep = replay(args.files, args.venue, format=args.format, symbol=args.symbol,
                 progress=bool(progress) and not args.json, max_line_bytes=args.max_line_bytes,
                 max_lag_s=args.max_lag, **kwargs)
    if args.json:
        emit_json(rep)
    else:
        print(format_report(rep))
    why = problems(rep)
    sys.stdout.flush()
    for line in why:
        print(f"tradesim replay: {line}", file=sys.stderr)
    return 1 if why else 0


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:.10g}"
    return str(x)


def format_report(rep: dict[str, Any]) -> str:
    """A readable table of :func:`tradesim_nb.replay.replay`'s report."""
    inst = rep["instruments"]
    header = ["book", *(h for _, h in _COLUMNS), "bid", "bid_sz", "ask", "ask_sz", "state"]
    rows = [header]
    for sym in sorted(inst):
        d = inst[sym]
        state = ("valid" if d.get("book_valid") else
                 "behind" if d.get("behind_now") else "stale" if d.get("stale") else "invalid")
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
    fmt = rep.get("format", "?")
    lines.append(f"venue {rep['venue']} ({fmt}): {rep['frames']} frames, malformed {mal_s}, "
                 f"acks {rep.get('acks', 0)}, errors {len(rep.get('errors', []))}, "
                 f"{rep['us_per_frame']:.1f} us/frame in the feed "
                 f"({rep['wall_s']:.3f} s wall with file reading)")
    ign = rep.get("ignored") or {}
    if ign:
        lines.append("ignored: " + ", ".join(f"{k}={v}" for k, v in sorted(ign.items())))
    for w in (rep.get("reader") or {}).get("warnings", []):
        lines.append(f"warning: {w}")
    if rep.get("needs_resync"):
        lines.append("needs resync: " + ", ".join(rep["needs_resync"]))
    return "\n".join(lines)
