"""``tradesim bench book``: parse + apply (+ checksum) per real frame, this book beside its peers.

The same raw frames of the real recordings go through, in one run:

* **tradesim** — the venue feed (:class:`~tradesim_nb.venues.okx.OkxFeed`,
  :class:`~tradesim_nb.venues.binance.BinanceSpotFeed`): orjson parse, sequencing,
  :class:`~tradesim_nb.book.OrderBook` apply, and (OKX) the CRC32 of the top 25 levels;
* **order-book** — the C order book of the PyPI ``order-book`` package used by cryptofeed,
  fed the same orjson-parsed levels. With float keys it has no usable OKX checksum (its
  ``checksum()`` formats the keys with ``str``, so ``30261.0`` ≠ the venue's ``30261``); its
  OKX checksum works with ``decimal.Decimal`` keys, as cryptofeed feeds it, so the checksum
  rows use Decimal keys (and compare ``checksum() == venue & 0xFFFFFFFF``);
* **SortedDict** — a plain :class:`sortedcontainers.SortedDict` book (float keys, bids negated)
  keeping the venue strings, checksummed with :func:`~tradesim_nb.venues.okx.okx_checksum`.

Each frame is timed alone with :func:`time.perf_counter_ns`; snapshots (hundreds of levels)
are reported apart from updates. Each pass builds fresh books and runs every engine in turn;
the figures are the medians over the passes of each pass's median and 99th percentile per
update. The cyclic garbage collector is off while timing (as :mod:`timeit` does) unless
``--gc``. At the end every engine's final top 25 levels of every instrument are compared.
"""

from __future__ import annotations

import argparse
import gc
import math
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import orjson

DESCRIPTION = ("parse + apply (+ checksum) per real OKX books / Binance depth frame: this book "
               "vs the C order-book package vs a sortedcontainers book")

Frames = list[tuple[int, str]]
Top = dict[str, tuple[list[tuple[float, float]], list[tuple[float, float]]]]
_TOP_N = 25


# -- frames --------------------------------------------------------------------------------
def okx_frames(limit: int | None = None) -> Frames:
    """The ``books`` frames of the real OKX recording (snapshots first of each instrument)."""
    from ..datasets import okx_books_file
    from ..recording import read_frames

    out: Frames = []
    for recv, fr in read_frames(okx_books_file()):
        if '"channel":"books"' in fr and '"data"' in fr:
            out.append((recv, fr))
    return out[:limit] if limit else out


def binance_frames(limit: int | None = None) -> Frames:
    """The REST snapshot then every depth diff with ``u > lastUpdateId``, in id order."""
    from ..datasets import binance_spot_files
    from ..recording import read_frames

    snap: tuple[int, str] | None = None
    diffs: list[tuple[int, int, str]] = []
    for recv, fr in read_frames(*binance_spot_files()):
        if fr.startswith('{"lastUpdateId"'):
            if snap is None:
                snap = (recv, fr)
        elif "depthUpdate" in fr:
            m = orjson.loads(fr)
            d = m.get("data", m)
            diffs.append((int(d["u"]), recv, fr))
    if snap is None:
        raise ValueError("the Binance recording has no REST snapshot line")
    last = int(orjson.loads(snap[1])["lastUpdateId"])
    out: Frames = [snap] + [(r, f) for u, r, f in sorted(diffs, key=lambda x: x[0]) if u > last]
    return out[:limit] if limit else out


# -- engines: make() -> (step(frame, recv_ns), top() -> Top, checks() -> (ok, failed)) -------
Engine = tuple[Callable[[str, int], Any], Callable[[], Top], Callable[[], tuple[int, int]]]


def _ours(venue: str, checksum: bool) -> Engine:
    from ..venues import get_feed

    feed = get_feed(venue, verify_checksums=checksum)

    def top() -> Top:
        return {s: (b.levels("bid", _TOP_N), b.levels("ask", _TOP_N))
                for s, b in feed.books.items() if b.n_bids or b.n_asks}

    def checks() -> tuple[int, int]:
        return (sum(st.checksum_ok for st in feed.stats.values()),
                sum(st.checksum_failed for st in feed.stats.values()))

    return feed.on_frame, top, checks


def _okx_msg(frame: str) -> tuple[str, bool, dict[str, Any]]:
    m = orjson.loads(frame)
    return m["arg"]["instId"], m["action"] == "snapshot", m["data"][0]


def _binance_msg(frame: str) -> tuple[str, bool, dict[str, Any]]:
    m = orjson.loads(frame)
    if "lastUpdateId" in m:
        return "BTCUSDT", True, {"bids": m["bids"], "asks": m["asks"]}
    d = m.get("data", m)
    return d["s"], False, {"bids": d["b"], "asks": d["a"]}


