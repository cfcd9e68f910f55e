"""Readers for the files quants keep: one flow out of every format.

Every reader yields ``(recv_ns, item)`` in receive order, where ``item`` is a raw venue frame
(``str``/``bytes``, for the venue's parser) or, for normalized data that hold no raw frames, a
list of :class:`~tradesim_nb.BookSnapshot`/:class:`~tradesim_nb.BookDelta`/
:class:`~tradesim_nb.Trade` events. :func:`iter_events` drives a
:class:`~tradesim_nb.VenueFeed` from any reader, so a caller has one entry point::

    from tradesim_nb import formats
    reader = formats.open_source(["BTCUSDT_incremental_book_L2.csv.gz",
                                  "BTCUSDT_trades.csv.gz"])            # format="auto"
    feed = formats.open_feed(reader)                  # get_feed(reader.venue, ...)
    for recv_ns, events in formats.iter_events(reader, feed):
        ...

Formats (module, format key):

* :mod:`~tradesim_nb.formats.jsonl`: ``jsonl`` (the project's ``.jsonl.gz``), ``lines``
  (``<ns> <json>`` and ``<epoch_s>: <json>``), ``document`` (one JSON document a file);
* :mod:`~tradesim_nb.formats.tardis`: ``tardis`` (Tardis.dev incremental_book_L2,
  book_snapshot_N, trades);
* :mod:`~tradesim_nb.formats.bybit_archive`: ``bybit-archive`` (Bybit's ``*_ob500.data``
  order-book archive, zipped or not, and its trade dumps);
* :mod:`~tradesim_nb.formats.cryptofeed`: ``cryptofeed`` (``.ws.`` logs with their
  ``.http.`` REST companion).

:func:`detect` names the format of a file from its content. Errors are
:class:`FormatError` subclasses naming the file, line and field. Only the Tardis and Bybit
trade readers import pandas, and only when used.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..events import Event
from ..feed import VenueFeed
from ._base import Item, Reader, merge_by_time
from ._io import (
    DEFAULT_MAX_LINE_BYTES,
    EmptyFile,
    FormatError,
    LineTooLong,
    TruncatedFile,
    UnknownFormat,
)
from .detection import FORMATS, Detected, detect

__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "FORMATS",
    "Detected",
    "EmptyFile",
    "FormatError",
    "Item",
    "LineTooLong",
    "Reader",
    "TruncatedFile",
    "UnknownFormat",
    "consume",
    "detect",
    "iter_events",
    "merge_by_time",
    "open_feed",
    "open_source",
    "reader_class",
]

PathLike = str | os.PathLike[str]

#: formats whose files simply continue each other in the order given
_CHAINABLE = ("jsonl", "lines", "document")


def reader_class(fmt: str) -> type[Reader]:
    """The reader class of a format key (imports its module on first use)."""
    if fmt == "jsonl":
        from .jsonl import JsonlReader

        return JsonlReader
    if fmt == "lines":
        from .jsonl import LinesReader

        return LinesReader
    if fmt == "document":
        from .jsonl import DocumentReader

        return DocumentReader
    if fmt == "tardis":
        from .tardis import TardisReader

        return TardisReader
    if fmt == "bybit-archive":
        from .bybit_archive import BybitArchiveReader

        return BybitArchiveReader
    if fmt == "cryptofeed":
        from .cryptofeed import CryptofeedReader

        return CryptofeedReader
    raise ValueError(f"format={fmt!r} is not one of auto, {', '.join(FORMATS)}")


class _Chain(Reader):
    """Readers of frame formats read one after the other (files that continue each other)."""

    format = "mixed"

    def __init__(self, readers: Sequence[Reader], **kwargs: Any) -> None:
        super().__init__([p for r in readers for p in r.paths], **kwargs)
        self.readers = tuple(readers)
        self.formats = tuple(dict.fromkeys(r.format for r in readers))
        hints = {r.venue_hint for r in readers if r.venue_hint}
        self._set_venue_hint(hints.pop() if len(hints) == 1 else None)
        syms: list[str] = []
        for r in readers:
            syms += [s for s in r.symbols if s not in syms]
            for w in r.warnings:
                self.warn(w)
        self.symbols = tuple(syms)

    def _items(self) -> Iterator[tuple[int, Any]]:
        for r in self.readers:
            yield from r
            self.stats.update(r.stats)
            for w in r.warnings:
                self.warn(w)

    def bytes_read(self) -> int:
        return sum(r.bytes_read() for r in self.readers)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["formats"] = list(self.formats)
        return d


def open_source(paths: PathLike | Sequence[PathLike], format: str = "auto", *,
                venue: str | None = None, symbol: str | None = None,
                progress: bool = False, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                **options: Any) -> Reader:
    """A reader for ``paths`` in ``format`` (``"auto"``: detected from each file's content).

    Parameters
    ----------
    paths : path or sequence of paths
        The files (their meaning depends on the format; see the reader classes).
    format : str
        ``"auto"`` or one of :data:`FORMATS`.
    venue : str, optional
        The venue key; overrides what the files say.
    symbol : str, optional
        The one instrument expected (checked where the format names it).
    progress : bool
        A tqdm progress bar while iterating (off by default).
    max_line_bytes : int
        Bound on a line's length (64 MiB by default).
    **options
        Passed to the reader (``chunk_rows`` for Tardis and Bybit trade dumps).

    Returns
    -------
    Reader
        Iterate it for ``(recv_ns, item)``; see :func:`iter_events`.

    Raises
    ------
    UnknownFormat
        A file that fits no format (the message lists them).
    FormatError
        Files of formats that cannot be read together (the message names each file's).
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    plist = [Path(p) for p in paths]
    if not plist:
        raise ValueError("paths=[] must name at least one file")
    kw: dict[str, Any] = {"venue": venue, "symbol": symbol, "progress": progress,
                          "max_line_bytes": max_line_bytes}
    if format != "auto":
        cls = reader_class(format)
        return cls(plist, **kw, **_accepted(cls, options))
    found = [detect(p, max_line_bytes=max_line_bytes) for p in plist]
    fmts = list(dict.fromkeys(d.format for d in found))
    if len(fmts) == 1:
        cls = reader_class(fmts[0])
        return cls(plist, **kw, **_accepted(cls, options))
    if all(f in _CHAINABLE for f in fmts):
        readers = []
        i = 0
        while i < len(found):  # consecutive files of one format share a reader
            j = i
            while j < len(found) and found[j].format == found[i].format:
                j += 1
            cls = reader_class(found[i].format)
            readers.append(cls(plist[i:j], **kw))
            i = j
        return _Chain(readers, **kw)
    raise FormatError("files of formats that are not read together: "
                      + "; ".join(f"{d.path.name} is {d.format} ({d.detail})" for d in found)
                      + ". Pass the files of one source at a time.")


def _accepted(cls: type[Reader], options: dict[str, Any]) -> dict[str, Any]:
    params = inspect.signature(cls.__init__).parameters
    unknown = [k for k in options if k not in params]
    if unknown:
        raise TypeError(f"{cls.__name__} does not take option(s) {', '.join(unknown)}")
    return options


def open_feed(reader: Reader, venue: str | None = None, **feed_kwargs: Any) -> VenueFeed:
    """The venue feed for ``reader``: ``get_feed(venue or reader.venue, ...)``.

    A feed that takes a default ``symbol`` (Binance, whose REST snapshot names none) gets the
    reader's symbol when the reader knows exactly one.

    Parameters
    ----------
    reader : Reader
    venue : str, optional
        Overrides the reader's venue.
    **feed_kwargs
        Passed to the feed.

    Raises
    ------
    ValueError
        When neither ``venue`` nor the files name the venue.
    """
    from ..venues import get_feed

    v = venue or reader.venue
    if not v:
        raise ValueError(f"the files {', '.join(p.name for p in reader.paths[:3])} do not say "
                         "which venue they come from: pass venue=")
    if len(reader.symbols) == 1 and "symbol" not in feed_kwargs:
        try:
            return get_feed(v, symbol=reader.symbols[0], **feed_kwargs)
        except TypeError:
            pass
    return get_feed(v, **feed_kwargs)


def iter_events(reader: Iterable[tuple[int, Any]], feed: VenueFeed, *,
                before: Callable[[int], object] | None = None
                ) -> Iterator[tuple[int, list[Event]]]:
    """Drive ``feed`` from ``reader``: ``(recv_ns, events the feed returned)`` per item.

    Raw frames go through ``feed.on_frame(frame, recv_ns)``; event lists through
    ``feed.on_event`` one by one. Whatever the feed returns (the events and any statuses:
    gaps, checksum results, malformed frames) is yielded.

    Parameters
    ----------
    reader : Reader or iterable of (recv_ns, item)
    feed : VenueFeed
    before : callable, optional
        ``before(recv_ns)`` is called just before each item is applied, so a consumer can
        read the books as they stood when that item arrived (as
        :meth:`~tradesim_nb.VenueFeed.replay` does).

    Yields
    ------
    tuple of (int, list of Event)
    """
    on_frame = feed.on_frame
    on_event = feed.on_event
    for recv_ns, item in reader:
        if before is not None:
            before(recv_ns)
        if type(item) is list:
            if len(item) == 1:
                yield recv_ns, on_event(item[0])
                continue
            out: list[Event] = []
            for ev in item:
                out.extend(on_event(ev))
            yield recv_ns, out
        else:
            yield recv_ns, on_frame(item, recv_ns)


def consume(reader: Reader, feed: VenueFeed) -> int:
    """Run every item of ``reader`` through ``feed`` and return how many there were."""
    n = 0
    for _ in iter_events(reader, feed):
        n += 1
    return n
