"""The compiled order book against its pure-Python twin: the same random snapshot and delta
streams (valid and not), then every read compared value for value, errors and messages too."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradesim_nb import _book_c
from tradesim_nb import book as book_mod
from tradesim_nb._book_py import OrderBook as PyBook
from tradesim_nb.book import BookInputError, InvalidLevelError, LevelCapError
from tradesim_nb.instruments import Instrument, get_instrument

CBook = _book_c.OrderBook
INSTRUMENTS: list[Instrument | None] = [
    None,
    get_instrument("okx", "BTC-USDT-SWAP"),  # linear, 0.01 BTC a contract
    get_instrument("okx", "BTC-USD-SWAP"),  # inverse, 100 USD a contract
]

# -- strategies: price and size strings as venues (and careless users) write them -----------
ticks = st.integers(min_value=9_900, max_value=10_100)


@st.composite
def price_str(draw: st.DrawFn) -> Any:
    t = draw(ticks)
    form = draw(st.integers(0, 9))
    if form <= 4:
        return f"{t / 100:.2f}"
    if form == 5:
        return f"{t / 100:.4f}"  # trailing zeros: the same tick, another string
    if form == 6:
        return repr(t / 100)
    if form == 7:
        return f"{t / 100:.2f}".rstrip("0").rstrip(".")
    if form == 8:
        return f" {t / 100} "  # Python's float() takes spaces: the slow path
    return f"{t}e-2"


@st.composite
def size_str(draw: st.DrawFn) -> Any:
    form = draw(st.integers(0, 12))
    if form == 0:
        return draw(st.sampled_from(["0", "0.000", "-0", "0e0"]))
    if form == 1:
        return draw(st.sampled_from(["12345678901234567890.5", "0.00000000000000000000001234",
                                     "1e-3", "1_000.5", "９.5", "+2.5"]))
    q = draw(st.integers(1, 5_000))
    return f"{q / 1000:.3f}" if form < 9 else f"{q / 1000}"


bad_price = st.sampled_from(["nan", "NaN", "inf", "-inf", "-100.5", "0", "0.0", "-0", "abc",
                             "", None, "1e300", 1e300])
bad_size = st.sampled_from(["nan", "inf", "-inf", "-5", "-0.001", "1e309", "abc", "", None,
                            float("nan")])


@st.composite
def level(draw: st.DrawFn, bad: bool) -> Any:
    if bad:
        kind = draw(st.integers(0, 3))
        if kind == 0:
            return [draw(bad_price), draw(size_str())]
        if kind == 1:
            return [draw(price_str()), draw(bad_size)]
        if kind == 2:
            return draw(st.sampled_from([["100.5"], [], 7, None, {"p": 1}]))
        return (draw(price_str()), draw(bad_size))
    lv: list[Any] = [draw(price_str()), draw(size_str())]
    extra = draw(st.integers(0, 3))
    if extra == 1:
        lv += ["0", "4"]  # the OKX form: [px, sz, "0", orders]
    elif extra == 2:
        return tuple(lv)
    return lv


@st.composite
def side_levels(draw: st.DrawFn, allow_bad: bool) -> list[Any]:
    n = draw(st.integers(0, 25))
    out = [draw(level(False)) for _ in range(n)]
    if allow_bad and draw(st.integers(0, 9)) == 0:
        out.insert(draw(st.integers(0, n)), draw(level(True)))
    if draw(st.booleans()):
        # snapshots usually come best-first: bids descending, asks ascending (sorted path)
        out.sort(key=lambda lv: _px_of(lv), reverse=draw(st.booleans()))
    return out


def _px_of(lv: Any) -> float:
    try:
        return float(lv[0])
    except Exception:
        return 0.0


op = st.one_of(
    st.tuples(st.just("snap"), side_levels(True), side_levels(True)),
    st.tuples(st.just("delta"), side_levels(True), side_levels(True)),
    st.tuples(st.just("delta"), side_levels(False), side_levels(False)),
    st.tuples(st.just("uncross"), st.just([]), st.just([])),
    st.tuples(st.just("clear"), st.just([]), st.just([])),
)


# -- comparing two books -------------------------------------------------------------------
def same(x: Any, y: Any) -> bool:
    """Equal values, NaN equal to NaN, exact floats (no tolerance), same types of numbers."""
    if isinstance(x, float) and isinstance(y, float):
        return (math.isnan(x) and math.isnan(y)) or (x == y and math.copysign(1, x)
                                                      == math.copysign(1, y))
    if isinstance(x, np.ndarray):
        return isinstance(y, np.ndarray) and x.dtype == y.dtype and np.array_equal(
            x, y, equal_nan=True)
    if isinstance(x, (tuple, list)):
        return (type(x) is type(y) and len(x) == len(y)
                and all(same(a, b) for a, b in zip(x, y)))
    return type(x) is type(y) and x == y


def state(ob: Any) -> tuple[Any, ...]:
    """Everything a book shows that does not change it."""
    return (ob.levels("bid"), ob.levels("ask"), ob.level_strings("bid", 10**6),
            ob.level_strings("ask", 10**6), ob.n_bids, ob.n_asks, len(ob), ob.crossed,
            ob.locked, ob.valid, ob.stale, ob.updates, ob.version, ob.seq, repr(ob))


def reads(ob: Any, bps_seq: list[float], k: int) -> list[Any]:
    """Every read, in a fixed order (the band reads change the band's cache in both)."""
    out: list[Any] = [state(ob)]
    out += [ob.best_bid, ob.best_ask, ob.best_bid_size, ob.best_ask_size, ob.mid, ob.spread,
            ob.microprice]
    out.append(ob.spread_bps)
    for n in (None, 0, 1, k, 25, -2, 10**30, -(10**30)):
        out += [ob.levels("bid", n), ob.levels("ask", n), ob.snapshot_levels(n)]
        if n is not None:
            out += [ob.level_strings("bid", n), ob.level_strings("ask", n),
                    ob.checksum_string(n), ob.top(n), ob.depth("bid", n), ob.depth("ask", n),
                    ob.imbalance(n)]
    out += [ob.top(), ob.depth("bid"), ob.imbalance()]
    for bps in bps_seq:
        out += [ob.depth_within_bps("bid", bps), ob.depth_within_bps("ask", bps),
                ob.tick_values(bps, k), ob.tick_values(bps)]
    for side in ("buy", "sell"):
        d = ob.depth("ask" if side == "buy" else "bid", 2)  # ends on a level's edge
        for unit in ("base", "contracts", "usd"):
            for amount in (0, 0.5, 3, 1e3, d, d * (1 + 5e-12), d * (1 - 5e-12)):
                out.append(ob.walk(side, amount, unit))
    return out


def apply_both(c: Any, p: Any, kind: str, bids: list[Any], asks: list[Any]) -> None:
    before = (state(c), state(p))
    res = []
    for ob in (c, p):
        try:
            if kind == "snap":
                ob.apply_snapshot(bids, asks)
                res.append(None)
            elif kind == "delta":
                ob.apply_delta(bids, asks)
                res.append(None)
            elif kind == "uncross":
                res.append(ob.remove_crossed())
            else:
                ob.clear()
                res.append(None)
        except BookInputError as e:
            res.append((type(e), str(e), e.reason, e.side))
    assert res[0] == res[1]
    if res[0] is not None and kind in ("snap", "delta"):
        # refused: both books exactly as they were
        assert same(state(c), before[0]) and same(state(p), before[1])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=12), st.sampled_from(INSTRUMENTS),
       st.lists(st.sampled_from([0.0, 2.0, 5.0, 10.0, 50.0, 200.0, 1e4]), min_size=1,
                max_size=3), st.integers(1, 8))
