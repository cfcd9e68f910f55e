"""``tradesim bench book``: parse + apply (+ checksum) per real frame, this book beside its peers.

The same raw frames of the real recordings go through, in one run:

* **tradesim** — the venue feed (:class:`~tradesim_nb.venues.okx.OkxFeed`,
  :class:`~tradesim_nb.venues.binance.BinanceSpotFeed`): orjson parse, sequencing,
  :class:`~tradesim_nb.book.OrderBook` apply, and (OKX) the CRC32 of the top 25 levels;
* **tradesim book** — the path of the peer rows below with this book: ``orjson.loads``, then
  :meth:`~tradesim_nb.book.OrderBook.apply_snapshot` / ``apply_delta`` called with the level
  lists as orjson gives them (numbers parsed, validated and keyed in C), and for the checksum
  row ``zlib.crc32(book.checksum_string(25))``; **tradesim book, Python twin** is the same with
  the pure-Python twin (:mod:`tradesim_nb._book_py`), the book served when the extension is
  missing;
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

Two more sections:

* **goquant** — full-snapshot frames: the six GoQuant relay messages (top-50 snapshots, string
  prices), each in 50 variants whose sizes are scaled by a factor uniform in [0.99, 1.01]
  (one per level, seeded; 6 decimals, trailing zeros stripped), cycled: per frame
  ``orjson.loads`` and a snapshot apply (+ :meth:`~tradesim_nb.book.OrderBook.remove_crossed`
  for tradesim: three of the six messages are crossed), against the peers rebuilding a book per
  message as the public simulators do; plus the snapshot apply alone from parsed lists;
* **limits** — the bounded work of issue 12: a crossed 40,000-level snapshot applied and
  sanitized, and a valid 130,000-level snapshot applied (from parsed lists, and as a raw Binance
  REST frame through the feed), compiled book beside its twin.

The 1-minute load average is printed at the start and the end of the run.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import statistics
import time
import zlib
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import orjson

DESCRIPTION = ("parse + apply (+ checksum) per real OKX books / Binance depth / GoQuant snapshot "
               "frame: this book vs the C order-book package vs a sortedcontainers book; "
               "big-book limits")

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


def _ours(venue: str, checksum: bool, in_place: bool = True) -> Engine:
    from ..venues import get_feed

    feed = get_feed(venue, verify_checksums=checksum)
    if not in_place:
        feed.raw_levels_min = 1 << 62  # every level an orjson list (the ordinary path)

    def top() -> Top:
        return {s: (b.levels("bid", _TOP_N), b.levels("ask", _TOP_N))
                for s, b in feed.books.items() if b.n_bids or b.n_asks}

    def checks() -> tuple[int, int]:
        return (sum(st.checksum_ok for st in feed.stats.values()),
                sum(st.checksum_failed for st in feed.stats.values()))

    return feed.on_frame, top, checks


def _book_engine(venue: str, checksum: bool, twin: bool = False) -> Engine:
    """orjson + this book's fast entries, the path of the peer rows."""
    from .._book_py import OrderBook as PyBook
    from ..book import OrderBook
    from ..instruments import INSTRUMENTS

    cls: Any = PyBook if twin else OrderBook
    msg = _okx_msg if venue == "okx" else _binance_msg
    books: dict[str, Any] = {}
    ok = [0, 0]

    def step(frame: str, recv_ns: int) -> None:
        sym, snap, d = msg(frame)
        if snap:
            ob = books.get(sym)
            if ob is None:
                ob = books[sym] = cls(INSTRUMENTS.get((venue, sym)), venue=venue, symbol=sym)
            ob.apply_snapshot(d["bids"], d["asks"])
        else:
            ob = books[sym]
            ob.apply_delta(d["bids"], d["asks"])
        if checksum and d.get("checksum"):
            c = zlib.crc32(ob.checksum_string(_TOP_N).encode())
            ok[0 if (c - (1 << 32) if c >= 1 << 31 else c) == d["checksum"] else 1] += 1

    def top() -> Top:
        return {s: (b.levels("bid", _TOP_N), b.levels("ask", _TOP_N)) for s, b in books.items()}

    return step, top, lambda: (ok[0], ok[1])


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
    ("tradesim, levels as orjson lists", lambda v, ck: _ours(v, ck, False), False, False),
    ("tradesim book", _book_engine, False, False),
    ("tradesim book, Python twin", lambda v, ck: _book_engine(v, ck, True), False, False),
    ("order-book (C, float keys)", _cbook, False, True),
    ("order-book (C, Decimal keys)", lambda v, ck: _cbook(v, ck, True), False, False),
    ("SortedDict", _sorteddict, False, False),
    ("tradesim + checksum", _ours, True, False),
    ("tradesim book + checksum", _book_engine, True, False),
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


