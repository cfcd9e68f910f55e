"""Which format a file is, from its content (first bytes, zip members, first line, header).

:func:`detect` never trusts the file name alone: it reads the compression from the magic bytes,
lists a zip's members and looks at the first non-blank line. What it found is said in
:attr:`Detected.detail`, so a command can print "tardis (incremental_book_L2 CSV, gzip)".
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from ._io import (
    DEFAULT_MAX_LINE_BYTES,
    EmptyFile,
    FormatError,
    UnknownFormat,
    compression_of,
    open_stream,
    zip_members,
)

__all__ = ["FORMATS", "Detected", "detect"]

PathLike = str | os.PathLike[str]

#: every format key a reader exists for, in the order errors list them
FORMATS: tuple[str, ...] = ("jsonl", "lines", "tardis", "bybit-archive", "cryptofeed",
                            "document")

_NS_LINE = re.compile(rb"^\d{15,}\s+[\[{]")
_EPOCH_LINE = re.compile(rb"^\d{9,11}(\.\d+)?: ")
_CF_NAME = re.compile(r"\.(ws|http)\.\d+\.\d+(\.(gz|bz2|xz))?$")
_SNIFF_LINES = 64


@dataclass(frozen=True)
class Detected:
    """The result of :func:`detect`.

    Attributes
    ----------
    path : Path
    format : str
        One of :data:`FORMATS`.
    detail : str
        What was seen (data type, compression, role), for messages.
    compression : str
        ``"gzip"``, ``"zip"``, ``"none"``, ...
    """

    path: Path
    format: str
    detail: str
    compression: str


def _unknown(p: Path, what: str) -> UnknownFormat:
    return UnknownFormat(f"fits no known format ({what}); the formats are "
                         f"{', '.join(FORMATS)}", path=p)


def detect(path: PathLike, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Detected:
    """Detect the format of ``path`` from its content.

    Parameters
    ----------
    path : path
        The file.
    max_line_bytes : int
        Bound on the length of the lines looked at.

    Returns
    -------
    Detected

    Raises
    ------
    FileNotFoundError
        No such file.
    EmptyFile
        Zero bytes, or nothing but blank lines after decompression.
    TruncatedFile
        The compressed data end before the first line does.
    LineTooLong
        The first line is longer than ``max_line_bytes``.
    UnknownFormat
        The content fits none of :data:`FORMATS` (the message lists them).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise EmptyFile("empty file (0 bytes)", path=p)
    with open(p, "rb") as fh:
        comp = compression_of(fh.read(8))
    member = None
    if comp == "zip":
        names = zip_members(p)
        data = sorted(n for n in names if n.endswith(".data"))
        if not data:
            raise FormatError("zip archive holds no .data member, so it is no Bybit order-book "
                              f"archive (members: {', '.join(names) if names else 'none'}); "
                              f"the formats are {', '.join(FORMATS)}", path=p)
        member = data[0]
    lines: list[bytes] = []
    with open_stream(p, member=member, max_line_bytes=max_line_bytes) as f:
        for raw in f:
            if raw.strip():
                lines.append(raw.strip())
                if len(lines) >= _SNIFF_LINES:
                    break
    if not lines:
        raise EmptyFile("no data after " + ("decompression" if comp != "none" else
                                            "blank lines"), path=p)
    first = lines[0]
    zipped = f", zip member {member}" if member else ""
    where = f"{comp}{zipped}" if comp != "none" else "plain text"

    # -- JSON lines -----------------------------------------------------------------------
    if first[:1] in (b"{", b"["):
        try:
            obj = orjson.loads(first)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            if "header" in obj or ("recv_ns" in obj and "frame" in obj):
                return Detected(p, "jsonl", f"tradesim recording ({where})", comp)
            topic = obj.get("topic")
            if isinstance(topic, str) and topic.startswith("orderbook.") and "ts" in obj:
                return Detected(p, "bybit-archive", f"Bybit order-book archive, {topic} "
                                f"({where})", comp)
        if obj is None:
            return Detected(p, "document", f"one JSON document ({where})", comp)
        if member:
            raise _unknown(p, f"zip member {member} does not hold orderbook messages")
        return Detected(p, "document", f"one JSON document on one line ({where})", comp)
    if member:
        raise _unknown(p, f"zip member {member} does not hold orderbook messages")

    # -- recorded lines ---------------------------------------------------------------------
    text = first.decode(errors="replace")
    if first.startswith((b"wss://", b"ws://")) and (b" <-> " in first or b" <- " in first):
        return Detected(p, "cryptofeed", f"cryptofeed websocket log ({where})", comp)
    if first.startswith(b"configuration: "):
        return Detected(p, "cryptofeed", f"cryptofeed websocket log with its configuration "
                        f"header ({where})", comp)
    if first.startswith(b"http") and b" -> " in first:
        return Detected(p, "cryptofeed", f"cryptofeed REST companion (.http.) ({where})", comp)
    if _NS_LINE.match(first):
        return Detected(p, "lines", f"'<recv_ns> <frame>' lines ({where})", comp)
    if _EPOCH_LINE.match(first):
        cf = _CF_NAME.search(p.name) is not None
        if cf:
            return Detected(p, "cryptofeed", f"cryptofeed websocket log ({where})", comp)
        return Detected(p, "lines", f"'<epoch_s>: <frame>' lines ({where})", comp)

    # -- CSV headers --------------------------------------------------------------------------
    if b"," in first:
        cols = [c.strip() for c in next(csv.reader([text]))]
        cs = set(cols)
        if {"exchange", "symbol", "timestamp", "local_timestamp"} <= cs:
            if "is_snapshot" in cs:
                kind = "incremental_book_L2"
            elif any(c.startswith("asks[") for c in cols):
                n = sum(1 for c in cols if c.startswith("asks[") and c.endswith(".price"))
                kind = f"book_snapshot_{n}"
            elif {"id", "side", "price", "amount"} <= cs:
                kind = "trades"
            else:
                kind = "a data type this reader does not replay"
            return Detected(p, "tardis", f"Tardis {kind} CSV ({where})", comp)
        if {"timestamp", "symbol", "side", "size", "price"} <= cs:
            return Detected(p, "bybit-archive", f"Bybit trade dump CSV ({where})", comp)
        if len(cols) >= 4 and cols[2].isdigit() and cols[3].isdigit():
            raise FormatError("a CSV without its header line (a Tardis file starts with "
                              "'exchange,symbol,timestamp,local_timestamp,...')", path=p, line=1)
    raise _unknown(p, f"first line {text[:80]!r}")