def test_compiled_and_python_books_agree(seq: list, inst: Instrument | None, bps: list[float],
                                         k: int) -> None:
    c = CBook(inst, venue="t", symbol="X", price_scale=100)
    p = PyBook(inst, venue="t", symbol="X", price_scale=100)
    assert same(reads(c, bps, k), reads(p, bps, k))
    for kind, bids, asks in seq:
        apply_both(c, p, kind, bids, asks)
        assert same(reads(c, bps, k), reads(p, bps, k))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["snap", "delta"]), side_levels(False),
                          side_levels(False)), min_size=1, max_size=10),
       st.integers(1, 6), st.sampled_from([2.0, 10.0, 200.0]))
def test_truncate_agrees_and_keeps_the_best_levels(seq: list, depth: int, bps: float) -> None:
    c = CBook(venue="t", symbol="X", price_scale=100)
    p = PyBook(venue="t", symbol="X", price_scale=100)
    for kind, bids, asks in seq:
        apply_both(c, p, kind, bids, asks)
        want = (c.level_strings("bid", depth), c.level_strings("ask", depth))
        nc, np_ = c.truncate(depth), p.truncate(depth)
        assert nc == np_ and c.n_bids <= depth and c.n_asks <= depth
        assert (c.level_strings("bid", None), c.level_strings("ask", None)) == want
        assert same(reads(c, [bps], depth), reads(p, [bps], depth))
    with pytest.raises(ValueError, match="depth"):
        c.truncate(0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["snap", "delta"]), side_levels(False),
                          side_levels(False)), min_size=1, max_size=40),
       st.lists(st.sampled_from([0.0, 3.0, 10.0, 80.0]), min_size=1, max_size=4))
