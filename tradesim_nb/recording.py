"""Recordings: raw frames with their receive times, written and read back.

Format written here (``.jsonl.gz``): a first line ``{"header": {...}}`` (venue, url, symbols,
start time), then one JSON object a frame, ``{"recv_ns": <int>, "frame": "<raw text>"}``.
The reader also accepts the two layouts of the shipped recordings (:mod:`tradesim_nb.datasets`):

* ``<recv_ns> <raw json>`` (Binance, hftbacktest style), gzip or plain;
* ``<epoch_s>: <raw json>`` (cryptofeed's OKX log); lines that start with a URL are the
  client's own requests and are skipped.

The reading itself lives in :mod:`tradesim_nb.formats.jsonl` (with the readers of the other
formats people keep); :func:`read_frames` is kept for its callers. This module does file I/O
only; it never touches an event loop.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

__all__ = ["RecordingWriter", "guess_venue", "read_frames", "read_header"]

PathLike = str | os.PathLike[str]


def _open_text(path: PathLike) -> IO[str]:
    p = Path(path)
    with open(p, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", newline="\n")
    return open(p, encoding="utf-8", newline="\n")


def read_frames(*paths: PathLike, max_line_bytes: int | None = None
                ) -> Iterator[tuple[int, str]]:
    """Yield ``(recv_ns, raw_frame)`` from one or more recordings in order.

    Files are read one after the other (pass continuing files in time order) by
    :class:`tradesim_nb.formats.jsonl.LinesReader`, which reads our ``.jsonl.gz`` and both
    line layouts. A line that fits no layout is skipped (and counted by the reader); a line
    of our format that is not valid JSON, or a digit-led line of neither layout, raises
    :class:`tradesim_nb.formats.FormatError` (a ``ValueError``) naming the file and line.
    ``max_line_bytes`` bounds a line's length (64 MiB when None).
    """
    from .formats.jsonl import LinesReader

    kw = {} if max_line_bytes is None else {"max_line_bytes": max_line_bytes}
    for path in paths:
        yield from LinesReader(path, **kw)


def read_header(path: PathLike) -> dict[str, Any]:
    """The header of a recording written by :class:`RecordingWriter` ({} for other layouts)."""
    with _open_text(path) as fh:
        first = fh.readline()
    if first.startswith("{"):
        try:
            obj = json.loads(first)
        except ValueError:
            return {}
        if isinstance(obj, dict) and "header" in obj:
            return dict(obj["header"])
    return {}


class RecordingWriter:
    """Append raw frames to a ``.jsonl.gz`` recording; memory stays bounded (streamed gzip).

    Use as a context manager or call :meth:`close`. ``flush_every`` frames are buffered in
    gzip's own buffer at most before a flush, so a crash loses little.
    """

    def __init__(self, path: PathLike, *, venue: str = "", url: str = "",
                 symbols: Iterable[str] = (), flush_every: int = 1000,
                 compresslevel: int = 5) -> None:
        if flush_every < 1:
            raise ValueError(f"flush_every={flush_every!r} must be >= 1")
        self.path = Path(path)
        self._fh = gzip.open(self.path, "wb", compresslevel=compresslevel)  # noqa: SIM115
        self.frames = 0
        self.flush_every = flush_every
        header = {"venue": venue, "url": url, "symbols": list(symbols),
                  "start_ns": time.time_ns(), "format": "tradesim-jsonl-1"}
        self._fh.write(orjson.dumps({"header": header}) + b"\n")

    def write(self, recv_ns: int, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            frame = frame.decode("utf-8", errors="replace")
        self._fh.write(orjson.dumps({"recv_ns": recv_ns, "frame": frame}) + b"\n")
        self.frames += 1
        if self.frames % self.flush_every == 0:
            self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def guess_venue(path: PathLike, max_frames: int = 200) -> str:
    """The venue of a recording: its header's, else the first registered venue whose feed
    recognises one of the first ``max_frames`` frames (``VenueFeed.looks_like``).

    Raises ``ValueError`` when neither tells.
    """
    from .venues.registry import VENUES

    hdr = read_header(path)
    if hdr.get("venue"):
        return str(hdr["venue"])
    feeds = [(name, VENUES[name].feed) for name in VENUES]
    for i, (_, frame) in enumerate(read_frames(path)):
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        for name, feed in feeds:
            if feed.looks_like(text):
                return name
        if i >= max_frames:
            break
    raise ValueError(f"cannot tell the venue of {path}: no header and no frame in a known "
                     "format; name it (--venue)")
