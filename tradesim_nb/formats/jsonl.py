"""The project's own recordings and the two line layouts of the shipped ones.

Layouts (all may be gzip, bzip2 or xz compressed; the compression is read from the bytes):

``jsonl``
    What :class:`tradesim_nb.recording.RecordingWriter` writes: a first line
    ``{"header": {"venue", "url", "symbols", "start_ns", "format"}}`` then one JSON object a
    frame, ``{"recv_ns": <int>, "frame": "<raw text>"}``. The header gives the venue and
    symbols. A line that is not such an object is an error naming the file and line.
``lines``
    ``<recv_ns> <raw json>`` (nanoseconds, the hftbacktest layout of the Binance recording) or
    ``<epoch_s>: <raw json>`` (seconds with a fraction, cryptofeed's layout; converted to ns
    exactly, digit by digit). Lines that start
    with a URL are the recording client's own requests and connects: they are skipped and
    counted (``client_lines``); any other line that fits no layout is counted
    (``unrecognized_lines``) with a warning naming the first one. The venue is guessed from
    the first frame's shape (a hint only).
``document``
    One JSON document (possibly pretty-printed over many lines), such as the captured GoQuant
    relay messages: one frame with ``recv_ns = 0`` (its receive time is unknown).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ._base import Reader
from ._io import FormatError, OpenFile, epoch_s_to_ns, open_stream

__all__ = ["DocumentReader", "JsonlReader", "LinesReader", "parse_line", "sniff_venue"]


def parse_line(line: bytes) -> tuple[str, int, str] | None:
    """Classify one line of a line recording.

    Returns
    -------
    tuple or None
        ``("frame", recv_ns, frame)`` for a received frame, ``("header", 0, json)`` for our
        header line, ``("client", 0, line)`` for a line starting with a URL (the recording
        client's own request or connect), ``None`` for a blank line.

    Raises
    ------
    ValueError
        A line of our own format that is not a valid recording object, or a line that fits
        no layout (the caller names the file and line).
    """
    line = line.rstrip(b"\r\n")
    if not line.strip():
        return None
    c = line[:1]
    if c == b"{":
        obj = orjson.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("a JSON line that is not an object")
        if "header" in obj:
            return "header", 0, line.decode()
        return "frame", int(obj["recv_ns"]), obj["frame"]
    if c.isdigit():
        sp = line.find(b" ")
        if sp > 0:
            head = line[:sp]
            if head.endswith(b":"):  # "<epoch_s>: <json>"
                return "frame", epoch_s_to_ns(head[:-1]), line[sp + 1:].decode()
            if head.isdigit():
                return "frame", int(head), line[sp + 1:].decode()
        raise ValueError("a line starting with a digit that is neither '<ns> <frame>' nor "
                         "'<epoch_s>: <frame>'")
    if line[:4] in (b"wss:", b"ws:/", b"http"):
        return "client", 0, line.decode(errors="replace")
    raise ValueError("fits none of the line layouts")


def sniff_venue(frame: str | bytes) -> str | None:
    """A guess of the venue from one raw frame's shape (``None`` when unsure): each venue's
    feed says whether it recognises the decoded frame (:func:`tradesim_nb.venues.sniff_venue`)."""
    from ..venues.registry import sniff_venue as sniff

    return sniff(frame)


class _LineRecording(Reader):
    """Shared reading of line recordings (see the module docstring)."""

    _content_seen = False

    def __init__(self, paths: Any, **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        self._sniff()

    def _sniff(self) -> None:
        gen = self._file_items(self.paths[0], sniffing=True)
        try:
            for _, item in gen:
                self._set_venue_hint(sniff_venue(item))
                return
        finally:
            gen.close()

    def _file_items(self, path: Path, *, sniffing: bool = False
                    ) -> Generator[tuple[int, str], None, None]:
        f = open_stream(path, max_line_bytes=self.max_line_bytes)
        if not sniffing:
            self._track(f)
        try:
            yield from self._parse_file(f, sniffing)
        finally:
            if sniffing:
                f.close()
            else:
                self._untrack(f)

    def _parse_file(self, f: OpenFile, sniffing: bool) -> Iterator[tuple[int, str]]:
        stats = self.stats
        nframes = 0
        self._content_seen = False
        try:
            for lineno, raw in enumerate(f, 1):
                # fast path: "<ns> <frame>" and "<epoch_s>: <frame>" (the common lines)
                sp = raw.find(b" ")
                if sp > 0 and raw[:1].isdigit():
                    head = raw[:sp]
                    end = len(raw) - (2 if raw.endswith(b"\r\n") else
                                      1 if raw.endswith(b"\n") else 0)
                    try:
                        # b":" ends the "<epoch_s>:" head
                        t = epoch_s_to_ns(head[:-1]) if head[-1] == 58 else int(head)
                        frame = raw[sp + 1:end].decode()
                    except (ValueError, UnicodeDecodeError):
                        pass  # the slow path below names the problem
                    else:
                        nframes += 1
                        self._content_seen = True
                        yield t, frame
                        continue
                rec = self._slow_line(f, lineno, raw, sniffing)
                if rec is not None:
                    nframes += 1
                    yield rec
        finally:
            if not sniffing:
                stats["frames"] += nframes

    def _slow_line(self, f: OpenFile, lineno: int, raw: bytes, sniffing: bool
                   ) -> tuple[int, str] | None:
        stats = self.stats
        try:
            rec = parse_line(raw)
        except UnicodeDecodeError:
            raise FormatError("not UTF-8 text (a binary file, or an archive this reader "
                              "does not open)", path=f.path, line=lineno) from None
        except (ValueError, KeyError, TypeError) as e:
            if raw[:1] == b"{" or raw[:1].isdigit():
                raise FormatError(f"not a recording line ({e})", path=f.path,
                                  line=lineno) from None
            if not self._content_seen:
                raise FormatError(f"not a {self.format} recording: the first line "
                                  f"{raw[:60].decode(errors='replace')!r} fits no line layout",
                                  path=f.path, line=lineno) from None
            if not sniffing:
                stats["unrecognized_lines"] += 1
                self.warn(f"{f.path}:{lineno}: a line that fits no layout was skipped "
                          "(all such lines are counted in stats['unrecognized_lines'])")
            return None
        if rec is None:
            return None
        self._content_seen = True
        kind, recv_ns, frame = rec
        if kind == "frame":
            return recv_ns, frame
        if kind == "header":
            if not sniffing:
                stats["header_lines"] += 1
            self._on_header(frame)
        elif not sniffing:
            stats["client_lines"] += 1
        return None

    def _on_header(self, text: str) -> None:
        pass

    def _items(self) -> Iterator[tuple[int, str]]:
        for p in self.paths:  # files continue each other, in the order given
            yield from self._file_items(p)


class LinesReader(_LineRecording):
    """``<recv_ns> <json>`` and ``<epoch_s>: <json>`` recordings, files read in the order given.

    See the module docstring for the layout; parameters are those of
    :class:`tradesim_nb.formats.Reader`.
    """

    format: ClassVar[str] = "lines"


class JsonlReader(_LineRecording):
    """The project's ``.jsonl.gz`` recordings (header line, then ``{"recv_ns", "frame"}``).

    The header gives :attr:`venue_hint` and :attr:`symbols`. Parameters are those of
    :class:`tradesim_nb.formats.Reader`.
    """

    format: ClassVar[str] = "jsonl"

    def _sniff(self) -> None:
        f = open_stream(self.paths[0], max_line_bytes=self.max_line_bytes)
        try:
            for raw in f:
                if raw.strip():
                    if raw.lstrip()[:10] == b'{"header":':
                        self._on_header(raw.decode())
                    else:
                        super()._sniff()
                    return
        finally:
            f.close()

    def _on_header(self, text: str) -> None:
        try:
            h = orjson.loads(text).get("header", {})
        except (orjson.JSONDecodeError, AttributeError):
            return
        if isinstance(h, dict):
            v = h.get("venue")
            if isinstance(v, str) and v and self.venue_hint is None:
                self._set_venue_hint(v)
            syms = h.get("symbols")
            if isinstance(syms, list) and not self.symbols:
                self.symbols = tuple(str(s) for s in syms)


class DocumentReader(Reader):
    """Files holding one JSON document each (one frame, ``recv_ns = 0``), in the order given.

    A document longer than ``max_line_bytes`` is refused. Parameters are those of
    :class:`tradesim_nb.formats.Reader`.
    """

    format: ClassVar[str] = "document"

    def __init__(self, paths: Any, **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        self._set_venue_hint(None)

    def _items(self) -> Iterator[tuple[int, str]]:
        for p in self.paths:
            f = self._track(open_stream(p, max_line_bytes=self.max_line_bytes))
            try:
                data = f.stream.read(self.max_line_bytes + 1)
            finally:
                self._untrack(f)
            if len(data) > self.max_line_bytes:
                raise FormatError(f"a JSON document longer than max_line_bytes="
                                  f"{self.max_line_bytes}", path=p)
            try:
                orjson.loads(data)
            except orjson.JSONDecodeError as e:
                raise FormatError(f"not one JSON document ({e})", path=p) from None
            self.stats["documents"] += 1
            yield 0, data.decode()
