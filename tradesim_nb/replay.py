"""Replay recordings through a venue's real parser and books, and report what happened.

:func:`replay` opens the files with :func:`tradesim_nb.formats.open_source` (any format it
reads: the project's ``.jsonl.gz``, ``<ns> <json>`` and ``<epoch>: <json>`` logs, single JSON
documents such as the GoQuant relay samples, Tardis CSVs, Bybit archives, cryptofeed logs),
drives the venue's feed (:func:`tradesim_nb.venues.get_feed`) with every item and returns a
JSON-able report: the format read, per-book counters (checksums, gaps, resyncs, crossed books,
BBO cross-checks, refused events, time going backwards), the final top of book, malformed
frames by reason, the reader's own counts and warnings, and the time the feed spent per frame.

A file that ends early (a truncated gzip) or holds a line over the line-length bound still
gives the report of what was read before it, with ``error`` saying what went wrong;
:func:`problems` lists why a report describes no usable book. No printing here;
``tradesim replay`` (:mod:`tradesim_nb.cli.replay`) formats the report and sets the exit code.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .formats import DEFAULT_MAX_LINE_BYTES, FormatError, open_source
from .recording import PathLike, read_frames

__all__ = ["iter_frames", "problems", "replay"]


def iter_frames(paths: Iterable[PathLike]) -> Iterator[tuple[int, str | bytes]]:
    """``(recv_ns, frame)`` of every raw frame of the recordings, in order (any raw-frame
    format :func:`tradesim_nb.formats.open_source` reads; a file holding one JSON document is
    one frame with ``recv_ns = 0``, its receive time being unknown)."""
    plist = [Path(p) for p in paths]
    if not plist:
        return
    for recv_ns, item in open_source(plist):
        if isinstance(item, list):
            raise FormatError(f"{plist[0].name}: normalized events, not raw frames; read it "
                              "with tradesim_nb.formats.iter_events")
        yield recv_ns, item


def replay(paths: Iterable[PathLike] | PathLike, venue: str | None = None, *,
           format: str = "auto", symbol: str | None = None, progress: bool = False,
           max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, max_lag_s: float | None = None,
           **feed_kwargs: Any) -> dict[str, Any]:
    """Run every frame (or event) of ``paths`` through the venue's feed.

    Parameters
    ----------
    paths : path or iterable of paths
        Recordings, read in the order given (pass continuing files in time order).
    venue : str, optional
        A key of :data:`tradesim_nb.venues.VENUES`; default: the venue the files name.
    format : str
        ``"auto"`` (detected from each file's content) or a format key of
        :data:`tradesim_nb.formats.FORMATS`.
    symbol : str, optional
        The instrument the files are of: the symbol of a snapshot that names none (Binance's
        REST answer) where the feed takes it, and the one the report is about.
    progress : bool
        A tqdm progress bar (bytes read) on stderr.
    max_line_bytes : int
        The longest line accepted (64 MiB by default); a longer one ends the replay with an
        ``error``.
    max_lag_s : float, optional
        The staleness bound (seconds) of the feed: a book whose venue time is further behind
        the frame's receive time is not valid. Default: none.
    **feed_kwargs
        Passed to the feed (``sanitize_crossed``, ``verify_checksums``).

    Returns
    -------
    dict
        ``{"venue", "format", "formats", "files", "frames", "malformed": {reason: count},
        "acks", "errors", "needs_resync", "us_per_frame", "wall_s", "reader": {...},
        "error", "instruments": {book: {...}}}``. Each book has ``frames`` (book messages),
        ``snapshots``, ``deltas``, ``trades``, ``bbos``, ``checksum_ok``, ``checksum_failed``,
        ``gaps``, ``resyncs``, ``heartbeats``, ``sequence_resets``, ``stale_dropped``,
        ``crossed``, ``crossed_removed_levels``, ``top_match``, ``top_mismatch``,
        ``time_backwards``, ``older_snapshots``, ``behind``, ``refused``, ``best_bid``,
        ``best_bid_size``, ``best_ask``, ``best_ask_size``, ``book_valid``, ``stale``,
        ``levels``. ``us_per_frame`` is the time spent inside the feed (parse, sequence,
        apply, checksum) divided by the items; file reading is in ``wall_s`` only. ``error``
        is None, or what ended the replay early (a truncated file, a line too long).

    Raises
    ------
    FileNotFoundError, FormatError, ValueError
        A missing file, a file in no known format, an empty file, a venue that is not known or
        not named.
    """
    from .formats import open_feed

    if isinstance(paths, str | Path):
        paths = [paths]
    plist = [Path(p) for p in paths]  # type: ignore[union-attr]
    if not plist:
        raise ValueError("paths=[] must name at least one recording")
    for p in plist:
        if not p.is_file():
            raise FileNotFoundError(f"recording {p} does not exist")
    reader = open_source(plist, format, venue=venue, symbol=symbol, progress=progress,
                         max_line_bytes=max_line_bytes)
    kw = dict(feed_kwargs)
    if symbol is not None:
        kw["symbol"] = symbol
    try:
        feed = open_feed(reader, venue, **kw)
    except TypeError:  # a feed that takes no symbol: the symbol only selects the report
        kw.pop("symbol", None)
        feed = open_feed(reader, venue, **kw)
    feed.max_lag_s = max_lag_s
    clock = time.perf_counter_ns
    on_frame = feed.on_frame
    on_event = feed.on_event
    n = 0
    busy = 0
    error: str | None = None
    t0 = clock()
    try:
        for recv_ns, item in reader:
            n += 1
            t = clock()
            if type(item) is list:
                for ev in item:
                    on_event(ev)
            else:
                on_frame(item, recv_ns)
            busy += clock() - t
    except FormatError as e:  # a truncated file, a line too long: report what was read
        error = f"{type(e).__name__}: {e}"
    wall_ns = clock() - t0
    rep = feed.summary()
    rep["format"] = reader.format
    rep["formats"] = list(getattr(reader, "formats", (reader.format,)))
    rep["files"] = [str(p) for p in plist]
    rep["items"] = n
    rep["needs_resync"] = sorted(feed.needs_resync)
    rep["us_per_frame"] = busy / n / 1e3 if n else float("nan")
    rep["wall_s"] = wall_ns / 1e9
    rep["reader"] = reader.describe()
    rep["symbol"] = symbol
    rep["error"] = error
    return rep


def problems(rep: dict[str, Any]) -> list[str]:
    """Why a :func:`replay` report describes no usable book, one line each (empty: none).

    A report is a problem when the replay ended early (``error``), when no frame was a book
    message of the venue (a file of another venue or format, an empty file), or when the
    ``symbol`` asked for has no book.
    """
    out: list[str] = []
    if rep.get("error"):
        out.append(f"read {rep.get('items', 0)} items, then: {rep['error']}")
    inst = rep.get("instruments", {})
    booked = {k: d for k, d in inst.items() if d.get("frames", 0) > 0}
    if not booked:
        what = [f"{rep.get('frames', 0)} frames"]
        if rep.get("malformed"):
            what.append("malformed " + ", ".join(f"{k}={v}" for k, v in
                                                 sorted(rep["malformed"].items())[:5]))
        if rep.get("ignored"):
            what.append("ignored " + ", ".join(f"{k}={v}" for k, v in
                                               sorted(rep["ignored"].items())[:5]))
        if rep.get("held_snapshot"):
            what.append("a snapshot that names no symbol (pass --symbol)")
        hint = _other_venue(rep)
        out.append(f"no book: {'; '.join(what)}; none is a book message of venue "
                   f"{rep.get('venue')!r}" + (f" (they look like {hint})" if hint else ""))
    sym = rep.get("symbol")
    if sym and booked and not any(k == sym or d.get("symbol") == sym for k, d in booked.items()):
        out.append(f"no book of {sym!r}; the files carry {', '.join(sorted(booked)[:10])}")
    return out


def _other_venue(rep: dict[str, Any]) -> str:
    """The venues whose feed recognises the first frames of the replayed files, if another."""
    from .venues import VENUES

    files = rep.get("files") or []
    try:
        head = [f if isinstance(f, str) else f.decode("utf-8", "replace")
                for _, (_, f) in zip(range(50), read_frames(*files))]
    except Exception:
        return ""
    found = []
    for name in VENUES:
        if name == rep.get("venue"):
            continue
        cls = VENUES[name].feed
        if any(cls.looks_like(f) for f in head):
            found.append(name)
    return " or ".join(found[:3])