def test_tracked_depth_bands_agree_over_long_streams(seq: list, bps: list[float]) -> None:
    # the band's running sums and its cache (1,000 uses between re-sums) are the same
    c = CBook(venue="t", symbol="X", price_scale=100)
    p = PyBook(venue="t", symbol="X", price_scale=100)
    for i, (kind, bids, asks) in enumerate(seq):
        apply_both(c, p, kind, bids, asks)
        for _ in range(30):
            b = bps[i % len(bps)]
            assert same(c.tick_values(b, 5), p.tick_values(b, 5))
            assert same(c.depth_within_bps("ask", b), p.depth_within_bps("ask", b))


def test_default_price_scale_and_cap_agree() -> None:
    for inst in INSTRUMENTS:
        c, p = CBook(inst), PyBook(inst)
        assert (c.price_scale, c.max_levels, c.venue, c.symbol) == (
            p.price_scale, p.max_levels, p.venue, p.symbol)
    assert CBook().max_levels == 200_000
    for cls in (CBook, PyBook):
        with pytest.raises(ValueError, match="price_scale=0"):
            cls(price_scale=0)
        with pytest.raises(ValueError, match="max_levels=0"):
            cls(max_levels=0)
        with pytest.raises(ValueError, match="max_levels=True"):
            cls(max_levels=True)


def test_the_installed_book_is_the_compiled_one() -> None:
    # `make install` / `pip install` build the extension: the book served is the C one
    assert book_mod.COMPILED is True
    assert book_mod.OrderBook is CBook
    assert _book_c.__file__.endswith((".so", ".pyd")), _book_c.__file__


