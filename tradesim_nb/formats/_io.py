"""File access shared by the readers: decompression, bounded lines, clear errors.

Every reader opens its files through :func:`open_stream`, which

* recognises the compression from the first bytes (gzip, bzip2, xz, a zip member, or none),
  never from the file name;
* bounds the length of a line (``max_line_bytes``, 64 MiB by default): a longer line raises
  :class:`LineTooLong` naming the file and line instead of filling the memory;
* turns a compressed stream that ends early (a truncated download) into
  :class:`TruncatedFile`, which says how many complete lines were read before it. The lines
  before the damage have already been delivered to the caller when it is raised.

This module only reads files; it never imports pandas.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "EmptyFile",
    "FormatError",
    "LineTooLong",
    "OpenFile",
    "TruncatedFile",
    "UnknownFormat",
    "compression_of",
    "epoch_s_to_ns",
    "open_stream",
    "zip_members",
]

PathLike = str | os.PathLike[str]

#: the longest line a reader accepts unless told otherwise (64 MiB)
DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024

_BLOCK = 1 << 20


class FormatError(ValueError):
    """A file that a reader cannot read as its format, with the place where it went wrong.

    Parameters
    ----------
    message : str
        What was wrong.
    path : path, optional
        The file.
    line : int, optional
        The 1-based line (for CSV files the header is line 1).
    field : str, optional
        The column or field that was wrong.

    Attributes
    ----------
    path, line, field
        As given (``None`` when not known).
    """

    def __init__(self, message: str, *, path: PathLike | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = None if path is None else Path(path)
        self.line = line
        self.field = field


class UnknownFormat(FormatError):
    """A file that fits none of the formats (the message lists them)."""


class EmptyFile(FormatError):
    """A file with no data (zero bytes, or nothing after decompression)."""


class LineTooLong(FormatError):
    """A line longer than the reader's ``max_line_bytes``."""


class TruncatedFile(FormatError):
    """A compressed file that ends before its end-of-stream marker (an interrupted download).

    Attributes
    ----------
    lines_read : int
        Complete lines decompressed before the damage (they were delivered).
    bytes_read : int
        Decompressed bytes read before the damage.
    """

    def __init__(self, message: str, *, path: PathLike | None = None, lines_read: int = 0,
                 bytes_read: int = 0) -> None:
        super().__init__(message, path=path)
        self.lines_read = lines_read
        self.bytes_read = bytes_read


def epoch_s_to_ns(text: str | bytes) -> int:
    """Seconds since the epoch written as a decimal (``"1652459225.2987883"``) to integer ns.

    Exact for up to nine decimals (``round(float(x) * 1e9)`` is not: a float64 near 1.6e18 ns
    is a multiple of 256 ns). Other spellings (an exponent) go through float.

    Raises
    ------
    ValueError
        When ``text`` is not a number.
    """
    if isinstance(text, bytes):
        text = text.decode("ascii")
    whole, dot, frac = text.strip().partition(".")
    if whole.isdigit() and (not dot or frac.isdigit() or frac == ""):
        return int(whole) * 1_000_000_000 + (int(frac[:9].ljust(9, "0")) if frac else 0)
    return round(float(text) * 1e9)


