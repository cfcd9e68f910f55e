"""Tardis.dev normalized CSV files: ``incremental_book_L2``, ``book_snapshot_N``, ``trades``.

Layout (Tardis "Downloadable CSV files", https://docs.tardis.dev/downloadable-csv-files):
comma separated, ``\\n`` line ends, ``.`` decimal mark, a header line, times in microseconds
since the epoch (UTC); ``.csv`` or ``.csv.gz``. Every file starts with ``exchange, symbol,
timestamp, local_timestamp`` (``timestamp`` is the venue's time, ``local_timestamp`` the
arrival time; the reader converts both to nanoseconds).

``incremental_book_L2``: ``is_snapshot, side, price, amount``
    One row a changed level; ``side`` is ``bid``/``ask``; ``amount`` is the new size, not a
    change, and 0 deletes the level. The rows of one venue message share ``timestamp`` and
    ``local_timestamp`` and become one :class:`~tradesim_nb.BookDelta`. A run of
    ``is_snapshot=true`` rows that follows non-snapshot rows (or starts the file) is a new
    book: one :class:`~tradesim_nb.BookSnapshot` holding the whole run (Tardis: "existing
    order book state must be discarded"). Non-snapshot rows before a file's first snapshot
    are buffered updates from before a reconnect's snapshot: they are skipped, as Tardis
    says to, and counted (``stats["rows_before_first_snapshot"]``).
``book_snapshot_25`` / ``book_snapshot_5``: ``asks[i].price``, ``asks[i].amount``, ...
    Columns ``asks[i].price, asks[i].amount, bids[i].price, bids[i].amount`` for
    ``i = 0..N-1``. One row a full top-N book: one :class:`~tradesim_nb.BookSnapshot` each;
    empty cells are levels the book did not have.
``trades``: ``id, side, price, amount``
    ``side`` is the taker's (``buy``/``sell``; ``unknown`` rows are counted in
    ``stats["trades_unknown_side"]`` and not replayed). Trades sharing ``local_timestamp``
    form one item.

Several files (a day of L2 with that day's trades, or consecutive days) are merged by
``local_timestamp`` with a streaming k-way merge; each file is read in chunks of
``chunk_rows`` rows by pandas' C parser, so memory stays flat in the file's length. Price and
amount strings are kept exactly as the file writes them (the book keeps them per level).

Sequence numbers: Tardis rows carry no venue update ids, so the reader numbers each
instrument's book events 1, 2, 3, ... in merged order: a snapshot gets ``seq = n``; a delta
``seq = n``, ``prev_seq = n - 1`` and ``first_seq = n`` (``n - 1`` for the first delta after a
snapshot). That chain satisfies every venue's rule (Binance spot ``U <= L+1 <= u`` then
``U = u_prev + 1``, Binance futures ``U <= L <= u`` then ``pu = u_prev``, Bybit ``u = u_prev +
1``, OKX ``prevSeqId = seqId_prev``), so the venue's own feed applies Tardis data unchanged. It
also means a gap inside a Tardis file cannot be detected here: Tardis has already done the
venue's sequencing.

Checks, each an error naming the file, line and field: a missing header or unknown columns,
a data type this reader does not replay (quotes, derivative tickers, liquidations, ...), an
empty or non-numeric price/amount/timestamp, a negative amount, a side or is_snapshot value
that is not Tardis', ``local_timestamp`` going backwards within a file, more than one symbol
in a file, and a symbol other than the one asked for.

:meth:`TardisReader.iter_chunks` gives the same data column-wise (numpy arrays per chunk, the
rows of an update never split between chunks) for a vectorised book path.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from ..events import BookDelta, BookSnapshot, Event, Trade
from ._base import Reader, merge_by_time
from ._io import FormatError, OpenFile, open_stream

if TYPE_CHECKING:
    import pandas as pd

    from ..book import OrderBook

__all__ = [
    "L2Chunk",
    "SnapshotChunk",
    "TardisFile",
    "TardisReader",
    "TradesChunk",
    "inspect_tardis_file",
    "tardis_venue",
]

DataKind = Literal["incremental_book_L2", "book_snapshot", "trades"]

def tardis_venue(exchange: str) -> str:
    """This package's venue key for a Tardis exchange id (each venue's descriptor lists the ids
    its books read, :attr:`tradesim_nb.venues.Venue.tardis_exchanges`); an id no venue lists
    keeps the Tardis id as its venue."""
    from ..venues.registry import venue_for_tardis

    return venue_for_tardis(exchange) or exchange


_BASE = ("exchange", "symbol", "timestamp", "local_timestamp")
_L2 = (*_BASE, "is_snapshot", "side", "price", "amount")
_TRADES = (*_BASE, "id", "side", "price", "amount")
_LEVEL = re.compile(r"^(asks|bids)\[(\d+)\]\.(price|amount)$")
#: columns that mark a Tardis data type this reader does not replay
_OTHER_KINDS = (
    ("option_type", "options_chain"),
    ("funding_rate", "derivative_ticker"),
    ("open_interest", "derivative_ticker"),
    ("bid_price", "quotes / book_ticker"),
)
_DEFAULT_CHUNK_ROWS = 1 << 16
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


@dataclass(frozen=True)
class TardisFile:
    """What a Tardis CSV holds, read from its header and first row.

    Attributes
    ----------
    path : Path
    kind : {"incremental_book_L2", "book_snapshot", "trades"}
    columns : tuple of str
        The header.
    depth : int
        Levels a side for ``book_snapshot`` (25 or 5), else 0.
    exchange : str
        Tardis' exchange id of the first row (``""`` for a file with no rows).
    symbol : str
        The first row's symbol.
    venue : str
        ``exchange`` mapped by :func:`tardis_venue` (the Tardis id when unmapped).
    """

    path: Path
    kind: DataKind
    columns: tuple[str, ...]
    depth: int
    exchange: str
    symbol: str
    venue: str


@dataclass(frozen=True)
class _Rows:
    """What every chunk of rows has: the file, its first line, the exchange and symbol, and
    the two Tardis time stamps (µs) of each row."""

    path: Path
    first_line: int
    exchange: str
    symbol: str
    timestamp_us: np.ndarray
    local_timestamp_us: np.ndarray

    def __len__(self) -> int:
        return len(self.timestamp_us)


@dataclass(frozen=True)
class L2Chunk(_Rows):
    """Rows of an ``incremental_book_L2`` file, column-wise; updates are never split.

    Attributes
    ----------
    path : Path
    first_line : int
        File line of row 0 (the header is line 1).
    exchange, symbol : str
    timestamp_us, local_timestamp_us : numpy.ndarray of int64
    is_snapshot, is_bid : numpy.ndarray of bool
    price, amount : numpy.ndarray of object
        The exact strings of the file.
    price_f, amount_f : numpy.ndarray of float64
        The same as numbers.
    update_starts : numpy.ndarray of int64
        Row where each update (one venue message, or one whole snapshot run) starts.
    """

    is_snapshot: np.ndarray
    is_bid: np.ndarray
    price: np.ndarray
    amount: np.ndarray
    price_f: np.ndarray
    amount_f: np.ndarray
    update_starts: np.ndarray


_NO_STARTS = np.empty(0, np.int64)


@dataclass(frozen=True)
class _RawL2(_Rows):
    """Rows of an ``incremental_book_L2`` file as :class:`L2Chunk` has them, but for the
    price and amount strings, which stay Arrow string arrays (not yet checked as numbers)."""

    is_snapshot: np.ndarray
    is_bid: np.ndarray
    price: Any
    amount: Any
    update_starts: np.ndarray

    def slice(self, a: int, b: int) -> _RawL2:
        return _RawL2(self.path, self.first_line + a, self.exchange, self.symbol,
                      self.timestamp_us[a:b], self.local_timestamp_us[a:b],
                      self.is_snapshot[a:b], self.is_bid[a:b], self.price.slice(a, b - a),
                      self.amount.slice(a, b - a), _NO_STARTS)

    def with_starts(self, starts: np.ndarray) -> _RawL2:
        return dataclasses.replace(self, update_starts=np.asarray(starts, np.int64))

    def concat(self, b: _RawL2) -> _RawL2:
        if not len(self):
            return b
        import pyarrow as pa

        cat = np.concatenate
        return _RawL2(self.path, self.first_line, b.exchange, b.symbol,
                      cat((self.timestamp_us, b.timestamp_us)),
                      cat((self.local_timestamp_us, b.local_timestamp_us)),
                      cat((self.is_snapshot, b.is_snapshot)), cat((self.is_bid, b.is_bid)),
                      pa.concat_arrays([self.price, b.price]),
                      pa.concat_arrays([self.amount, b.amount]), _NO_STARTS)

    def strings(self, name: str) -> tuple[np.ndarray, Any]:
        """The ``(offsets, data)`` of the price or amount column (Arrow's string layout), as
        :meth:`tradesim_nb.book.OrderBook.apply_arrays` takes them."""
        arr = self.price if name == "price" else self.amount
        _, off, data = arr.buffers()
        offsets = np.frombuffer(off, dtype=np.int32, count=len(arr) + 1, offset=4 * arr.offset)
        return offsets, data


@dataclass(frozen=True)
class SnapshotChunk(_Rows):
    """Rows of a ``book_snapshot_N`` file: ``(rows, N)`` arrays of strings (``None``: no level).

    Attributes
    ----------
    path : Path
    first_line : int
    exchange, symbol : str
    timestamp_us, local_timestamp_us : numpy.ndarray of int64
    ask_price, ask_amount, bid_price, bid_amount : numpy.ndarray of object, shape (rows, N)
    """

    ask_price: np.ndarray
    ask_amount: np.ndarray
    bid_price: np.ndarray
    bid_amount: np.ndarray


@dataclass(frozen=True)
class TradesChunk(_Rows):
    """Rows of a ``trades`` file, column-wise.

    Attributes
    ----------
    path : Path
    first_line : int
    exchange, symbol : str
    timestamp_us, local_timestamp_us : numpy.ndarray of int64
    trade_id : numpy.ndarray of object
    side : numpy.ndarray of int8
        +1 taker bought, -1 taker sold, 0 unknown.
    price, amount : numpy.ndarray of float64
    """

    trade_id: np.ndarray
    side: np.ndarray
    price: np.ndarray
    amount: np.ndarray


# -- header --------------------------------------------------------------------------------
def _classify(path: Path, cols: tuple[str, ...]) -> tuple[DataKind, int]:
    cs = set(cols)
    missing_base = [c for c in _BASE if c not in cs]
    if missing_base:
        looks_like_data = len(cols) >= 4 and cols[2].isdigit()
        if looks_like_data:
            raise FormatError("no header line: a Tardis CSV starts with "
                              f"'{','.join(_BASE)},...'", path=path, line=1)
        raise FormatError(f"not a Tardis CSV header: missing column(s) {', '.join(missing_base)}"
                          f" (header: {','.join(cols)[:200]})", path=path, line=1)
    for col, kind in _OTHER_KINDS:
        if col in cs:
            raise FormatError(f"a Tardis {kind} file: this reader replays incremental_book_L2, "
                              "book_snapshot_N and trades", path=path, line=1)
    if len(cs) != len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise FormatError(f"duplicate column(s) {', '.join(dup)}", path=path, line=1)
    if "is_snapshot" in cs or cs == set(_L2) - {"is_snapshot"}:
        unknown = sorted(cs - set(_L2))
        missing = [c for c in _L2 if c not in cs]
        if unknown or missing:
            raise FormatError("incremental_book_L2 header: "
                              + (f"unknown column(s) {', '.join(unknown)}" if unknown else "")
                              + ("; " if unknown and missing else "")
                              + (f"missing column(s) {', '.join(missing)}" if missing else ""),
                              path=path, line=1)
        return "incremental_book_L2", 0
    if any(_LEVEL.match(c) for c in cols):
        idx: dict[tuple[str, str], set[int]] = {}
        unknown = []
        for c in cols:
            if c in _BASE:
                continue
            m = _LEVEL.match(c)
            if m is None:
                unknown.append(c)
                continue
            idx.setdefault((m[1], m[3]), set()).add(int(m[2]))
        if unknown:
            raise FormatError(f"book_snapshot header: unknown column(s) {', '.join(unknown)}",
                              path=path, line=1)
        depth = 1 + max(max(v) for v in idx.values())
        want = set(range(depth))
        for side in ("asks", "bids"):
            for what in ("price", "amount"):
                have = idx.get((side, what), set())
                if have != want:
                    gone = sorted(want - have)
                    raise FormatError(f"book_snapshot header: missing column "
                                      f"{side}[{gone[0] if gone else '?'}].{what} "
                                      f"(levels 0..{depth - 1} expected)", path=path, line=1)
        return "book_snapshot", depth
    if {"id", "side", "price", "amount"} <= cs:
        if "liquidation" in path.name.lower():
            raise FormatError("a Tardis liquidations file (its columns are those of trades, "
                              "but the rows are forced closes, not the trade tape): not read",
                              path=path, line=1)
        unknown = sorted(cs - set(_TRADES))
        if unknown:
            raise FormatError(f"trades header: unknown column(s) {', '.join(unknown)}",
                              path=path, line=1)
        return "trades", 0
    raise FormatError("a Tardis-like header of no data type this reader knows "
                      f"({','.join(cols)[:200]}); it reads incremental_book_L2 "
                      f"({','.join(_L2)}), book_snapshot_N and trades ({','.join(_TRADES)})",
                      path=path, line=1)


def _read_header(f: OpenFile) -> tuple[str, ...]:
    first = f.stream.readline()
    try:
        text = first.decode().rstrip("\r\n")
    except UnicodeDecodeError:
        raise FormatError("not UTF-8 text", path=f.path, line=1) from None
    if not text.strip():
        raise FormatError("no header line (the first line is blank)", path=f.path, line=1)
    return tuple(c.strip() for c in next(csv.reader([text])))


def inspect_tardis_file(path: str | Path, *, max_line_bytes: int = 64 * 1024 * 1024
                        ) -> TardisFile:
    """The data type, symbol and exchange of a Tardis CSV (header and first row only).

    Parameters
    ----------
    path : path
        A ``.csv`` or ``.csv.gz`` file.
    max_line_bytes : int
        Bound on a line's length.

    Returns
    -------
    TardisFile

    Raises
    ------
    FormatError
        When the header is missing or is not one this reader replays.
    """
    p = Path(path)
    with open_stream(p, max_line_bytes=max_line_bytes) as f:
        cols = _read_header(f)
        kind, depth = _classify(p, cols)
        row = f.stream.readline().decode(errors="replace").rstrip("\r\n")
    exchange = symbol = ""
    if row.strip():
        vals = next(csv.reader([row]))
        d = dict(zip(cols, vals))
        exchange = d.get("exchange", "")
        symbol = d.get("symbol", "")
    return TardisFile(p, kind, cols, depth, exchange, symbol,
                      tardis_venue(exchange))


# -- the reader ----------------------------------------------------------------------------
class TardisReader(Reader):
    """Tardis.dev CSVs of one instrument (or several), merged by ``local_timestamp``.

    Parameters
    ----------
    paths : path or sequence of paths
        ``incremental_book_L2``, ``book_snapshot_N`` and/or ``trades`` files (``.csv`` or
        ``.csv.gz``). Each file must hold one symbol.
    venue : str, optional
        The venue key for the events; default: the files' exchange mapped by
        :func:`tardis_venue`.
    symbol : str, optional
        The one symbol every file must hold.
    chunk_rows : int
        Rows read at a time (memory is proportional to it, not to the file).
    max_line_bytes, progress
        See :class:`tradesim_nb.formats.Reader`.

    Attributes
    ----------
    files : tuple of TardisFile
        What each file holds.
    """

    format: ClassVar[str] = "tardis"

    def __init__(self, paths: Any, *, chunk_rows: int = _DEFAULT_CHUNK_ROWS,
                 **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        if not (isinstance(chunk_rows, int) and chunk_rows >= 1):
            raise ValueError(f"chunk_rows={chunk_rows!r} must be an integer >= 1")
        self.chunk_rows = chunk_rows
        self.files = tuple(inspect_tardis_file(p, max_line_bytes=self.max_line_bytes)
                           for p in self.paths)
        want = self.requested_symbol
        syms: list[str] = []
        for tf in self.files:
            if want is not None and tf.symbol and tf.symbol != want:
                raise FormatError(f"holds symbol {tf.symbol!r} but symbol={want!r} was asked for",
                                  path=tf.path, line=2, field="symbol")
            if tf.symbol and tf.symbol not in syms:
                syms.append(tf.symbol)
        self.symbols = tuple(syms)
        venues = {tf.venue for tf in self.files if tf.exchange}
        if len(venues) > 1:
            self.warn(f"the files come from several exchanges ({', '.join(sorted(venues))})")
        self._set_venue_hint(venues.pop() if len(venues) == 1 else None)

    # -- chunks ------------------------------------------------------------------------------
    def iter_chunks(self, path: str | Path | None = None
                    ) -> Iterator[L2Chunk | SnapshotChunk | TradesChunk]:
        """The rows of one file (the first when ``path`` is None) as column chunks.

        Parameters
        ----------
        path : path, optional
            One of :attr:`paths`.

        Yields
        ------
        L2Chunk or SnapshotChunk or TradesChunk
            By the file's data type; for ``incremental_book_L2`` an update's rows are never
            split between two chunks.
        """
        tf = self.files[0] if path is None else self._file(Path(path))
        f = self._track(open_stream(tf.path, max_line_bytes=self.max_line_bytes))
        try:
            _read_header(f)
            if tf.kind == "incremental_book_L2":
                yield from self._l2_chunks(tf, f)
            elif tf.kind == "book_snapshot":
                yield from self._snapshot_chunks(tf, f)
            else:
                yield from self._trade_chunks(tf, f)
        finally:
            self._untrack(f)

    def _file(self, p: Path) -> TardisFile:
        for tf in self.files:
            if tf.path == p:
                return tf
        raise ValueError(f"path={str(p)!r} is not one of this reader's files")

    def _frames(self, tf: TardisFile, f: OpenFile, dtype: dict[str, Any]
                ) -> Iterator[tuple[int, pd.DataFrame]]:
        """``(first_line, DataFrame)`` chunks; a parse failure is located to its line."""
        import pandas as pd

        line = 2
        reader = pd.read_csv(f.stream, header=None, names=list(tf.columns), dtype=dtype,
                             chunksize=self.chunk_rows, engine="c", keep_default_na=False,
                             na_values=[""], skip_blank_lines=True)
        it = iter(reader)
        while True:
            try:
                df = next(it)
            except StopIteration:
                return
            except (ValueError, pd.errors.ParserError) as e:
                raise self._locate(tf, line, e) from None
            yield line, df
            line += len(df)

    def _locate(self, tf: TardisFile, start: int, err: Exception) -> FormatError:
        """Find the first bad row at or after ``start`` (the slow path of an error)."""
        cols = tf.columns
        ints = {"timestamp", "local_timestamp"}
        with open_stream(tf.path, max_line_bytes=self.max_line_bytes) as f:
            for lineno, raw in enumerate(f, 1):
                if lineno < start or not raw.strip():
                    continue
                vals = next(csv.reader([raw.decode(errors="replace").rstrip("\r\n")]))
                if len(vals) != len(cols):
                    return FormatError(f"{len(vals)} fields where the header has {len(cols)}",
                                       path=tf.path, line=lineno)
                for c, v in zip(cols, vals):
                    if c in ints:
                        try:
                            int(v)
                        except ValueError:
                            return FormatError(f"{c}={v!r} is not an integer (microseconds)",
                                               path=tf.path, line=lineno, field=c)
        return FormatError(f"unreadable rows after line {start}: {err}", path=tf.path,
                           line=start)

    def _empty(self, tf: TardisFile, line: int, name: str) -> FormatError:
        """``empty <name>`` at ``line``, unless the row is short of fields (pandas fills those
        with empty values): then say so."""
        with open_stream(tf.path, max_line_bytes=self.max_line_bytes) as f:
            for lineno, raw in enumerate(f, 1):
                if lineno == line:
                    vals = next(csv.reader([raw.decode(errors="replace").rstrip("\r\n")]))
                    if len(vals) != len(tf.columns):
                        return FormatError(f"{len(vals)} fields where the header has "
                                           f"{len(tf.columns)}", path=tf.path, line=line)
                    break
        return FormatError(f"empty {name}", path=tf.path, line=line, field=name)

    def _check_one(self, tf: TardisFile, line: int, name: str, col: Any,
                   expect: str | None) -> str:
        """The single value of a category column (symbol, exchange), else an error."""
        codes, cats = _codes(col)
        bad = np.flatnonzero(codes < 0)
        if bad.size:
            raise self._empty(tf, line + int(bad[0]), name)
        if len(cats) > 1 or (expect and cats and cats[0] != expect):
            first = cats[codes[0]] if expect is None else expect
            i = int(np.flatnonzero(np.asarray(cats, dtype=object)[codes] != first)[0])
            what = "symbols" if name == "symbol" else f"{name} values"
            raise FormatError(f"more than one {name} in one file ({first!r}, then "
                              f"{cats[codes[i]]!r}): a Tardis file holds one; several "
                              f"{what} need several files", path=tf.path, line=line + i,
                              field=name)
        return cats[0] if cats else (expect or "")

    def _numbers(self, tf: TardisFile, line: int, name: str, values: np.ndarray,
                 column: Any = None) -> np.ndarray:
        """``values`` (strings, None for an empty cell) as float64, else the error of the first
        bad one; ``column``, the same as an Arrow string array, is converted in C++ first."""
        out: np.ndarray | None = None
        if column is not None:
            import pyarrow as pa
            import pyarrow.compute as pc

            try:
                out = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                out = None  # a spelling Arrow does not read: Python's float() decides below
        try:
            if out is None:
                out = values.astype(np.float64)
        except (ValueError, TypeError):
            out = np.empty(len(values))
            for i, v in enumerate(values):
                try:
                    out[i] = math.nan if v is None else float(v)  # None: an empty cell
                except (ValueError, TypeError):
                    raise FormatError(f"{name}={v!r} is not a number", path=tf.path,
                                      line=line + i, field=name) from None
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            v = values[bad[0]]
            if not isinstance(v, str):
                raise self._empty(tf, line + int(bad[0]), name)
            raise FormatError(f"{name}={v!r} is not a finite number", path=tf.path,
                              line=line + int(bad[0]), field=name)
        return out

    @staticmethod
    def _times(tf: TardisFile, line: int, df: Any, last: int) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(df, tuple):  # Arrow columns (checked for empty cells by the caller)
            ts = df[0].to_numpy()
            lts = df[1].to_numpy()
        else:
            ts = df["timestamp"].to_numpy(np.int64)
            lts = df["local_timestamp"].to_numpy(np.int64)
        if len(lts):
            prev = np.concatenate(([last], lts[:-1]))
            back = np.flatnonzero(lts < prev)
            if back.size:
                i = int(back[0])
                raise FormatError(f"local_timestamp {int(lts[i])} < previous {int(prev[i])}: "
                                  "timestamps go backwards within the file", path=tf.path,
                                  line=line + i, field="local_timestamp")
        return ts, lts

    def _arrow_batches(self, tf: TardisFile, f: OpenFile, types: dict[str, Any]
                       ) -> Iterator[tuple[int, Any]]:
        """``(first_line, RecordBatch)`` of at most ``chunk_rows`` rows, parsed by Arrow's CSV
        reader one block of whole lines at a time (so that memory is one block, whatever the
        file's length); a parse failure is located to its line."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        size = min(max(self.chunk_rows * 128, 1 << 16), 1 << 26)
        # Arrow parses the blocks of a buffer on its threads: several to a read
        ropt = pacsv.ReadOptions(column_names=list(tf.columns), use_threads=True,
                                 block_size=max(size // 2, 1 << 16))
        copt = pacsv.ConvertOptions(column_types=types, null_values=[""],
                                    strings_can_be_null=True)
        line = 2
        step = self.chunk_rows
        read = f.stream.read
        rest = b""
        while True:
            data = read(size)
            if rest:
                data = rest + data
            if not data:
                return
            cut = data.rfind(b"\n") + 1 if len(data) > len(rest) else len(data)
            if cut == 0:  # no line end yet (a line longer than a block): read on
                rest = data
                continue
            rest = data[cut:]
            buf = pa.py_buffer(memoryview(data)[:cut])
            try:
                try:
                    table = pacsv.read_csv(buf, read_options=ropt, convert_options=copt)
                except pa.ArrowInvalid as e:
                    if "straddl" not in str(e):
                        raise
                    # a line longer than Arrow's block: this buffer as one block
                    one = pacsv.ReadOptions(column_names=list(tf.columns), use_threads=False,
                                            block_size=cut + 1)
                    table = pacsv.read_csv(buf, read_options=one, convert_options=copt)
            except pa.ArrowInvalid as e:
                if "Empty CSV" in str(e):  # blank lines only
                    continue
                raise self._locate(tf, line, e) from None
            for batch in table.to_batches(max_chunksize=step):
                yield line, batch
                line += batch.num_rows

    def _l2_raw(self, tf: TardisFile, f: OpenFile) -> Iterator[_RawL2]:
        """Checked rows of an ``incremental_book_L2`` file, updates never split; the price
        and amount strings stay Arrow arrays (their numbers are checked by the callers)."""
        import pyarrow as pa

        cat = pa.dictionary(pa.int32(), pa.string())
        types = {"exchange": cat, "symbol": cat, "timestamp": pa.int64(),
                 "local_timestamp": pa.int64(), "is_snapshot": cat, "side": cat,
                 "price": pa.string(), "amount": pa.string()}
        last = np.iinfo(np.int64).min
        carry: _RawL2 | None = None
        symbol = self.requested_symbol
        for line, b in self._arrow_batches(tf, f, types):
            col = b.column
            ex = self._check_one(tf, line, "exchange", col("exchange"), tf.exchange or None)
            symbol = self._check_one(tf, line, "symbol", col("symbol"), symbol or tf.symbol)
            for name in ("timestamp", "local_timestamp"):
                c = col(name)
                if c.null_count:
                    i = int(np.flatnonzero(c.is_null().to_numpy(zero_copy_only=False))[0])
                    raise FormatError(f"{name}='' is not an integer (microseconds)",
                                      path=tf.path, line=line + i, field=name)
            ts, lts = self._times(tf, line, (col("timestamp"), col("local_timestamp")), last)
            if len(lts):
                last = int(lts[-1])
            snap = _flags(self, tf, line, col("is_snapshot"))
            is_bid = _sides(self, tf, line, col("side"))
            cur = _RawL2(tf.path, line, ex, symbol, ts, lts, snap, is_bid, col("price"),
                         col("amount"), _NO_STARTS)
            starts = _update_starts(cur)
            if carry is not None:
                # the carry is one update, open at the end of the last batch: only the rows
                # that continue it are copied to it
                if _continues(carry, cur):
                    b1 = int(starts[1]) if len(starts) > 1 else len(cur)
                    head = carry.concat(cur.slice(0, b1))
                    if b1 == len(cur):
                        carry = head
                        continue
                    yield head.with_starts(np.zeros(1, np.int64))
                    cur = cur.slice(b1, len(cur))
                    starts = starts[1:] - b1
                else:
                    yield carry.with_starts(np.zeros(1, np.int64))
            cut = int(starts[-1])
            carry = cur.slice(cut, len(cur))
            if cut > 0:
                yield cur.slice(0, cut).with_starts(starts[:-1])
        if carry is not None and len(carry):
            yield carry.with_starts(np.zeros(1, np.int64))

    def _checked_numbers(self, tf: TardisFile, raw: _RawL2) -> tuple[np.ndarray, ...]:
        """The price and amount strings of ``raw`` (object arrays) and their numbers, else the
        error of the first bad one."""
        line = raw.first_line
        price = raw.price.to_numpy(zero_copy_only=False)
        amount = raw.amount.to_numpy(zero_copy_only=False)
        price_f = self._numbers(tf, line, "price", price, raw.price)
        amount_f = self._numbers(tf, line, "amount", amount, raw.amount)
        neg = np.flatnonzero(amount_f < 0)
        if neg.size:
            raise FormatError(f"amount={amount[neg[0]]!r} is negative (amounts are new level "
                              "sizes, 0 deletes)", path=tf.path, line=line + int(neg[0]),
                              field="amount")
        return price, amount, price_f, amount_f

    def _l2_chunks(self, tf: TardisFile, f: OpenFile) -> Iterator[L2Chunk]:
        for raw in self._l2_raw(tf, f):
            price, amount, price_f, amount_f = self._checked_numbers(tf, raw)
            yield L2Chunk(tf.path, raw.first_line, raw.exchange, raw.symbol, raw.timestamp_us,
                          raw.local_timestamp_us, raw.is_snapshot, raw.is_bid, price, amount,
                          price_f, amount_f, raw.update_starts)

    def _snapshot_chunks(self, tf: TardisFile, f: OpenFile) -> Iterator[SnapshotChunk]:
        n = tf.depth
        lv = {f"{s}[{i}].{w}": object for s in ("asks", "bids") for i in range(n)
              for w in ("price", "amount")}
        dtype: dict[str, Any] = {"exchange": "category", "symbol": "category",
                                 "timestamp": np.int64, "local_timestamp": np.int64, **lv}
        last = np.iinfo(np.int64).min
        symbol = self.requested_symbol
        for line, df in self._frames(tf, f, dtype):
            ex = self._check_one(tf, line, "exchange", df["exchange"], tf.exchange or None)
            symbol = self._check_one(tf, line, "symbol", df["symbol"], symbol or tf.symbol)
            ts, lts = self._times(tf, line, df, last)
            if len(lts):
                last = int(lts[-1])
            mats = {}
            for side in ("asks", "bids"):
                for what in ("price", "amount"):
                    cols = [f"{side}[{i}].{what}" for i in range(n)]
                    m = df[cols].to_numpy(object)
                    mats[side, what] = m
                pm, am = mats[side, "price"], mats[side, "amount"]
                have_p = np.frompyfunc(lambda v: isinstance(v, str), 1, 1)(pm).astype(bool)
                have_a = np.frompyfunc(lambda v: isinstance(v, str), 1, 1)(am).astype(bool)
                odd = np.argwhere(have_p != have_a)
                if odd.size:
                    r, i = (int(x) for x in odd[0])
                    raise FormatError(f"{side}[{i}] has a price or an amount but not both",
                                      path=tf.path, line=line + r, field=f"{side}[{i}]")
                for what, m in (("price", pm), ("amount", am)):
                    rows, lvl = np.nonzero(have_p)
                    if rows.size:
                        vals = m[rows, lvl]
                        try:
                            nums = vals.astype(np.float64)
                            ok = np.isfinite(nums) & (nums >= 0)
                        except (ValueError, TypeError):
                            ok = np.array([_is_number(v) for v in vals])
                        if not ok.all():
                            j = int(np.flatnonzero(~ok)[0])
                            name = f"{side}[{int(lvl[j])}].{what}"
                            raise FormatError(f"{name}={vals[j]!r} is not a number >= 0",
                                              path=tf.path, line=line + int(rows[j]), field=name)
                m2 = pm.copy()
                m2[~have_p] = None
                mats[side, "price"] = m2
                a2 = am.copy()
                a2[~have_a] = None
                mats[side, "amount"] = a2
            yield SnapshotChunk(tf.path, line, ex, symbol, ts, lts, mats["asks", "price"],
                                mats["asks", "amount"], mats["bids", "price"],
                                mats["bids", "amount"])

    def _trade_chunks(self, tf: TardisFile, f: OpenFile) -> Iterator[TradesChunk]:
        dtype = {"exchange": "category", "symbol": "category", "timestamp": np.int64,
                 "local_timestamp": np.int64, "id": object, "side": "category",
                 "price": object, "amount": object}
        last = np.iinfo(np.int64).min
        symbol = self.requested_symbol
        for line, df in self._frames(tf, f, dtype):
            ex = self._check_one(tf, line, "exchange", df["exchange"], tf.exchange or None)
            symbol = self._check_one(tf, line, "symbol", df["symbol"], symbol or tf.symbol)
            ts, lts = self._times(tf, line, df, last)
            if len(lts):
                last = int(lts[-1])
            col = df["side"]
            codes = col.cat.codes.to_numpy()
            cats = [str(c).lower() for c in col.cat.categories]
            lut = np.zeros(len(cats) + 1, np.int8)
            for k, c in enumerate(cats):
                if c not in ("buy", "sell", "unknown"):
                    i = int(np.flatnonzero(codes == k)[0])
                    raise FormatError(f"side={c!r} is not buy, sell or unknown", path=tf.path,
                                      line=line + i, field="side")
                lut[k] = 1 if c == "buy" else (-1 if c == "sell" else 0)
            if (codes < 0).any():
                i = int(np.flatnonzero(codes < 0)[0])
                raise self._empty(tf, line + i, "side")
            side = lut[codes]
            price = self._numbers(tf, line, "price", df["price"].to_numpy(object))
            amount = self._numbers(tf, line, "amount", df["amount"].to_numpy(object))
            ids = df["id"].to_numpy(object)
            yield TradesChunk(tf.path, line, ex, symbol, ts, lts, ids, side, price, amount)

    # -- books, column-wise ----------------------------------------------------------------
    def replay_books(self, *, uncross: bool = False,
                     on_chunk: Callable[[OrderBook], object] | None = None
                     ) -> dict[str, OrderBook]:
        """Apply every ``incremental_book_L2`` update of the files to one book per symbol,
        column-wise: each chunk's updates go to :meth:`OrderBook.apply_arrays` in one call,
        the price and amount strings as Arrow buffers (no event objects; no Python string is
        made for a level that is removed).

        The books are those the event path builds (iterating the reader into the venue's
        feed, :func:`tradesim_nb.formats.consume`), level for level and string for string:
        the same instrument and price grid (:func:`~tradesim_nb.instruments.find_instrument`),
        the rows before a file's first snapshot skipped, ``seq`` the reader's numbering, the
        exchange and receive time of the last update. There is nothing for a venue's
        sequencing rule to check in a Tardis file (Tardis has sequenced it), so none is run;
        an update the book refuses (a price of 0, the level cap) leaves the book stale and the
        deltas up to the next snapshot unapplied, as every venue's feed does.

        Parameters
        ----------
        uncross : bool
            Remove the crossing levels after an update that leaves a book crossed (a feed's
            ``sanitize_crossed``).
        on_chunk : callable, optional
            ``on_chunk(book)`` after each chunk's updates are applied (``book.seq`` numbers the
            last one).

        Returns
        -------
        dict of str to OrderBook
            By symbol. :attr:`stats` counts ``rows``, ``snapshots``, ``deltas``,
            ``rows_before_first_snapshot`` as the event path does, and ``crossed_updates``,
            ``crossed_removed_levels``, ``refused_updates`` and ``deltas_skipped_stale``.

        Raises
        ------
        FormatError
            As iterating the reader does, for the same files (the books then hold the updates
            before the bad row's chunk, or part of that chunk).
        ValueError
            For a ``book_snapshot`` file (iterate the reader), or two files of one symbol
            whose times overlap (iterating merges them by time).
        """
        from ..book import OrderBook
        from ..instruments import find_instrument
        from ..venues.registry import find_venue

        books: dict[str, OrderBook] = {}
        seq: dict[str, int] = {}
        last_lts: dict[str, int] = {}
        held: set[str] = set()  # books whose chunk ended on a held snapshot (see below)
        had_deltas: set[str] = set()
        if self._init_stats is None:  # the counts describe one pass, as iterating does
            self._init_stats = Counter(self.stats)
        self.stats = stats = Counter(self._init_stats)
        self._done_bytes = 0
        for tf in self.files:
            if tf.kind == "trades":
                continue  # no book updates
            if tf.kind != "incremental_book_L2":
                raise ValueError(f"{tf.path.name} is a Tardis {tf.kind} file: replay_books "
                                 "applies incremental_book_L2 files; iterate the reader for it")
            venue = self.venue or tf.venue
            known = find_venue(venue)
            hold = known is not None and known.feed.snapshot_needs_diff
            seen_snapshot = False
            begun: set[str] = set()
            f = self._track(open_stream(tf.path, max_line_bytes=self.max_line_bytes))
            try:
                _read_header(f)
                for raw in self._l2_raw(tf, f):
                    stats["rows"] += len(raw)
                    starts = raw.update_starts
                    snaps = raw.is_snapshot[starts]
                    u0 = 0
                    if not seen_snapshot:
                        hit = np.flatnonzero(snaps)
                        if not hit.size:
                            stats["rows_before_first_snapshot"] += len(raw)
                            continue
                        u0 = int(hit[0])
                        stats["rows_before_first_snapshot"] += int(starts[u0])
                        seen_snapshot = True
                    sym = raw.symbol
                    r0 = int(starts[u0])
                    lts = raw.local_timestamp_us
                    if sym not in begun:
                        begun.add(sym)
                        if sym in last_lts and int(lts[r0]) < last_lts[sym]:
                            raise ValueError(f"{tf.path.name} overlaps in time an earlier file of "
                                             f"{sym}: iterate the reader, which merges them")
                    book = books.get(sym)
                    if book is None:
                        book = books[sym] = OrderBook(find_instrument(venue, sym), venue=venue,
                                                      symbol=sym)
                    if sym in held:  # the next update joins the held snapshot (see below)
                        held.discard(sym)
                        book.stale = False
                    po, pdata = raw.strings("price")
                    ao, adata = raw.strings("amount")
                    sub = starts[u0:]
                    chunk_snaps = snaps[u0:]
                    res = book.apply_arrays(sub - r0, chunk_snaps, raw.is_bid[r0:],
                                            (po[r0:], pdata), (ao[r0:], adata),
                                            uncross=uncross, refused="stale")
                    if res.refused:
                        self._checked_numbers(tf, raw)  # the reader's error, if the file has one
                    n_snap = int(chunk_snaps.sum())
                    stats["snapshots"] += n_snap
                    stats["deltas"] += len(sub) - n_snap
                    stats["crossed_updates"] += res.crossed
                    stats["crossed_removed_levels"] += res.removed
                    stats["refused_updates"] += res.refused
                    stats["deltas_skipped_stale"] += res.skipped
                    if hold and bool(chunk_snaps[-1]) and not book.stale and (
                            sym in had_deltas or not bool(chunk_snaps[:-1].all())):
                        # a snapshot after deltas, on a venue whose feed holds it until the
                        # next delta joins it (Binance's REST rule): the same here
                        book.stale = True
                        held.add(sym)
                    if n_snap < len(sub):
                        had_deltas.add(sym)
                    n = seq.get(sym, 0) + len(sub)
                    seq[sym] = n
                    last = int(sub[-1])
                    book.seq = n
                    book.last_exch_ts_ns = int(raw.timestamp_us[last]) * 1000
                    book.last_recv_ts_ns = int(lts[last]) * 1000
                    last_lts[sym] = int(lts[-1])
                    if on_chunk is not None:
                        on_chunk(book)
            finally:
                self._untrack(f)
        return books

    # -- events ------------------------------------------------------------------------------
    def _file_updates(self, tf: TardisFile) -> Iterator[tuple[int, Any]]:
        """``(recv_ns, payload)``: ``("book", symbol, is_snapshot, bids, asks, exch_ns)`` or
        ``("trades", [Trade, ...])``, in the file's order."""
        stats = self.stats
        venue = self.venue or tf.venue
        seen_snapshot = False
        for ch in self.iter_chunks(tf.path):
            if isinstance(ch, L2Chunk):
                starts = ch.update_starts
                n = len(ch)
                ends = np.append(starts[1:], n)
                gid = np.repeat(np.arange(len(starts)), ends - starts)
                order = np.lexsort((~ch.is_bid, gid))
                P = ch.price[order].tolist()
                A = ch.amount[order].tolist()
                nb = np.add.reduceat(ch.is_bid.astype(np.int64), starts).tolist()
                st = starts.tolist()
                en = ends.tolist()
                snaps = ch.is_snapshot[starts].tolist()
                ts = (ch.timestamp_us[starts] * 1000).tolist()
                lts = (ch.local_timestamp_us[starts] * 1000).tolist()
                sym = ch.symbol
                stats["rows"] += n
                for g in range(len(st)):
                    s = st[g]
                    e = en[g]
                    m = s + nb[g]
                    snap = snaps[g]
                    if snap:
                        seen_snapshot = True
                    elif not seen_snapshot:
                        stats["rows_before_first_snapshot"] += e - s
                        continue
                    yield lts[g], ("book", sym, snap, list(zip(P[s:m], A[s:m])),
                                   list(zip(P[m:e], A[m:e])), ts[g])
            elif isinstance(ch, SnapshotChunk):
                stats["rows"] += len(ch)
                ap, aa, bp, ba = (x.tolist() for x in (ch.ask_price, ch.ask_amount,
                                                       ch.bid_price, ch.bid_amount))
                ts = (ch.timestamp_us * 1000).tolist()
                lts = (ch.local_timestamp_us * 1000).tolist()
                for r in range(len(ts)):
                    bids = [(p, a) for p, a in zip(bp[r], ba[r]) if p is not None]
                    asks = [(p, a) for p, a in zip(ap[r], aa[r]) if p is not None]
                    yield lts[r], ("book", ch.symbol, True, bids, asks, ts[r])
            else:
                stats["rows"] += len(ch)
                unknown = int((ch.side == 0).sum())
                if unknown:
                    stats["trades_unknown_side"] += unknown
                    self.warn(f"{tf.path.name}: trades with side 'unknown' are not replayed "
                              "(counted in stats['trades_unknown_side'])")
                lts_a = ch.local_timestamp_us
                cut = np.flatnonzero(lts_a[1:] != lts_a[:-1]) + 1
                bounds = [0, *cut.tolist(), len(ch)]
                px = ch.price.tolist()
                qty = ch.amount.tolist()
                sd = ch.side.tolist()
                ids = ch.trade_id.tolist()
                ts = (ch.timestamp_us * 1000).tolist()
                lts = (lts_a * 1000).tolist()
                sym = ch.symbol
                for k in range(len(bounds) - 1):
                    out: list[Event] = []
                    for i in range(bounds[k], bounds[k + 1]):
                        s_ = sd[i]
                        if s_:
                            out.append(Trade(venue, sym, px[i], qty[i],
                                             "buy" if s_ > 0 else "sell", str(ids[i]), ts[i],
                                             lts[i]))
                    if out:
                        stats["trades"] += len(out)
                        yield lts[bounds[k]], ("trades", out)

    def _items(self) -> Iterator[tuple[int, list[Event]]]:
        venue_default = self.venue
        streams = [self._file_updates(tf) for tf in self.files]
        counters: dict[str, list[int]] = {}  # symbol -> [n, first delta after snapshot]
        stats = self.stats
        for recv_ns, payload in merge_by_time(streams):
            if payload[0] == "trades":
                yield recv_ns, payload[1]
                continue
            _, sym, snap, bids, asks, exch_ns = payload
            c = counters.get(sym)
            if c is None:
                c = counters[sym] = [0, 1]
            n = c[0] + 1
            c[0] = n
            venue = venue_default or self.files[0].venue
            if snap:
                c[1] = 1
                stats["snapshots"] += 1
                yield recv_ns, [BookSnapshot(venue, sym, bids, asks, exch_ns, recv_ns, seq=n)]
            else:
                first = n - 1 if c[1] else n
                c[1] = 0
                stats["deltas"] += 1
                yield recv_ns, [BookDelta(venue, sym, bids, asks, exch_ns, recv_ns, seq=n,
                                          prev_seq=n - 1, first_seq=first)]


# -- helpers -------------------------------------------------------------------------------
def _is_number(v: Any) -> bool:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(x) and x >= 0)


def _codes(col: Any) -> tuple[np.ndarray, list[str]]:
    """``(codes, categories)`` of a pandas categorical or an Arrow dictionary column; code -1
    marks an empty cell."""
    if hasattr(col, "cat"):
        return col.cat.codes.to_numpy(), [str(c) for c in col.cat.categories]
    idx = col.indices
    if idx.null_count:
        import pyarrow.compute as pc

        idx = pc.fill_null(idx, -1)
    return idx.to_numpy(zero_copy_only=False), [str(c) for c in col.dictionary.to_pylist()]


def _flags(r: TardisReader, tf: TardisFile, line: int, col: Any) -> np.ndarray:
    codes, cats = _codes(col)
    lut = np.zeros(len(cats), bool)
    for k, c in enumerate(cats):
        s = str(c).strip().lower()
        if s in _TRUE:
            lut[k] = True
        elif s not in _FALSE:
            i = int(np.flatnonzero(codes == k)[0])
            raise FormatError(f"is_snapshot={c!r} is not true or false", path=tf.path,
                              line=line + i, field="is_snapshot")
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        raise r._empty(tf, line + int(bad[0]), "is_snapshot")
    return lut[codes] if len(cats) else np.zeros(len(codes), bool)


def _sides(r: TardisReader, tf: TardisFile, line: int, col: Any) -> np.ndarray:
    codes, cats = _codes(col)
    lut = np.zeros(len(cats), bool)
    for k, c in enumerate(cats):
        if c == "bid":
            lut[k] = True
        elif c != "ask":
            i = int(np.flatnonzero(codes == k)[0])
            raise FormatError(f"side={c!r} is not bid or ask", path=tf.path, line=line + i,
                              field="side")
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        raise r._empty(tf, line + int(bad[0]), "side")
    return lut[codes] if len(cats) else np.zeros(len(codes), bool)


def _continues(a: _RawL2, b: _RawL2) -> bool:
    """Whether the first row of ``b`` belongs to the update of the last row of ``a`` (the rule
    of :func:`_update_starts`)."""
    i = len(a) - 1
    sa, sb = bool(a.is_snapshot[i]), bool(b.is_snapshot[0])
    if sa != sb:
        return False
    return sb or (a.timestamp_us[i] == b.timestamp_us[0]
                  and a.local_timestamp_us[i] == b.local_timestamp_us[0])


def _update_starts(c: L2Chunk | _RawL2) -> np.ndarray:
    """Row where each update starts: a snapshot run is one update, deltas split by time."""
    n = len(c)
    if n == 0:
        return np.empty(0, np.int64)
    snap = c.is_snapshot
    ts = c.timestamp_us
    lts = c.local_timestamp_us
    change = (snap[1:] != snap[:-1]) | (~snap[1:] & ((ts[1:] != ts[:-1]) | (lts[1:] != lts[:-1])))
    return np.concatenate(([0], np.flatnonzero(change) + 1)).astype(np.int64)