def _cbook(venue: str, checksum: bool, decimal_keys: bool = False) -> Engine:
    from order_book import OrderBook as CBook

    msg = _okx_msg if venue == "okx" else _binance_msg
    books: dict[str, Any] = {}
    ok = [0, 0]
    num: Callable[[str], Any] = Decimal if (checksum or decimal_keys) else float
    zero = num("0")

    def step(frame: str, recv_ns: int) -> None:
        sym, snap, d = msg(frame)
        if snap:
            ob = CBook(checksum_format="OKX") if checksum else CBook()
            books[sym] = ob
        else:
            ob = books[sym]
        for side, lvs in ((ob.bids, d["bids"]), (ob.asks, d["asks"])):
            for lv in lvs:
                p = num(lv[0])
                s = num(lv[1])
                if s == zero:
                    if p in side:
                        del side[p]
                else:
                    side[p] = s
        if checksum and d.get("checksum"):
            ok[0 if ob.checksum() == (d["checksum"] & 0xFFFFFFFF) else 1] += 1

    def top() -> Top:
        out: Top = {}
        for sym, ob in books.items():
            sides = []
            for side in (ob.bids, ob.asks):
                n = min(_TOP_N, len(side))
                sides.append([(float(p), float(s)) for p, s in map(side.index, range(n))])
            out[sym] = (sides[0], sides[1])
        return out

    return step, top, lambda: (ok[0], ok[1])


def _sorteddict(venue: str, checksum: bool) -> Engine:
    from sortedcontainers import SortedDict

    from ..venues.okx import okx_checksum

    msg = _okx_msg if venue == "okx" else _binance_msg
    books: dict[str, tuple[Any, Any]] = {}
    ok = [0, 0]

    def step(frame: str, recv_ns: int) -> None:
        sym, snap, d = msg(frame)
        if snap:
            bids = SortedDict()
            asks = SortedDict()
            books[sym] = (bids, asks)
        else:
            bids, asks = books[sym]
        for side, lvs, sign in ((bids, d["bids"], -1.0), (asks, d["asks"], 1.0)):
            for lv in lvs:
                ps = lv[0]
                ss = lv[1]
                k = sign * float(ps)
                if float(ss) == 0.0:
                    side.pop(k, None)
                else:
                    side[k] = (ps, ss)
        if checksum and d.get("checksum"):
            c = okx_checksum(bids.values()[:_TOP_N], asks.values()[:_TOP_N])
            ok[0 if c == d["checksum"] else 1] += 1

    def top() -> Top:
        return {sym: ([(float(p), float(s)) for p, s in b.values()[:_TOP_N]],
                      [(float(p), float(s)) for p, s in a.values()[:_TOP_N]])
                for sym, (b, a) in books.items()}

    return step, top, lambda: (ok[0], ok[1])


#: (row label, factory(venue, checksum), group, is the reference of its group)
_ROWS: tuple[tuple[str, Callable[[str, bool], Engine], bool, bool], ...] = (
    ("tradesim", _ours, False, False),
    ("order-book (C, float keys)", _cbook, False, True),
    ("order-book (C, Decimal keys)", lambda v, ck: _cbook(v, ck, True), False, False),
    ("SortedDict", _sorteddict, False, False),
    ("tradesim + checksum", _ours, True, False),
    ("order-book (C, Decimal keys) + checksum", _cbook, True, True),
    ("SortedDict + checksum", _sorteddict, True, False),
)