def compression_of(head: bytes) -> str:
    """``"gzip"``, ``"bzip2"``, ``"xz"``, ``"zip"`` or ``"none"`` from a file's first bytes."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh":
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    return "none"


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(8)


def zip_members(path: PathLike) -> list[str]:
    """The names of the files inside a zip archive (folders left out)."""
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as zf:
            return [i.filename for i in zf.infolist() if not i.is_dir()]
    except zipfile.BadZipFile as e:
        raise TruncatedFile(f"not a readable zip archive ({e})", path=p) from None


class _Guarded(io.RawIOBase):
    """A decompressed byte stream that counts lines, bounds their length and names damage."""

    def __init__(self, inner: IO[bytes], path: Path, compression: str, max_line: int) -> None:
        self._inner = inner
        self._path = path
        self._compression = compression
        self._max = max_line
        self.lines = 0
        self.nbytes = 0
        self._run = 0  # bytes since the last newline

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            n = self._inner.readinto(b)  # type: ignore[attr-defined]
        except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile, lzma.LZMAError,
                OSError) as e:
            what = "gzip" if self._compression == "gzip" else self._compression
            raise TruncatedFile(
                f"truncated or damaged {what} data after {self.lines} complete lines "
                f"({self.nbytes} bytes decompressed; everything before was read): {e}",
                path=self._path, lines_read=self.lines, bytes_read=self.nbytes) from None
        if not n:
            return 0
        chunk = memoryview(b)[:n].tobytes()
        mx = self._max
        first = chunk.find(b"\n")
        if first < 0:
            self._run += n
            if self._run > mx:
                raise self._too_long(self.lines + 1)
        else:
            if self._run + first > mx:
                raise self._too_long(self.lines + 1)
            if n > mx:  # a whole line longer than the bound may sit inside this block
                self._interior(chunk, first)
            self.lines += chunk.count(b"\n")
            self._run = n - 1 - chunk.rfind(b"\n")
            if self._run > mx:
                raise self._too_long(self.lines + 1)
        self.nbytes += n
        return n

    def _interior(self, chunk: bytes, first: int) -> None:
        """Find a line longer than the bound between two newlines of ``chunk``: look at
        windows of half the bound; only a window without a newline can be inside one."""
        mx = self._max
        step = max(1, mx // 2)
        n = len(chunk)
        a = first + 1
        while a + step <= n:
            b = a + step
            if chunk.find(b"\n", a, b) >= 0:
                a = b
                continue
            lo = chunk.rfind(b"\n", 0, a) + 1
            hi = chunk.find(b"\n", b)
            if hi < 0:
                return  # the block's tail: counted in the run
            if hi - lo > mx:
                raise self._too_long(self.lines + chunk.count(b"\n", 0, lo) + 1)
            a = hi + 1

    def _too_long(self, line: int) -> LineTooLong:
        return LineTooLong(f"line longer than max_line_bytes={self._max} (a file of one huge "
                           "line is no recording; raise the bound if it really is one)",
                           path=self._path, line=line)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


@dataclass
class OpenFile:
    """An opened input: ``stream`` (decompressed bytes, buffered) and the raw file under it.

    Attributes
    ----------
    path : Path
        The file.
    stream : BinaryIO
        Decompressed, line-bounded bytes.
    compression : str
        As :func:`compression_of` names it (``"zip"`` with ``member`` set for a zip member).
    member : str or None
        The zip member read.
    size : int
        The file's size on disk (for progress).
    """

    path: Path
    stream: BinaryIO
    compression: str
    member: str | None
    size: int
    _raw: BinaryIO = field(repr=False)
    _guard: _Guarded = field(repr=False)

    def position(self) -> int:
        """Bytes of the file on disk consumed so far."""
        try:
            return self.size if self._raw.closed else min(self._raw.tell(), self.size)
        except (OSError, ValueError):
            return self.size

    @property
    def lines_read(self) -> int:
        """Newlines decompressed so far (read ahead of the consumer by one buffer)."""
        return self._guard.lines

    def close(self) -> None:
        try:
            self.stream.close()
        finally:
            self._raw.close()

    def __enter__(self) -> OpenFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.stream)


def open_stream(path: PathLike, *, member: str | None = None,
                max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> OpenFile:
    """Open ``path`` for reading its (decompressed) bytes line by line.

    Parameters
    ----------
    path : path
        The file; its compression is read from its first bytes.
    member : str, optional
        For a zip archive, the member to read (required when the file is a zip).
    max_line_bytes : int
        A line longer than this raises :class:`LineTooLong` while reading.

    Returns
    -------
    OpenFile
        Close it (or use it as a context manager) when done.

    Raises
    ------
    FileNotFoundError
        When ``path`` is not a file.
    EmptyFile
        When the file has zero bytes.
    FormatError
        A zip without ``member``, or a member the archive does not hold.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    if not (isinstance(max_line_bytes, int) and max_line_bytes >= 1):
        raise ValueError(f"max_line_bytes={max_line_bytes!r} must be an integer >= 1")
    size = p.stat().st_size
    if size == 0:
        raise EmptyFile("empty file (0 bytes)", path=p)
    comp = compression_of(_head(p))
    raw: BinaryIO = open(p, "rb")  # noqa: SIM115 - closed by OpenFile.close
    try:
        inner: Any
        if comp == "gzip":
            inner = gzip.GzipFile(fileobj=raw, mode="rb")
        elif comp == "bzip2":
            inner = bz2.BZ2File(raw, "rb")
        elif comp == "xz":
            inner = lzma.LZMAFile(raw, "rb")  # noqa: SIM115
        elif comp == "zip":
            if member is None:
                raise FormatError("is a zip archive: name the member to read", path=p)
            try:
                zf = zipfile.ZipFile(raw)
                inner = zf.open(member)
            except KeyError:
                raise FormatError(f"zip archive holds no member {member!r}", path=p) from None
            except zipfile.BadZipFile as e:
                raise TruncatedFile(f"not a readable zip archive ({e})", path=p) from None
        else:
            inner = raw
        guard = _Guarded(inner, p, comp, max_line_bytes)
        stream: BinaryIO = io.BufferedReader(guard, buffer_size=_BLOCK)  # type: ignore[assignment]
    except BaseException:
        raw.close()
        raise
    return OpenFile(p, stream, comp, member, size, raw, guard)