def test_missing_extension_falls_back_to_the_twin_with_a_warning() -> None:
    code = (
        "import sys, warnings\n"
        "sys.modules['tradesim_nb._book_c'] = None  # as if it had not been built\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import tradesim_nb.book as b\n"
        "ob = b.book_from_levels([(99, 1)], [(101, 2)])\n"
        "print(b.COMPILED, type(ob).__module__, ob.valid)\n"
        "print([str(x.message) for x in w if x.category is RuntimeWarning])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = r.stdout.splitlines()[:2]
    assert first == "False tradesim_nb._book_py True"
    assert "compiled order book is missing" in second and "pure-Python twin" in second


# -- validation: what must never enter the book ---------------------------------------------
BAD = [
    (["nan", "1"], "bad_price", "price nan must be a finite number > 0"),
    (["inf", "1"], "bad_price", "price inf must be a finite number > 0"),
    (["-100", "1"], "bad_price", "price -100.0 must be a finite number > 0"),
    (["0", "1"], "bad_price", "price 0.0 must be a finite number > 0"),
    (["1e300", "1"], "bad_price", "beyond the integer key range"),
    (["abc", "1"], "bad_price", "price 'abc' is not a number"),
    ([None, "1"], "bad_price", "price None is not a number"),
    (["100", "nan"], "bad_size", "size nan must be a finite number >= 0"),
    (["100", "-inf"], "bad_size", "size -inf must be a finite number >= 0"),
    (["100", "1e309"], "bad_size", "size inf must be a finite number >= 0"),
    (["100", "-5"], "bad_size", "size -5.0 must be a finite number >= 0"),
    (["100", ""], "bad_size", "size '' is not a number"),
    (["100"], "bad_level", "is not a [price, size, ...] sequence"),
    (5, "bad_level", "is not a [price, size, ...] sequence"),
]


@pytest.mark.parametrize("cls", [CBook, PyBook], ids=["compiled", "python"])
@pytest.mark.parametrize(("bad", "reason", "msg"), BAD)
def test_bad_numbers_are_refused_and_the_book_is_unchanged(cls: type, bad: Any, reason: str,
                                                           msg: str) -> None:
    ob = cls(venue="t", symbol="X", price_scale=100)
    ob.apply_snapshot([["99.5", "1"], ["99", "2"]], [["100.5", "3"]])
    before = state(ob)
    with pytest.raises(InvalidLevelError) as ei:
        ob.apply_delta([["99.25", "4"], bad], [])
    e = ei.value
    assert isinstance(e, ValueError) and e.reason == reason and e.side == "bid"
    assert msg in str(e) and "bid level 1" in str(e)
    assert same(state(ob), before)
    with pytest.raises(InvalidLevelError):
        ob.apply_snapshot([["99", "1"]], [["100", "1"], bad])
    assert same(state(ob), before)
    assert ob.valid and ob.best_bid_size == 1.0


@pytest.mark.parametrize("cls", [CBook, PyBook], ids=["compiled", "python"])
def test_level_cap_refuses_whole_frames_and_names_the_cap(cls: type) -> None:
    ob = cls(venue="t", symbol="X", price_scale=100, max_levels=100)
    bids = [[f"{90 - i / 100:.2f}", "1"] for i in range(100)]
    ob.apply_snapshot(bids, [["100", "1"]])
    assert ob.n_bids == 100
    before = state(ob)
    with pytest.raises(LevelCapError, match="max_levels=100") as ei:
        ob.apply_snapshot([*bids, ["10", "1"]], [["100", "1"]])
    assert ei.value.levels == 101 and ei.value.cap == 100 and ei.value.reason == "level_cap"
    assert isinstance(ei.value, ValueError) and same(state(ob), before)
    with pytest.raises(LevelCapError, match="101 bid levels"):
        ob.apply_delta([["95", "1"]], [])
    assert same(state(ob), before)
    # a delta that adds and removes, netting to the cap, is fine (its last mention decides)
    ob.apply_delta([["95", "1"], ["95", "0"], ["96", "1"], [bids[0][0], "0"]], [])
    assert ob.n_bids == 100 and ob.best_bid == 96.0
    # a snapshot naming a price twice counts it once
    ob.apply_snapshot([*bids, [bids[3][0], "7"]], [])
    assert ob.n_bids == 100


# -- remove_crossed: linear, and the rule it always had -------------------------------------
def quadratic_rule(bids: list[tuple[float, float]],
                   asks: list[tuple[float, float]]) -> tuple[int, int]:
    """The rule as it was first written (tradesim_nb before the compiled book): every cut,
    the removed sizes re-summed for each."""
    from bisect import bisect_right

    bp = [p for p, _ in bids]
    ap = [p for p, _ in asks]
    bsz = [s for _, s in bids]
    asz = [s for _, s in asks]
    best: tuple[int, float, int, int] | None = None
    for i in range(len(bp) + 1):
        j = bisect_right(ap, bp[i]) if i < len(bp) else 0
        cost = (i + j, sum(bsz[:i]) + sum(asz[:j]))
        if best is None or cost < best[:2]:
            best = (cost[0], cost[1], i, j)
    assert best is not None
    return best[2], best[3]


crossed_books = st.tuples(
    st.lists(st.tuples(st.integers(9_900, 10_100), st.integers(1, 16)), min_size=1,
             max_size=60, unique_by=lambda x: x[0]),
    st.lists(st.tuples(st.integers(9_900, 10_100), st.integers(1, 16)), min_size=1,
             max_size=60, unique_by=lambda x: x[0]),
)


@settings(max_examples=400, deadline=None)
@given(crossed_books)
def test_remove_crossed_follows_the_quadratic_rule(bk: tuple) -> None:
    # sizes in eighths: every sum is exact, so the size tie-break is the same either way
    bids = sorted(((t / 100, q / 8) for t, q in bk[0]), reverse=True)
    asks = sorted((t / 100, q / 8) for t, q in bk[1])
    books = []
    for cls in (CBook, PyBook):
        ob = cls(venue="t", symbol="X", price_scale=100)
        ob.apply_snapshot([(f"{p:.2f}", repr(s)) for p, s in bids],
                          [(f"{p:.2f}", repr(s)) for p, s in asks])
        books.append(ob)
    crossed = bids[0][0] >= asks[0][0]
    want = quadratic_rule(bids, asks) if crossed else (0, 0)
    for ob in books:
        assert ob.crossed == crossed
        assert ob.remove_crossed() == want
        assert not ob.crossed
        assert ob.levels("bid") == bids[want[0]:] and ob.levels("ask") == asks[want[1]:]
        assert ob.remove_crossed() == (0, 0)


def _crossed_snapshot(n: int) -> tuple[list[list[str]], list[list[str]]]:
    """``n`` levels, half a side, the asks stuck far below the bids: the worst case of the
    old rule (every cut re-summed) and a long pass for the new one."""
    h = n // 2
    bids = [[f"{20_000 + (h - i) / 100:.2f}", "1.5"] for i in range(h)]
    asks = [[f"{10_000 + i / 100 + 0.005:.3f}", "0.5"] for i in range(h)]
    return bids, asks


def test_crossed_40000_level_snapshot_is_sanitized_fast() -> None:
    import time

    bids, asks = _crossed_snapshot(40_000)
    for cls in (CBook, PyBook):
        ob = cls(venue="t", symbol="X", price_scale=1000)
        ob.apply_snapshot(bids, asks)
        assert ob.crossed
        t = time.perf_counter()
        removed = ob.remove_crossed()
        dt = time.perf_counter() - t
        # every ask is below every bid: removing the cheaper side whole is the fewest levels
        # (a tie, 20,000 each: the asks hold less size)
        assert removed == (0, 20_000) and not ob.crossed and ob.n_bids == 20_000
        if cls is CBook:
            assert dt < 0.05, f"remove_crossed took {dt * 1e3:.1f} ms"  # issue 12: <= 50 ms


@settings(max_examples=2000, deadline=None)
@given(st.from_regex(r"\A-?[0-9]{0,21}(\.[0-9]{0,25})?\Z"), st.integers(1, 10**9))
def test_sizes_parse_exactly_as_python_float(s: str, tick: int) -> None:
    # the C fast path (<= 19 digits, mantissa <= 2**53, <= 22 decimals) and its fallback
    try:
        want = float(s)
    except ValueError:
        want = None
    ob = CBook(venue="t", symbol="X", price_scale=1)
    px = str(tick)
    if want is None:
        with pytest.raises(InvalidLevelError, match="is not a number"):
            ob.apply_snapshot([[px, s]], [])
    elif want < 0:
        with pytest.raises(InvalidLevelError, match="must be a finite number >= 0"):
            ob.apply_snapshot([[px, s]], [])
    else:
        as_ask = 0 < want < 1e18  # also as a price (key range: price * scale < 2**62)
        ob.apply_snapshot([[px, s]], [[s, "1"]] if as_ask else [])
        assert ob.n_bids == (1 if want > 0 else 0)
        if want > 0:
            assert same(ob.best_bid_size, want) and (not as_ask or same(ob.best_ask, want))
            assert ob.level_strings("bid", 1) == [(px, s)]


@pytest.mark.parametrize("cls", [CBook, PyBook], ids=["compiled", "python"])
def test_pickle_and_copies_are_independent_equal_books(cls: type) -> None:
    import copy
    import pickle

    ob = cls(INSTRUMENTS[1], venue="okx", symbol="BTC-USDT-SWAP")
    ob.apply_snapshot([["30000.1", "5"], ["30000.0", "2.50"]], [["30000.2", "1", "0", "3"]])
    ob.apply_delta([["29999.9", "4"]], [])
    ob.seq, ob.last_recv_ts_ns = 42, 7
    for other in (pickle.loads(pickle.dumps(ob)), copy.copy(ob), copy.deepcopy(ob)):
        assert type(other) is cls and same(state(other), state(ob))
        assert other.instrument == ob.instrument and other.last_recv_ts_ns == 7
        other.apply_delta([["30000.1", "0"]], [])
        assert ob.best_bid == 30000.1 and other.best_bid == 30000.0
