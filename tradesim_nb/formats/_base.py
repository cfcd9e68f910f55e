"""What every reader is: paths in, ``(recv_ns, item)`` out in receive order, with its hints.

An *item* is either a raw venue frame (``str``/``bytes``: it goes through the venue's parser,
:meth:`tradesim_nb.VenueFeed.on_frame`) or, for normalized files that hold no raw frames
(Tardis CSVs, Bybit trade dumps), a ``list`` of package events (:class:`~tradesim_nb.BookSnapshot`,
:class:`~tradesim_nb.BookDelta`, :class:`~tradesim_nb.Trade`) that go through
:meth:`tradesim_nb.VenueFeed.on_event`. :func:`tradesim_nb.formats.iter_events` does that
dispatch, so a caller never needs to know which kind a reader yields.
"""

from __future__ import annotations

import heapq
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

from ..events import Event
from ._io import DEFAULT_MAX_LINE_BYTES, OpenFile

__all__ = ["Item", "Reader", "merge_by_time"]

PathLike = str | os.PathLike[str]

#: one unit of a reader's output: a raw frame for the venue parser, or parsed events
Item: TypeAlias = "str | bytes | list[Event]"

_PROGRESS_EVERY = 2048


def merge_by_time(streams: Sequence[Iterable[tuple[int, Any]]]) -> Iterator[tuple[int, Any]]:
    """K-way merge of streams each in receive order; ties keep the order of ``streams``.

    Streaming: one pending item per stream is held, never a whole file.
    """
    if len(streams) == 1:
        return iter(streams[0])
    return heapq.merge(*streams, key=itemgetter(0))


class Reader:
    """Base of every reader: iterate it for ``(recv_ns, item)`` in receive order.

    Parameters
    ----------
    paths : path or sequence of paths
        The files. What several files mean depends on the format (continuing files, files of
        one symbol merged by time, a websocket log and its REST companion, ...).
    venue : str, optional
        The venue the caller says the data come from; it overrides the hint the file gives
        (a warning is kept when the two differ).
    symbol : str, optional
        The one instrument the caller expects, where the format can check it.
    max_line_bytes : int
        Bound on a line's length (see :class:`tradesim_nb.formats.LineTooLong`).
    progress : bool
        Show a tqdm progress bar (bytes of the files read) while iterating. Off by default.

    Attributes
    ----------
    format : str
        The format key (``"tardis"``, ``"jsonl"``, ...).
    paths : tuple of Path
        The files.
    venue : str or None
        ``venue`` when given, else the venue the files name (``None`` when they do not).
    venue_hint : str or None
        What the files say, whatever ``venue`` was given.
    symbols : tuple of str
        Instruments the files name (may be empty for raw recordings).
    stats : collections.Counter
        What was read and what was skipped, by reason (nothing is dropped without a count);
        each iteration starts the counts again.
    warnings : list of str
        Things the caller should know (a missing REST companion, a venue mismatch, ...).
    items : int
        Items yielded so far.
    """

    format: ClassVar[str] = ""

    def __init__(self, paths: PathLike | Sequence[PathLike], *, venue: str | None = None,
                 symbol: str | None = None, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 progress: bool = False) -> None:
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        plist = tuple(Path(p) for p in paths)
        if not plist:
            raise ValueError("paths=[] must name at least one file")
        for p in plist:
            if not p.is_file():
                raise FileNotFoundError(f"{p}: no such file")
        if not (isinstance(max_line_bytes, int) and max_line_bytes >= 1):
            raise ValueError(f"max_line_bytes={max_line_bytes!r} must be an integer >= 1")
        if venue is not None and not (isinstance(venue, str) and venue):
            raise ValueError(f"venue={venue!r} must be a venue key such as 'binance' or None")
        if symbol is not None and not (isinstance(symbol, str) and symbol):
            raise ValueError(f"symbol={symbol!r} must be an instrument id or None")
        self.paths = plist
        self.max_line_bytes = max_line_bytes
        self.progress = bool(progress)
        self.requested_venue = venue
        self.requested_symbol = symbol
        self.venue_hint: str | None = None
        self.symbols: tuple[str, ...] = ()
        self.stats: Counter[str] = Counter()
        self.warnings: list[str] = []
        self.items = 0
        self._open: list[OpenFile] = []
        self._done_bytes = 0
        self._init_stats: Counter[str] | None = None

    # -- what subclasses provide ------------------------------------------------------------
    def _items(self) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    # -- hints ------------------------------------------------------------------------------
    @property
    def venue(self) -> str | None:
        return self.requested_venue or self.venue_hint

    def _set_venue_hint(self, hint: str | None) -> None:
        self.venue_hint = hint
        rv = self.requested_venue
        if rv and hint and rv != hint:
            self.warnings.append(f"the files say venue {hint!r} but venue={rv!r} was given; "
                                 f"using {rv!r}")

    def warn(self, message: str) -> None:
        """Keep ``message`` once in :attr:`warnings`."""
        if message not in self.warnings:
            self.warnings.append(message)

    # -- file bookkeeping (for progress) ------------------------------------------------------
    def _track(self, f: OpenFile) -> OpenFile:
        self._open.append(f)
        return f

    def _untrack(self, f: OpenFile) -> None:
        if f in self._open:
            self._open.remove(f)
            self._done_bytes += f.size
        f.close()

    def bytes_read(self) -> int:
        """Bytes of the files on disk consumed so far."""
        return self._done_bytes + sum(f.position() for f in self._open)

    def total_bytes(self) -> int:
        """The files' total size on disk."""
        return sum(p.stat().st_size for p in self.paths)

    # -- iteration ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[tuple[int, Any]]:
        # the counts describe one pass: what the constructor found, plus this iteration's
        if self._init_stats is None:
            self._init_stats = Counter(self.stats)
        self.stats = Counter(self._init_stats)
        self.items = 0
        self._done_bytes = 0
        it = self._items()
        if not self.progress:
            return self._count(it)
        return self._with_progress(it)

    def _count(self, it: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        n = 0
        try:
            for x in it:
                n += 1
                yield x
        finally:
            self.items = n
            for f in list(self._open):
                self._untrack(f)

    def _with_progress(self, it: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        from tqdm.auto import tqdm

        total = self.total_bytes()
        bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=f"{self.format} {self.paths[0].name}"
                        + (f" +{len(self.paths) - 1}" if len(self.paths) > 1 else ""))
        n = 0
        try:
            for x in it:
                n += 1
                if n % _PROGRESS_EVERY == 0:
                    bar.update(max(0, self.bytes_read() - bar.n))
                yield x
            bar.update(max(0, total - bar.n))
        finally:
            self.items = n
            for f in list(self._open):
                self._untrack(f)
            bar.close()

    def describe(self) -> dict[str, Any]:
        """What the reader is and what it counted: ``{"format", "files", "venue",
        "venue_hint", "symbols", "items", "stats", "warnings"}`` (JSON-able)."""
        return {"format": self.format, "files": [str(p) for p in self.paths],
                "venue": self.venue, "venue_hint": self.venue_hint,
                "symbols": list(self.symbols), "items": self.items, "stats": dict(self.stats),
                "warnings": list(self.warnings)}

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.paths[:3]) + (" ..." if len(self.paths) > 3 else "")
        return f"<{type(self).__name__} {self.format} [{names}] venue={self.venue!r}>"