# -- full-snapshot frames (the GoQuant relay) -------------------------------------------------
GOQUANT_VARIANTS = 50


def goquant_frames(variants: int = GOQUANT_VARIANTS, seed: int = 0,
                   step_ms: int = 100) -> Frames:
    """The six GoQuant relay messages, each in ``variants`` variants, cycled.

    Variant ``v`` of a message scales each level's size by its own factor drawn uniformly
    from [0.99, 1.01] (``random.Random(seed)``), printed with 6 decimals and trailing zeros
    stripped; prices are kept. The frames run message 1..6 of variant 0, then of variant 1, ...
    Frame ``k`` is stamped with the first message's time plus ``k * step_ms`` ms, to the whole
    second (the relay stamps whole seconds), so that each book's time advances as a relay's
    does: a feed takes a snapshot older than the book it holds for a stale or reordered one
    (``time_backwards``), and one stamped ahead of its receive time for a bad clock.
    """
    from datetime import datetime, timedelta

    from ..datasets import goquant_samples

    msgs = [orjson.loads(p.read_bytes()) for p in goquant_samples()]
    t0 = datetime.fromisoformat(msgs[0]["timestamp"].replace("Z", "+00:00"))
    rng = random.Random(seed)

    def scaled(levels: list[list[str]]) -> list[list[str]]:
        out = []
        for px, sz in levels:
            x = f"{float(sz) * rng.uniform(0.99, 1.01):.6f}".rstrip("0").rstrip(".")
            out.append([px, x or "0"])
        return out

    frames: Frames = []
    for v in range(variants):
        for m in msgs:
            mv = dict(m)
            mv["bids"] = scaled(m["bids"])
            mv["asks"] = scaled(m["asks"])
            ts = t0 + timedelta(milliseconds=len(frames) * step_ms)
            mv["timestamp"] = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
            frames.append((v, orjson.dumps(mv).decode()))
    return frames


def _gq_ours() -> Callable[[str], Any]:
    from ..venues import get_feed

    feed = get_feed("goquant")
    return lambda fr: feed.on_frame(fr, 0)


def _gq_book(twin: bool) -> Callable[[str], Any]:
    from .._book_py import OrderBook as PyBook
    from ..book import OrderBook

    cls: Any = PyBook if twin else OrderBook
    books: dict[str, Any] = {}

    def step(fr: str) -> None:
        m = orjson.loads(fr)
        sym = m["symbol"]
        ob = books.get(sym)
        if ob is None:
            ob = books[sym] = cls(venue="goquant", symbol=sym)
        ob.apply_snapshot(m["bids"], m["asks"])
        if ob.crossed:
            ob.remove_crossed()

    return step


def _gq_cbook() -> Callable[[str], Any]:
    from order_book import OrderBook as CBook

    def step(fr: str) -> None:
        m = orjson.loads(fr)
        ob = CBook()  # rebuilt per message, as the public simulators do
        for side, lvs in ((ob.bids, m["bids"]), (ob.asks, m["asks"])):
            for lv in lvs:
                p = float(lv[0])
                s = float(lv[1])
                if s != 0.0:
                    side[p] = s

    return step