def _pct(sorted_xs: Sequence[int], q: float) -> float:
    """Linear-interpolated percentile of sorted values (numpy's default)."""
    if not sorted_xs:
        return math.nan
    pos = q * (len(sorted_xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def bench_venue(venue: str, frames: Frames, *, passes: int = 7, use_gc: bool = False,
                checksum_rows: bool = True) -> dict[str, Any]:
    """Time every engine on ``frames`` for ``passes`` passes; see the module docstring."""
    if passes < 1:
        raise ValueError(f"passes={passes!r} must be >= 1")
    if not frames:
        raise ValueError("frames=[] must hold at least one frame")
    rows = [r for r in _ROWS if checksum_rows or not r[2]]
    is_snap = [('"snapshot"' in f or '"lastUpdateId"' in f) for _, f in frames]
    per: dict[str, dict[str, list[float]]] = {
        r[0]: {"med": [], "p99": [], "snap": [], "mean": []} for r in rows}
    finals: dict[str, Top] = {}
    checks: dict[str, tuple[int, int]] = {}
    clock = time.perf_counter_ns
    for _ in range(passes):
        for label, factory, ck, _ref in rows:
            step, top, chk = factory(venue, ck)
            upd: list[int] = []
            snaps: list[int] = []
            gc_was = gc.isenabled()
            if not use_gc:
                gc.collect()
                gc.disable()
            try:
                for (recv, fr), s in zip(frames, is_snap, strict=True):
                    t = clock()
                    step(fr, recv)
                    dt = clock() - t
                    (snaps if s else upd).append(dt)
            finally:
                if gc_was:
                    gc.enable()
            upd.sort()
            d = per[label]
            d["med"].append(_pct(upd, 0.5) / 1e3)
            d["p99"].append(_pct(upd, 0.99) / 1e3)
            d["mean"].append(sum(upd) / len(upd) / 1e3 if upd else math.nan)
            d["snap"].append(statistics.median(snaps) / 1e3 if snaps else math.nan)
            finals[label] = top()
            checks[label] = chk()
    out_rows: list[dict[str, Any]] = []
    refs = {ck: lab for lab, _, ck, ref in rows if ref}
    for label, _, ck, _ref in rows:
        d = per[label]
        out_rows.append({
            "engine": label, "checksum": ck,
            "median_us": statistics.median(d["med"]), "p99_us": statistics.median(d["p99"]),
            "mean_us": statistics.median(d["mean"]), "snapshot_us": statistics.median(d["snap"]),
            "checksums_ok": checks[label][0], "checksums_failed": checks[label][1],
        })
    by = {r["engine"]: r for r in out_rows}
    for r in out_rows:
        ref = by[refs[r["checksum"]]]
        r["vs"] = ref["engine"]
        r["ratio_median"] = r["median_us"] / ref["median_us"]
        r["ratio_p99"] = r["p99_us"] / ref["p99_us"]
    base = finals[rows[0][0]]
    same = {lab: (f == base) for lab, f in finals.items()}
    return {
        "venue": venue, "frames": len(frames), "updates": len(frames) - sum(is_snap),
        "snapshots": sum(is_snap), "passes": passes, "gc": use_gc, "rows": out_rows,
        "same_top25": all(same.values()), "same_top25_by_engine": same,
        "top25": {lab: {s: [b, a] for s, (b, a) in f.items()} for lab, f in finals.items()},
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--passes", type=int, default=7, help="passes per engine (default 7)")
    parser.add_argument("--frames", type=int, default=None,
                        help="use only the first N frames of each recording")
    parser.add_argument("--venue", choices=("okx", "binance", "all"), default="all")
    parser.add_argument("--gc", action="store_true",
                        help="leave the garbage collector on while timing")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.passes < 1:
        raise ValueError(f"--passes={args.passes!r} must be >= 1")
    if args.frames is not None and args.frames < 2:
        raise ValueError(f"--frames={args.frames!r} must be >= 2")
    out: dict[str, Any] = {
        "python": platform.python_version(), "machine": platform.machine(),
        "venues": {},
    }
    if args.venue in ("okx", "all"):
        out["venues"]["okx"] = bench_venue("okx", okx_frames(args.frames),
                                           passes=args.passes, use_gc=args.gc)
    if args.venue in ("binance", "all") and _has_binance():
        res = bench_venue("binance", binance_frames(args.frames), passes=args.passes,
                          use_gc=args.gc, checksum_rows=False)
        out["venues"]["binance"] = res
    for v in out["venues"].values():
        v.pop("top25", None)  # large; kept only by bench_venue callers
    return out


def _has_binance() -> bool:
    import importlib.util

    return importlib.util.find_spec("tradesim_nb.venues.binance") is not None


def format_table(result: dict[str, Any]) -> str:
    lines: list[str] = []
    for venue, res in result["venues"].items():
        lines.append(f"{venue}: {res['updates']} updates + {res['snapshots']} snapshots, "
                     f"{res['passes']} passes, gc {'on' if res['gc'] else 'off'}; "
                     f"µs per update (median over passes)")
        hdr = ("engine", "median", "p99", "mean", "snapshot", "×median", "×p99", "checksums")
        rows = [hdr]
        for r in res["rows"]:
            ck = (f"{r['checksums_ok']} ok / {r['checksums_failed']} bad" if r["checksum"]
                  else "-")
            rows.append((r["engine"], f"{r['median_us']:.1f}", f"{r['p99_us']:.1f}",
                         f"{r['mean_us']:.1f}", f"{r['snapshot_us']:.0f}",
                         f"{r['ratio_median']:.2f}", f"{r['ratio_p99']:.2f}", ck))
        w = [max(len(x[i]) for x in rows) for i in range(len(hdr))]
        for x in rows:
            lines.append("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                                   for i, c in enumerate(x)))
        lines.append("ratios (×) are to the order-book row of the same group; final top 25 "
                     f"levels identical across engines: {res['same_top25']}")
        lines.append("")
    return "\n".join(lines).rstrip()
