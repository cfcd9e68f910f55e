"""``tradesim bench replay``: a Tardis ``incremental_book_L2`` file into books, rows/s and memory.

The file is made from the packaged Binance BTCUSDT recording: the recording is replayed through
the real Binance feed, every book event it applies (the REST snapshot, then each diff) is
written as Tardis rows (``exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,
amount``, one row a level), and the whole is repeated ``--repeat`` times after itself, times
shifted, each repetition starting with its snapshot: about 300,000 rows a repetition. It is
gzipped (as Tardis serves it) unless ``--no-gzip``.

Engines, each run in a fresh Python process (so that its peak resident memory is its own):

* **tradesim columnar** — :meth:`TardisReader.replay_books
  <tradesim_nb.formats.tardis.TardisReader.replay_books>`: blocks of lines parsed by pyarrow's
  CSV reader, every check of the reader, each chunk's updates applied to the compiled book by
  :meth:`~tradesim_nb.book.OrderBook.apply_arrays` in one call;
* **tradesim events** — iterating the reader into the venue's feed
  (:func:`tradesim_nb.formats.consume`): a :class:`~tradesim_nb.BookDelta` per update;
* **peer: pandas chunks + dict book** — what a plain script does: ``pandas.read_csv(...,
  chunksize=)`` with float prices and amounts, a loop over the rows into two dicts
  (price → amount; a zero amount deletes; a new snapshot run clears them).

The figures are rows per second (median of ``--runs`` runs, engines alternating) and the peak
resident memory of the process minus its resident memory after the imports (Linux
``VmHWM`` and ``VmRSS``), on the file and on one ``--long`` times as long: memory flat in the file's length
means about the same figure for both. At the end every engine's final book is compared (prices
and sizes as numbers). The 1-minute load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DESCRIPTION = ("a Tardis incremental_book_L2 file (the Binance recording, repeated) into books: "
               "rows/s and peak memory, tradesim columnar vs events vs a pandas-chunks + "
               "dict-book reader")

ENGINES = ("tradesim columnar", "tradesim events", "peer: pandas chunks + dict book")
PEER = ENGINES[2]
_HEADER = ["exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot", "side",
           "price", "amount"]


# -- the file ---------------------------------------------------------------------------------
def binance_book_rows() -> list[tuple[int, int, bool, list[Any], list[Any]]]:
    """``(timestamp_us, local_timestamp_us, is_snapshot, bids, asks)`` of every book event the
    Binance feed applies replaying the packaged recording (diffs with no level left out)."""
    from ..datasets import binance_spot_files
    from ..events import BookSnapshot
    from ..recording import read_frames
    from ..venues.binance import BinanceSpotFeed

    applied: list[Any] = []

    class Recorder(BinanceSpotFeed):
        def sequence(self, event: Any, book: Any, state: Any) -> bool:
            ok = super().sequence(event, book, state)
            if ok:
                applied.append(event)
            return ok

    feed = Recorder()
    for recv_ns, frame in read_frames(*binance_spot_files()):
        feed.on_frame(frame, recv_ns)
    out = []
    last = 0
    for ev in applied:
        # diffs buffered before the REST snapshot are applied when it arrives: they take its
        # time (a receive time never goes backwards)
        lt = max(last, ev.recv_ts_ns // 1000)
        last = lt
        if not (ev.bids or ev.asks):
            continue
        ts = ev.exch_ts_ns // 1000 if ev.exch_ts_ns else lt
        out.append((ts, lt, type(ev) is BookSnapshot, list(ev.bids), list(ev.asks)))
    return out


def write_tardis_l2(path: Path, repeat: int, gz: bool = True) -> int:
    """The Binance recording's book events as a Tardis ``incremental_book_L2`` file, repeated
    ``repeat`` times (times shifted so that they keep growing); returns the rows written."""
    if repeat < 1:
        raise ValueError(f"repeat={repeat!r} must be >= 1")
    ups = binance_book_rows()
    span = ups[-1][1] - ups[0][1] + 1_000_000
    # one repetition's rows as text, with the two times left to fill in
    body: list[tuple[int, int, str]] = []
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="")
    for ts, lt, snap, bids, asks in ups:
        flag = "true" if snap else "false"
        for side, lvls in (("bid", bids), ("ask", asks)):
            for lv in lvls:
                buf.seek(0)
                buf.truncate()
                w.writerow([flag, side, lv[0], lv[1]])
                body.append((ts, lt, buf.getvalue()))
    raw = path.open("wb")
    fh: Any = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) if gz else raw
    try:
        fh.write((",".join(_HEADER) + "\n").encode())
        for k in range(repeat):
            shift = k * span
            fh.write("".join(f"binance,BTCUSDT,{ts + shift},{lt + shift},{rest}\n"
                             for ts, lt, rest in body).encode())
    finally:
        fh.close()
        raw.close()
    return repeat * len(body)


# -- the engines (each in a child process) -------------------------------------------------------
def _columnar(path: str, chunk_rows: int) -> tuple[int, Any]:
    from ..formats.tardis import TardisReader

    r = TardisReader(path, chunk_rows=chunk_rows)
    books = r.replay_books()
    b = books["BTCUSDT"]
    return r.stats["rows"], (b.levels("bid"), b.levels("ask"), b.valid)


def _events(path: str, chunk_rows: int) -> tuple[int, Any]:
    from .. import formats
    from ..venues import get_feed

    r = formats.open_source(path, chunk_rows=chunk_rows)
    feed = get_feed("binance")
    formats.consume(r, feed)
    b = feed.books["BTCUSDT"]
    return r.stats["rows"], (b.levels("bid"), b.levels("ask"), b.valid)


def _peer(path: str, chunk_rows: int) -> tuple[int, Any]:
    import pandas as pd

    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    in_snapshot = False
    rows = 0
    for df in pd.read_csv(path, chunksize=chunk_rows,
                          usecols=["is_snapshot", "side", "price", "amount"],
                          dtype={"is_snapshot": bool, "side": str, "price": float,
                                 "amount": float}):
        for snap, side, price, amount in zip(df["is_snapshot"].to_numpy(),
                                             df["side"].to_numpy(), df["price"].to_numpy(),
                                             df["amount"].to_numpy()):
            if snap and not in_snapshot:  # a new snapshot: the old book is discarded
                bids.clear()
                asks.clear()
            in_snapshot = snap
            book = bids if side == "bid" else asks
            if amount == 0.0:
                book.pop(price, None)
            else:
                book[price] = amount
        rows += len(df)
    top_b = sorted(bids.items(), reverse=True)
    top_a = sorted(asks.items())
    valid = bool(top_b and top_a and top_b[0][0] < top_a[0][0])
    return rows, ([(float(p), float(s)) for p, s in top_b],
                  [(float(p), float(s)) for p, s in top_a], valid)


_RUN = {"tradesim columnar": _columnar, "tradesim events": _events, PEER: _peer}


def _memory_kb() -> tuple[int, int]:
    """``(resident, peak resident)`` of this process in KiB: Linux ``VmRSS`` and ``VmHWM``
    (``ru_maxrss`` would count the parent's memory at the fork), else ``ru_maxrss`` twice."""
    try:
        with open("/proc/self/status") as fh:
            d = dict(line.split(":", 1) for line in fh if ":" in line)
        return int(d["VmRSS"].split()[0]), int(d["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError):
        m = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return m, m


def child(engine: str, path: str, chunk_rows: int) -> dict[str, Any]:
    """One timed run of ``engine`` on ``path`` (in this process): rows, seconds, memory."""
    import numpy  # noqa: F401 - imports outside the measured memory
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401

    from .. import book, formats  # noqa: F401
    from ..venues import get_feed

    get_feed("binance")  # the venue's modules and instruments loaded
    base, _ = _memory_kb()
    t = time.perf_counter()
    rows, final = _RUN[engine](path, chunk_rows)
    dt = time.perf_counter() - t
    _, peak = _memory_kb()
    return {"engine": engine, "rows": rows, "seconds": dt, "rss_base_mb": base / 1024,
            "peak_mb": max(0.0, (peak - base) / 1024), "final": final}


def _spawn(engine: str, path: Path, chunk_rows: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "tradesim_nb.bench.replay", "--child", engine,
                          str(path), str(chunk_rows)], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{engine} failed: {out.stderr[-2000:]}")
    res: dict[str, Any] = json.loads(out.stdout)
    return res


def _same(a: Any, b: Any) -> bool:
    """Final books equal: the same prices and sizes (float64), the same validity."""
    return (a[2] == b[2] and len(a[0]) == len(b[0]) and len(a[1]) == len(b[1])
            and all(tuple(x) == tuple(y) for x, y in zip(a[0] + a[1], b[0] + b[1])))


# -- the command ------------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repeat", type=int, default=10,
                   help="repetitions of the recording in the file (about 300,000 rows each)")
    p.add_argument("--long", type=int, default=4,
                   help="the memory check's second file is this many times as long (0: off)")
    p.add_argument("--runs", type=int, default=3, help="runs of each engine (median)")
    p.add_argument("--chunk-rows", type=int, default=1 << 16)
    p.add_argument("--no-gzip", action="store_true", help="a plain .csv instead of .csv.gz")
    p.add_argument("--no-events", action="store_true",
                   help="leave out the (slow) event-path engine")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.repeat < 1 or args.runs < 1 or args.long < 0 or args.chunk_rows < 1:
        raise ValueError("--repeat, --runs and --chunk-rows must be >= 1, --long >= 0")
    engines = [e for e in ENGINES if not (args.no_events and e == "tradesim events")]
    load0 = _load()
    gz = not args.no_gzip
    with tempfile.TemporaryDirectory() as tmp:
        short = Path(tmp) / ("l2.csv.gz" if gz else "l2.csv")
        rows = write_tardis_l2(short, args.repeat, gz)
        size = short.stat().st_size
        runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
        for _ in range(args.runs):
            for e in engines:  # alternating, so that a busy spell hits every engine alike
                runs[e].append(_spawn(e, short, args.chunk_rows))
        longer: dict[str, dict[str, Any]] = {}
        long_rows = 0
        if args.long:
            lp = Path(tmp) / ("long.csv.gz" if gz else "long.csv")
            long_rows = write_tardis_l2(lp, args.repeat * args.long, gz)
            short.unlink()
            for e in ("tradesim columnar", PEER):
                longer[e] = _spawn(e, lp, args.chunk_rows)
    ref = runs[engines[0]][0]["final"]
    out_rows = []
    for e in engines:
        rs = runs[e]
        med = statistics.median(r["seconds"] for r in rs)
        d: dict[str, Any] = {
            "engine": e, "rows": rs[0]["rows"], "seconds": med,
            "rows_per_s": rs[0]["rows"] / med,
            "peak_mb": statistics.median(r["peak_mb"] for r in rs),
            "same_book": all(_same(r["final"], ref) for r in rs),
        }
        if e in longer:
            lr = longer[e]
            d["long_rows_per_s"] = lr["rows"] / lr["seconds"]
            d["long_peak_mb"] = lr["peak_mb"]
        out_rows.append(d)
    peer = next(r for r in out_rows if r["engine"] == PEER)
    for r in out_rows:
        r["ratio_rows_per_s"] = r["rows_per_s"] / peer["rows_per_s"]
    return {"rows": rows, "file_bytes": size, "gzip": gz, "repeat": args.repeat,
            "long_rows": long_rows, "chunk_rows": args.chunk_rows, "runs": args.runs,
            "engines": out_rows, "peer": PEER, "load_avg_1m_start": load0,
            "load_avg_1m_end": _load(), "cpus": os.cpu_count() or 0,
            "python": platform.python_version(), "machine": platform.machine()}


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan


def format_table(res: dict[str, Any]) -> str:
    lines = [f"load average (1 min) {res['load_avg_1m_start']:.2f} at the start, "
             f"{res['load_avg_1m_end']:.2f} at the end, {res['cpus']} CPUs; Python "
             f"{res['python']}",
             f"Tardis incremental_book_L2 of the Binance recording x{res['repeat']}: "
             f"{res['rows']:,} rows, {res['file_bytes'] / 1e6:.1f} MB "
             f"({'gzip' if res['gzip'] else 'plain CSV'}), chunks of {res['chunk_rows']:,} rows; "
             f"median of {res['runs']} runs, each engine in its own process"]
    hdr = ["engine", "rows/s", f"× {res['peer'].split(': ')[-1]}", "peak MB", "same book"]
    if res["long_rows"]:
        hdr += [f"rows/s ({res['long_rows'] / 1e6:.1f}M rows)", "peak MB (long)"]
    cells = [hdr]
    for r in res["engines"]:
        row = [r["engine"], f"{r['rows_per_s']:,.0f}", f"{r['ratio_rows_per_s']:.2f}",
               f"{r['peak_mb']:.0f}", str(r["same_book"])]
        if res["long_rows"]:
            row += ([f"{r['long_rows_per_s']:,.0f}", f"{r['long_peak_mb']:.0f}"]
                    if "long_peak_mb" in r else ["-", "-"])
        cells.append(row)
    w = [max(len(c[i]) for c in cells) for i in range(len(hdr))]
    for c in cells:
        lines.append("  ".join(x.ljust(w[i]) if i == 0 else x.rjust(w[i])
                               for i, x in enumerate(c)))
    lines.append(f"ratios (×) are rows/s over the peer's ({res['peer']}); peak MB is the peak "
                 "resident memory above the process's after its imports")
    return "\n".join(lines)


def _main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "--child":
        print(json.dumps(child(argv[1], argv[2], int(argv[3]))))
        return 0
    raise SystemExit("usage: python -m tradesim_nb.bench.replay --child ENGINE PATH CHUNK_ROWS "
                     "(see `tradesim bench replay`)")


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