def _gq_sorteddict() -> Callable[[str], Any]:
    from sortedcontainers import SortedDict

    def step(fr: str) -> None:
        m = orjson.loads(fr)
        bids = SortedDict()
        asks = SortedDict()
        for side, lvs, sign in ((bids, m["bids"], -1.0), (asks, m["asks"], 1.0)):
            for lv in lvs:
                if float(lv[1]) != 0.0:
                    side[sign * float(lv[0])] = (lv[0], lv[1])

    return step


def _gq_apply_only(twin: bool) -> tuple[Callable[[str], Any], dict[str, Any]]:
    """The snapshot apply alone, from the parsed lists (parsed before the clock starts)."""
    from .._book_py import OrderBook as PyBook
    from ..book import OrderBook

    cls: Any = PyBook if twin else OrderBook
    books: dict[str, Any] = {}
    parsed: dict[str, Any] = {}

    def step(fr: str) -> None:
        m = parsed[fr]
        ob = books.get(m["symbol"])
        if ob is None:
            ob = books[m["symbol"]] = cls(venue="goquant", symbol=m["symbol"])
        ob.apply_snapshot(m["bids"], m["asks"])

    return step, parsed


#: (row label, factory, is the reference); apply-only rows get their frames pre-parsed
_GQ_ROWS: tuple[tuple[str, Callable[[], Any], bool], ...] = (
    ("tradesim (GoQuantFeed.on_frame)", _gq_ours, False),
    ("tradesim book (+ remove_crossed)", lambda: _gq_book(False), False),
    ("tradesim book, Python twin", lambda: _gq_book(True), False),
    ("order-book (C, float keys), rebuilt", _gq_cbook, True),
    ("SortedDict, rebuilt", _gq_sorteddict, False),
    ("tradesim apply_snapshot alone", lambda: _gq_apply_only(False), False),
    ("Python twin apply_snapshot alone", lambda: _gq_apply_only(True), False),
)


def bench_goquant(frames: Frames, *, passes: int = 7, use_gc: bool = False) -> dict[str, Any]:
    """Time every full-snapshot engine on ``frames`` (see the module docstring)."""
    if passes < 1:
        raise ValueError(f"passes={passes!r} must be >= 1")
    if not frames:
        raise ValueError("frames=[] must hold at least one frame")
    per: dict[str, dict[str, list[float]]] = {r[0]: {"med": [], "p99": [], "mean": []}
                                              for r in _GQ_ROWS}
    clock = time.perf_counter_ns
    texts = [f for _, f in frames]
    levels = statistics.median(len(m["bids"]) + len(m["asks"])
                               for m in map(orjson.loads, texts))
    for _ in range(passes):
        for label, factory, _ref in _GQ_ROWS:
            made = factory()
            if isinstance(made, tuple):
                step, parsed = made
                parsed.update((f, orjson.loads(f)) for f in texts)
            else:
                step = made
            ts: list[int] = []
            gc_was = gc.isenabled()
            if not use_gc:
                gc.collect()
                gc.disable()
            try:
                for fr in texts:
                    t = clock()
                    step(fr)
                    ts.append(clock() - t)
            finally:
                if gc_was:
                    gc.enable()
            ts.sort()
            d = per[label]
            d["med"].append(_pct(ts, 0.5) / 1e3)
            d["p99"].append(_pct(ts, 0.99) / 1e3)
            d["mean"].append(sum(ts) / len(ts) / 1e3)
    ref = next(lab for lab, _, r in _GQ_ROWS if r)
    rows: list[dict[str, Any]] = []
    for label, _, _r in _GQ_ROWS:
        d = per[label]
        rows.append({"engine": label, "median_us": statistics.median(d["med"]),
                     "p99_us": statistics.median(d["p99"]),
                     "mean_us": statistics.median(d["mean"])})
    by = {r["engine"]: r for r in rows}
    for r in rows:
        r["vs"] = ref
        r["ratio_median"] = r["median_us"] / by[ref]["median_us"]
        r["ratio_p99"] = r["p99_us"] / by[ref]["p99_us"]
    return {"venue": "goquant", "frames": len(frames), "levels_per_frame": levels,
            "passes": passes, "gc": use_gc, "rows": rows}


