"""Replay recordings through a venue's real parser and books, and report what happened.

:func:`replay` reads every frame of one or more recordings (any layout
:func:`tradesim_nb.recording.read_frames` reads, plus single JSON documents such as the GoQuant
relay samples), feeds it to :func:`tradesim_nb.venues.get_feed` and returns a JSON-able report:
per-instrument counters (checksums, gaps, resyncs, crossed books, BBO cross-checks), the final top
of book, malformed frames by reason and the time the feed spent per frame.

No printing here; ``tradesim replay`` (:mod:`tradesim_nb.cli.replay`) formats the report.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from .recording import PathLike, _open_text, read_frames
from .venues import get_feed

__all__ = ["iter_frames", "replay"]

#: a file larger than this is never read whole to test for one JSON document
_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


def _single_document(path: PathLike) -> str | None:
    """The text of ``path`` if it is one (pretty-printed) JSON document rather than a line
    recording, else None. A first line that is already complete JSON means a line format."""
    p = Path(path)
    if p.stat().st_size > _MAX_DOCUMENT_BYTES:
        return None
    with _open_text(p) as fh:
        text = fh.read()
    body = text.lstrip()
    if not body or body[0] not in "{[":
        return None
    first = body.split("\n", 1)[0]
    try:
        orjson.loads(first)
        return None  # a complete JSON object on the first line: a line recording
    except orjson.JSONDecodeError:
        pass
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(obj, dict) and ("header" in obj or "recv_ns" in obj):
        return None
    return body


def iter_frames(paths: Iterable[PathLike]) -> Iterator[tuple[int, str]]:
    """``(recv_ns, frame)`` of every recording in order; a file holding one JSON document is one
    frame with ``recv_ns = 0`` (its receive time is unknown)."""
    for path in paths:
        doc = _single_document(path)
        if doc is not None:
            yield 0, doc
        else:
            yield from read_frames(path)


def replay(paths: Iterable[PathLike] | PathLike, venue: str, **feed_kwargs: Any) -> dict[str, Any]:
    """Run every frame of ``paths`` through ``get_feed(venue, **feed_kwargs)``.

    Parameters
    ----------
    paths : path or iterable of paths
        Recordings, read in the order given (pass continuing files in time order).
    venue : str
        A key of :data:`tradesim_nb.venues.VENUES`.
    **feed_kwargs
        Passed to the feed (``sanitize_crossed``, ``verify_checksums``).

    Returns
    -------
    dict
        ``{"venue", "files", "frames", "malformed": {reason: count}, "acks", "errors",
        "needs_resync", "us_per_frame", "wall_s", "instruments": {symbol: {...}}}`` where each
        instrument has ``frames`` (book messages), ``snapshots``, ``deltas``, ``trades``,
        ``bbos``, ``checksum_ok``, ``checksum_failed``, ``gaps``, ``resyncs``, ``heartbeats``,
        ``sequence_resets``, ``stale_dropped``, ``crossed``, ``crossed_removed_levels``,
        ``top_match``, ``top_mismatch``, ``best_bid``, ``best_bid_size``, ``best_ask``,
        ``best_ask_size``, ``book_valid``, ``stale``, ``levels``. ``us_per_frame`` is the time
        spent inside the feed (parse, sequence, apply, checksum) divided by the frames; file
        reading is in ``wall_s`` only.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    plist = [Path(p) for p in paths]  # type: ignore[union-attr]
    if not plist:
        raise ValueError("paths=[] must name at least one recording")
    for p in plist:
        if not p.is_file():
            raise FileNotFoundError(f"recording {p} does not exist")
    feed = get_feed(venue, **feed_kwargs)
    clock = time.perf_counter_ns
    n = 0
    t0 = clock()
    for _ in feed.replay(iter_frames(plist)):
        n += 1
    wall_ns = clock() - t0
    spent_ns = feed.busy_ns
    rep = feed.summary()
    rep["files"] = [str(p) for p in plist]
    rep["needs_resync"] = sorted(feed.needs_resync)
    rep["us_per_frame"] = spent_ns / n / 1e3 if n else float("nan")
    rep["wall_s"] = wall_ns / 1e9
    return rep
