"""Bybit's public history files: the order-book archive and the trade dumps.

Order-book archive (the "Orderbook" downloads of bybit.com's history-data page, served from
``quote-saver.bycsi.com/orderbook/<category>/<SYMBOL>/<day>_<SYMBOL>_ob500.data.zip``; spot
files are ``ob200``): one v5 websocket message a line, exactly as the ``orderbook.{depth}``
topic pushes it::

    {"topic":"orderbook.500.BTCUSDT","type":"snapshot"|"delta","ts":<ms>,
     "data":{"s":"BTCUSDT","b":[[px,sz],...],"a":[[px,sz],...],"u":<update id>,"seq":<n>},
     "cts":<ms>}

in a ``.data`` file, usually inside a ``.zip`` (every ``.data`` member is read, by name). The
lines are raw frames for :class:`tradesim_nb.venues.bybit.BybitFeed`, which applies the ``u``
chain and counts gaps. The files hold no local receive time, so the receive time of a line is
its ``ts`` (the time Bybit's system generated it). The first line must be such a message; a
later line without ``ts`` keeps the previous time and is counted (``lines_without_ts``) and
the feed counts it malformed if it is.

Trade dumps (``public.bybit.com/trading/<SYMBOL>/<SYMBOL><day>.csv.gz``): CSV with the header
``timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,
foreignNotional`` (newer files add ``RPI``); ``timestamp`` in seconds with a fraction
(milliseconds are recognised by their size), ``side`` the taker's (``Buy``/``Sell``). Each row
becomes a :class:`~tradesim_nb.Trade` whose receive time is its timestamp. Some dumps run
backwards in time: such a file is detected on its first rows and read whole to be reversed
(memory proportional to that file); a file whose order changes direction is an error.

Several files are merged by time (a day's book with its trades, or consecutive days).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import orjson

from ..events import Event, Trade
from ._base import Reader, merge_by_time
from ._io import FormatError, compression_of, open_stream, zip_members

__all__ = ["TRADE_COLUMNS", "BybitArchiveReader", "BybitFile", "inspect_bybit_file"]

_TS = re.compile(rb'"ts"\s*:\s*(\d+)')
#: the columns of Bybit's trade dumps (``RPI`` appears in newer files)
TRADE_COLUMNS: tuple[str, ...] = ("timestamp", "symbol", "side", "size", "price",
                                  "tickDirection", "trdMatchID", "grossValue", "homeNotional",
                                  "foreignNotional", "RPI")
_TRADE_REQUIRED = ("timestamp", "symbol", "side", "size", "price")
_DEFAULT_CHUNK_ROWS = 1 << 16


@dataclass(frozen=True)
class BybitFile:
    """What a Bybit history file holds.

    Attributes
    ----------
    path : Path
    kind : {"orderbook", "trades"}
    members : tuple of str
        The ``.data`` members read from a zip (empty for a plain file).
    symbol : str
    depth : int
        The order-book depth of the topic (500, 200, ...), 0 for trades.
    columns : tuple of str
        The CSV header of a trade dump (empty for order books).
    """

    path: Path
    kind: Literal["orderbook", "trades"]
    members: tuple[str, ...]
    symbol: str
    depth: int
    columns: tuple[str, ...] = ()


def _first_line(path: Path, member: str | None, max_line_bytes: int) -> bytes:
    with open_stream(path, member=member, max_line_bytes=max_line_bytes) as f:
        for raw in f:
            if raw.strip():
                return raw.strip()
    return b""


def _orderbook_topic(path: Path, line: bytes, lineno: int = 1) -> tuple[str, int]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise FormatError(f"not a Bybit order-book archive: the first line is not JSON ({e})",
                          path=path, line=lineno) from None
    topic = obj.get("topic") if isinstance(obj, dict) else None
    if not (isinstance(topic, str) and topic.startswith("orderbook.")
            and isinstance(obj.get("data"), dict) and "ts" in obj):
        raise FormatError("not a Bybit order-book archive: the first line is not an "
                          "'orderbook.<depth>.<symbol>' message with 'ts' and 'data'",
                          path=path, line=lineno)
    parts = topic.split(".")
    depth = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0
    sym = str(obj["data"].get("s") or parts[-1])
    return sym, depth


def inspect_bybit_file(path: str | Path, *, max_line_bytes: int = 64 * 1024 * 1024
                       ) -> BybitFile:
    """What a Bybit history file is (order-book archive or trade dump), from its first line.

    Parameters
    ----------
    path : path
        A ``.data`` file, a ``.zip`` holding ``.data`` members, or a trade ``.csv(.gz)``.
    max_line_bytes : int
        Bound on a line's length.

    Returns
    -------
    BybitFile

    Raises
    ------
    FormatError
        A zip without a ``.data`` member, or a first line that is neither layout.
    """
    p = Path(path)
    with open(p, "rb") as fh:
        comp = compression_of(fh.read(8))
    members: tuple[str, ...] = ()
    if comp == "zip":
        names = zip_members(p)
        members = tuple(sorted(n for n in names if n.endswith(".data")))
        if not members:
            raise FormatError("zip archive holds no .data member (members: "
                              f"{', '.join(names) if names else 'none'})", path=p)
    line = _first_line(p, members[0] if members else None, max_line_bytes)
    if not line:
        from ._io import EmptyFile

        raise EmptyFile("no data", path=p)
    if line[:1] == b"{":
        sym, depth = _orderbook_topic(p, line)
        return BybitFile(p, "orderbook", members, sym, depth)
    cols = tuple(c.strip() for c in next(csv.reader([line.decode(errors="replace")])))
    if set(_TRADE_REQUIRED) <= set(cols):
        unknown = [c for c in cols if c not in TRADE_COLUMNS]
        if unknown:
            raise FormatError(f"Bybit trade dump header: unknown column(s) {', '.join(unknown)}",
                              path=p, line=1)
        return BybitFile(p, "trades", members, "", 0, cols)
    raise FormatError("not a Bybit history file: neither an order-book archive line nor the "
                      f"trade dump header '{','.join(TRADE_COLUMNS[:10])}'", path=p, line=1)


class BybitArchiveReader(Reader):
    """Bybit order-book archives (``.data``, ``.zip``) and trade dumps, merged by time.

    Parameters
    ----------
    paths : path or sequence of paths
        The files (see the module docstring).
    venue : str, optional
        Venue key for the events (default ``"bybit"``).
    symbol : str, optional
        The symbol every file must hold.
    chunk_rows : int
        Rows of a trade dump read at a time.
    max_line_bytes, progress
        See :class:`tradesim_nb.formats.Reader`.

    Attributes
    ----------
    files : tuple of BybitFile
    """

    format: ClassVar[str] = "bybit-archive"

    def __init__(self, paths: Any, *, chunk_rows: int = _DEFAULT_CHUNK_ROWS,
                 **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        if not (isinstance(chunk_rows, int) and chunk_rows >= 1):
            raise ValueError(f"chunk_rows={chunk_rows!r} must be an integer >= 1")
        self.chunk_rows = chunk_rows
        self.files = tuple(inspect_bybit_file(p, max_line_bytes=self.max_line_bytes)
                           for p in self.paths)
        want = self.requested_symbol
        syms: list[str] = []
        for bf in self.files:
            if bf.kind == "orderbook":
                if want is not None and bf.symbol != want:
                    raise FormatError(f"holds symbol {bf.symbol!r} but symbol={want!r} was "
                                      "asked for", path=bf.path, line=1, field="symbol")
                if bf.symbol not in syms:
                    syms.append(bf.symbol)
        self.symbols = tuple(syms)
        self._set_venue_hint("bybit")

    # -- order books ---------------------------------------------------------------------------
    def _orderbook_lines(self, bf: BybitFile) -> Iterator[tuple[int, str]]:
        stats = self.stats
        last = 0
        for member in bf.members or (None,):
            f = self._track(open_stream(bf.path, member=member,
                                        max_line_bytes=self.max_line_bytes))
            where = f"{bf.path}" + (f"[{member}]" if member else "")
            try:
                first = True
                for lineno, raw in enumerate(f, 1):
                    line = raw.rstrip(b"\r\n")
                    if not line.strip():
                        continue
                    if first:
                        _orderbook_topic(Path(where), line, lineno)
                        first = False
                    m = _TS.search(line)
                    if m is None:
                        stats["lines_without_ts"] += 1
                        self.warn(f"{where}:{lineno}: a line without 'ts' was kept at the "
                                  "previous time (counted in stats['lines_without_ts'])")
                        t = last
                    else:
                        t = int(m.group(1)) * 1_000_000
                        if t < last:
                            stats["ts_backwards"] += 1
                            self.warn(f"{where}:{lineno}: 'ts' went backwards (counted in "
                                      "stats['ts_backwards'])")
                        last = t
                    try:
                        text = line.decode()
                    except UnicodeDecodeError:
                        raise FormatError("not UTF-8 text", path=where, line=lineno) from None
                    stats["frames"] += 1
                    yield t, text
            finally:
                self._untrack(f)

    # -- trades --------------------------------------------------------------------------------
    def _trade_chunks(self, bf: BybitFile) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        import pandas as pd

        f = self._track(open_stream(bf.path, member=bf.members[0] if bf.members else None,
                                    max_line_bytes=self.max_line_bytes))
        try:
            f.stream.readline()  # the header, read by inspect_bybit_file
            dtype: dict[str, Any] = {c: object for c in bf.columns}
            dtype["timestamp"] = np.float64
            dtype["symbol"] = "category"
            dtype["side"] = "category"
            line = 2
            reader = pd.read_csv(f.stream, header=None, names=list(bf.columns), dtype=dtype,
                                 chunksize=self.chunk_rows, engine="c", keep_default_na=False,
                                 na_values=[""])
            it = iter(reader)
            while True:
                try:
                    df = next(it)
                except StopIteration:
                    break
                except (ValueError, pd.errors.ParserError) as e:
                    raise FormatError(f"unreadable trade rows after line {line}: {e}",
                                      path=bf.path, line=line) from None
                yield line, self._trade_arrays(bf, line, df)
                line += len(df)
        finally:
            self._untrack(f)

    def _trade_arrays(self, bf: BybitFile, line: int, df: Any) -> dict[str, np.ndarray]:
        ts = df["timestamp"].to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(ts))
        if bad.size:
            raise FormatError("empty or non-numeric timestamp", path=bf.path,
                              line=line + int(bad[0]), field="timestamp")
        if len(ts) and np.nanmax(ts) < 1e11:  # seconds with a fraction
            ns = np.round(ts * 1e6).astype(np.int64) * 1000
        elif len(ts) and np.nanmax(ts) < 1e14:  # milliseconds
            ns = np.round(ts).astype(np.int64) * 1_000_000
        else:
            ns = ts.astype(np.int64)
            if len(ts):
                raise FormatError(f"timestamp={ts[0]!r} is neither seconds nor milliseconds "
                                  "since the epoch", path=bf.path, line=line,
                                  field="timestamp")
        sym = df["symbol"]
        cats = [str(c) for c in sym.cat.categories]
        codes = sym.cat.codes.to_numpy()
        want = self.requested_symbol
        if (codes < 0).any():
            raise FormatError("empty symbol", path=bf.path,
                              line=line + int(np.flatnonzero(codes < 0)[0]), field="symbol")
        if len(cats) > 1 or (want and cats and cats[0] != want):
            first = want or cats[codes[0]]
            i = int(np.flatnonzero(np.asarray(cats, dtype=object)[codes] != first)[0])
            raise FormatError(f"symbol {cats[codes[i]]!r} where {first!r} was expected (one "
                              "symbol a file)", path=bf.path, line=line + i, field="symbol")
        side = df["side"]
        scats = [str(c) for c in side.cat.categories]
        scodes = side.cat.codes.to_numpy()
        lut = np.zeros(len(scats), np.int8)
        for k, c in enumerate(scats):
            if c not in ("Buy", "Sell"):
                i = int(np.flatnonzero(scodes == k)[0])
                raise FormatError(f"side={c!r} is not Buy or Sell", path=bf.path, line=line + i,
                                  field="side")
            lut[k] = 1 if c == "Buy" else -1
        if (scodes < 0).any():
            raise FormatError("empty side", path=bf.path,
                              line=line + int(np.flatnonzero(scodes < 0)[0]), field="side")
        out: dict[str, np.ndarray] = {"ns": ns, "side": lut[scodes]}
        for name in ("price", "size"):
            vals = df[name].to_numpy(object)
            try:
                num = vals.astype(np.float64)
            except (ValueError, TypeError):
                num = np.full(len(vals), np.nan)
                for i, v in enumerate(vals):
                    try:
                        num[i] = float(v)
                    except (TypeError, ValueError):
                        break
            badn = np.flatnonzero(~np.isfinite(num) | (num < 0))
            if badn.size:
                raise FormatError(f"{name}={vals[badn[0]]!r} is not a number >= 0",
                                  path=bf.path, line=line + int(badn[0]), field=name)
            out[name] = num
        ids = (df["trdMatchID"].to_numpy(object) if "trdMatchID" in df.columns
               else np.array([str(line + i) for i in range(len(df))], dtype=object))
        out["id"] = ids
        out["symbol"] = np.array([cats[0] if cats else ""], dtype=object)
        out["line"] = np.arange(line, line + len(df), dtype=np.int64)
        return out

    def _trade_items(self, bf: BybitFile) -> Iterator[tuple[int, list[Event]]]:
        venue = self.venue or "bybit"
        chunks = self._trade_chunks(bf)
        direction = 0  # +1 forward in time, -1 backwards, 0 not known yet
        held: list[dict[str, np.ndarray]] = []
        last_ns: int | None = None
        for _line, arr in chunks:
            ns = arr["ns"]
            if not len(ns):
                continue
            prev = np.concatenate(([ns[0] if last_ns is None else last_ns], ns[:-1]))
            d = np.sign(ns - prev)
            if direction == 0:
                nz = d[d != 0]
                direction = int(nz[0]) if nz.size else 0
            wrong = np.flatnonzero(d == -direction) if direction else np.empty(0, np.int64)
            if wrong.size:
                i = int(wrong[0])
                raise FormatError("timestamps change direction (neither forward nor backward "
                                  "in time)", path=bf.path, line=int(arr["line"][i]),
                                  field="timestamp")
            last_ns = int(ns[-1])
            if direction < 0:
                held.append(arr)
                continue
            if held:  # every row so far had one time: not known to be backwards
                for h in held:
                    yield from self._emit(h, venue)
                held = []
            if direction == 0:
                held.append(arr)
                continue
            yield from self._emit(arr, venue)
        if direction < 0:
            self.stats["trade_files_reversed"] += 1
            self.warn(f"{bf.path.name}: the trade dump runs backwards in time; it was read "
                      "whole and reversed")
            for h in reversed(held):
                yield from self._emit({k: (v[::-1] if k != "symbol" else v)
                                       for k, v in h.items()}, venue)
        else:
            for h in held:
                yield from self._emit(h, venue)

    def _emit(self, arr: dict[str, np.ndarray], venue: str) -> Iterator[tuple[int, list[Event]]]:
        ns = arr["ns"]
        cut = np.flatnonzero(ns[1:] != ns[:-1]) + 1
        bounds = [0, *cut.tolist(), len(ns)]
        t = ns.tolist()
        px = arr["price"].tolist()
        qty = arr["size"].tolist()
        sd = arr["side"].tolist()
        ids = arr["id"].tolist()
        sym = str(arr["symbol"][0])
        self.stats["trades"] += len(t)
        for k in range(len(bounds) - 1):
            a = bounds[k]
            yield t[a], [Trade(venue, sym, px[i], qty[i], "buy" if sd[i] > 0 else "sell",
                               str(ids[i]), t[i], t[i]) for i in range(a, bounds[k + 1])]

    def _items(self) -> Iterator[tuple[int, Any]]:
        streams: list[Iterator[tuple[int, Any]]] = []
        for bf in self.files:
            if bf.kind == "orderbook":
                streams.append(self._orderbook_lines(bf))
            else:
                streams.append(self._trade_items(bf))
        yield from merge_by_time(streams)