# -- bounded work (issue 12) ------------------------------------------------------------------
def _crossed_levels(n: int) -> tuple[list[list[str]], list[list[str]]]:
    """``n`` levels, half a side, every ask below every bid (the worst case of the old rule)."""
    h = n // 2
    bids = [[f"{20_000 + (h - i) / 100:.2f}", "1.5"] for i in range(h)]
    asks = [[f"{10_000 + i / 100 + 0.005:.3f}", "0.5"] for i in range(h)]
    return bids, asks


def _valid_levels(n: int) -> tuple[list[list[str]], list[list[str]]]:
    """``n`` levels, half a side, best first, a one-cent spread at 60,000."""
    h = n // 2
    bids = [[f"{60_000 - i / 100:.2f}", f"{0.001 * (1 + i % 7):.3f}"] for i in range(h)]
    asks = [[f"{60_000.01 + i / 100:.2f}", f"{0.001 * (1 + i % 5):.3f}"] for i in range(h)]
    return bids, asks


def bench_limits(*, passes: int = 3, crossed_levels: int = 40_000,
                 valid_levels: int = 130_000) -> dict[str, Any]:
    """Milliseconds (median of ``passes``) for the big-book cases, compiled book vs twin."""
    from .._book_py import OrderBook as PyBook
    from ..book import COMPILED, OrderBook
    from ..venues import get_feed

    if passes < 1:
        raise ValueError(f"passes={passes!r} must be >= 1")
    cb, ca = _crossed_levels(crossed_levels)
    vb, va = _valid_levels(valid_levels)
    rest = orjson.dumps({"lastUpdateId": 1, "bids": vb, "asks": va}).decode()
    cases: dict[str, dict[str, list[float]]] = {}
    clock = time.perf_counter

    def timed(case: str, engine: str, fn: Callable[..., Any], *args: Any) -> Any:
        gc.collect()
        t = clock()
        out = fn(*args)
        cases.setdefault(case, {}).setdefault(engine, []).append((clock() - t) * 1e3)
        return out

    removed: dict[str, Any] = {}
    for _ in range(passes):
        for engine, cls in (("tradesim", OrderBook), ("Python twin", PyBook)):
            ob = cls(venue="x", symbol="X", price_scale=1000)
            timed("crossed snapshot: apply", engine, ob.apply_snapshot, cb, ca)
            removed[engine] = timed("crossed snapshot: remove_crossed", engine,
                                    ob.remove_crossed)
            ob = cls(venue="x", symbol="X")
            timed("valid snapshot: apply (parsed lists)", engine, ob.apply_snapshot, vb, va)
        feed = get_feed("binance")
        timed("valid snapshot: raw REST frame via the feed", "tradesim", feed.on_frame, rest, 0)
        # of which orjson.loads: the cyclic GC, on, walks the young lists again and again
        timed("valid snapshot: orjson.loads of that frame, gc on", "tradesim", orjson.loads,
              rest)
        gc_was = gc.isenabled()
        gc.disable()
        try:
            timed("valid snapshot: orjson.loads of that frame, gc paused", "tradesim",
                  orjson.loads, rest)
        finally:
            if gc_was:
                gc.enable()
    out = {case: {e: statistics.median(v) for e, v in d.items()} for case, d in cases.items()}
    return {"compiled": COMPILED, "crossed_levels": crossed_levels,
            "valid_levels": valid_levels, "passes": passes, "ms": out,
            "removed": {e: list(r) for e, r in removed.items()}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--passes", type=int, default=7, help="passes per engine (default 7)")
    parser.add_argument("--frames", type=int, default=None,
                        help="use only the first N frames of each recording")
    parser.add_argument("--venue", choices=("okx", "binance", "goquant", "all"), default="all",
                        help="one section, or all of them (default)")
    parser.add_argument("--no-limits", action="store_true",
                        help="skip the big-book timings (crossed 40,000 / valid 130,000 levels)")
    parser.add_argument("--gc", action="store_true",
                        help="leave the garbage collector on while timing")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.passes < 1:
        raise ValueError(f"--passes={args.passes!r} must be >= 1")
    if args.frames is not None and args.frames < 2:
        raise ValueError(f"--frames={args.frames!r} must be >= 2")
    out: dict[str, Any] = {
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count() or 0, "load_avg_1m_start": _load(), "venues": {},
    }
    if args.venue in ("okx", "all"):
        out["venues"]["okx"] = bench_venue("okx", okx_frames(args.frames),
                                           passes=args.passes, use_gc=args.gc)
    if args.venue in ("binance", "all") and _has_binance():
        res = bench_venue("binance", binance_frames(args.frames), passes=args.passes,
                          use_gc=args.gc, checksum_rows=False)
        out["venues"]["binance"] = res
    if args.venue in ("goquant", "all"):
        out["venues"]["goquant"] = bench_goquant(
            goquant_frames(max(1, args.frames // 6) if args.frames else GOQUANT_VARIANTS),
            passes=args.passes, use_gc=args.gc)
    if args.venue == "all" and not args.no_limits:
        out["limits"] = bench_limits(passes=min(args.passes, 3))
    for v in out["venues"].values():
        v.pop("top25", None)  # large; kept only by bench_venue callers
    out["load_avg_1m_end"] = _load()
    return out


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan


def _has_binance() -> bool:
    import importlib.util

    return importlib.util.find_spec("tradesim_nb.venues.binance") is not None


def format_table(result: dict[str, Any]) -> str:
    lines: list[str] = [
        f"load average (1 min) {result['load_avg_1m_start']:.2f} at the start, "
        f"{result['load_avg_1m_end']:.2f} at the end, {result['cpus']} CPUs; Python "
        f"{result['python']}", ""]
    for venue, res in result["venues"].items():
        if venue == "goquant":
            lines += _goquant_table(res)
            continue
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
    if "limits" in result:
        lim = result["limits"]
        lines.append(f"limits: ms (median of {lim['passes']}); {lim['crossed_levels']:,}-level "
                     f"crossed snapshot, {lim['valid_levels']:,}-level valid snapshot")
        engines = ("tradesim", "Python twin")
        cells: list[tuple[str, ...]] = [("case", *engines)]
        for case, d in lim["ms"].items():
            cells.append((case, *(f"{d[e]:.1f}" if e in d else "-" for e in engines)))
        w = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
        for cell in cells:
            lines.append("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                                   for i, c in enumerate(cell)))
        lines.append(f"levels removed (bids, asks): {lim['removed']}")
    return "\n".join(lines).rstrip()


def _goquant_table(res: dict[str, Any]) -> list[str]:
    lines = [f"goquant: {res['frames']} full-snapshot frames ({res['levels_per_frame']:.0f} "
             f"levels each), {res['passes']} passes, gc {'on' if res['gc'] else 'off'}; "
             "µs per frame (median over passes)"]
    rows = [("engine", "median", "p99", "mean", "×median", "×p99")]
    for r in res["rows"]:
        rows.append((r["engine"], f"{r['median_us']:.1f}", f"{r['p99_us']:.1f}",
                     f"{r['mean_us']:.1f}", f"{r['ratio_median']:.2f}",
                     f"{r['ratio_p99']:.2f}"))
    w = [max(len(x[i]) for x in rows) for i in range(len(rows[0]))]
    for x in rows:
        lines.append("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                               for i, c in enumerate(x)))
    lines.append(f"ratios (×) are to {res['rows'][0]['vs']}; the apply-alone rows start from "
                 "the parsed lists")
    lines.append("")
    return lines
