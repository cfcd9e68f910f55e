"""OrderBook: properties against a naive reference book, walk-the-book invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesim_nb import BookDelta, BookSnapshot, OrderBook, get_instrument
from tradesim_nb.book import book_from_levels

# prices on a 0.01 grid as the venue would print them; sizes with up to 3 decimals
ticks = st.integers(min_value=9_000, max_value=11_000)
sizes = st.integers(min_value=0, max_value=5_000)


def _px(t: int) -> str:
    return f"{t / 100:.2f}"


def _sz(q: int) -> str:
    return f"{q / 1000:.3f}"


level_lists = st.lists(st.tuples(ticks, sizes), max_size=30)
ops = st.lists(
    st.tuples(st.sampled_from(["snap", "delta"]), level_lists, level_lists), min_size=1,
    max_size=25,
)


class NaiveBook:
    """The obvious dict-of-floats book, recomputed sorted on every read."""

    def __init__(self) -> None:
        self.bids: dict[str, float] = {}
        self.asks: dict[str, float] = {}

    def snap(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        self.bids = {}
        self.asks = {}
        for t, q in bids:
            if q:
                self.bids[_px(t)] = q / 1000
            else:
                self.bids.pop(_px(t), None)
        for t, q in asks:
            if q:
                self.asks[_px(t)] = q / 1000
            else:
                self.asks.pop(_px(t), None)

    def delta(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        for side, lv in ((self.bids, bids), (self.asks, asks)):
            for t, q in lv:
                if q:
                    side[_px(t)] = q / 1000
                else:
                    side.pop(_px(t), None)

    def sorted(self) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        b = sorted(((float(p), s) for p, s in self.bids.items()), reverse=True)
        a = sorted((float(p), s) for p, s in self.asks.items())
        return b, a


def _levels(lv: list[tuple[int, int]]) -> list[tuple[str, str]]:
    return [(_px(t), _sz(q)) for t, q in lv]


@settings(max_examples=150, deadline=None)
@given(ops)
def test_book_matches_naive_reference(seq: list) -> None:
    ob = OrderBook(venue="test", symbol="X", price_scale=100)
    ref = NaiveBook()
    snapped = False
    for kind, bids, asks in seq:
        if kind == "snap":
            snapped = True
            ob.apply(BookSnapshot("test", "X", _levels(bids), _levels(asks), 0, 0))
            ref.snap(bids, asks)
        else:
            ob.apply(BookDelta("test", "X", _levels(bids), _levels(asks), 0, 0))
            ref.delta(bids, asks)
        rb, ra = ref.sorted()
        b, a = ob.snapshot_levels()
        assert b == rb
        assert a == ra
        if rb and ra:
            assert ob.best_bid == rb[0][0]
            assert ob.best_ask == ra[0][0]
            assert ob.crossed == (rb[0][0] >= ra[0][0])
            # a book never seen a snapshot is stale, hence never valid
            assert ob.valid == (snapped and rb[0][0] < ra[0][0])
            assert ob.mid == pytest.approx((rb[0][0] + ra[0][0]) / 2)
        else:
            assert not ob.valid
        # exact venue strings are kept for every level
        bs = ob.level_strings("bid", 5)
        assert [float(p) for p, _ in bs] == [p for p, _ in rb[:5]]
        assert all(s == _sz(round(float(s) * 1000)) for _, s in bs)


books = st.tuples(
    st.lists(st.tuples(st.integers(9_000, 9_999), st.integers(1, 5_000)), min_size=1,
             max_size=40, unique_by=lambda x: x[0]),
    st.lists(st.tuples(st.integers(10_001, 11_000), st.integers(1, 5_000)), min_size=1,
             max_size=40, unique_by=lambda x: x[0]),
)


def _book(bk: tuple) -> OrderBook:
    bids, asks = bk
    ob = OrderBook(venue="test", symbol="X", price_scale=100)
    ob.apply_snapshot(_levels(bids), _levels(asks))
    return ob


@settings(max_examples=300, deadline=None)
@given(books, st.floats(0.001, 50.0), st.sampled_from(["buy", "sell"]))
def test_walk_invariants(bk: tuple, qty: float, side: str) -> None:
    ob = _book(bk)
    f = ob.walk(side, qty)  # type: ignore[arg-type]
    levels = ob.levels("ask" if side == "buy" else "bid")
    total = sum(s for _, s in levels)
    assert f.filled_base == pytest.approx(min(qty, total), rel=1e-9)
    assert f.unfilled == pytest.approx(max(0.0, qty - total), abs=1e-9)
    # VWAP between the touch and the last level consumed
    lo, hi = sorted((f.touch, f.worst_price))
    assert lo - 1e-9 <= f.vwap <= hi + 1e-9
    assert f.notional == pytest.approx(f.vwap * f.filled_base)
    # the cost split adds up and every part is a cost (>= 0) on an uncrossed book
    assert f.slippage_bps == pytest.approx(f.half_spread_bps + f.depth_cost_bps, abs=1e-9)
    assert f.half_spread_bps > 0
    assert f.depth_cost_bps >= -1e-9
    assert 1 <= f.levels_consumed <= len(levels)


@settings(max_examples=200, deadline=None)
@given(books, st.floats(0.001, 20.0), st.floats(0.001, 20.0), st.sampled_from(["buy", "sell"]))
def test_walk_monotone_in_size(bk: tuple, q1: float, q2: float, side: str) -> None:
    ob = _book(bk)
    small, large = sorted((q1, q2))
    fs = ob.walk(side, small)  # type: ignore[arg-type]
    fl = ob.walk(side, large)  # type: ignore[arg-type]
    assert fl.slippage_bps >= fs.slippage_bps - 1e-9
    assert fl.levels_consumed >= fs.levels_consumed
    assert fl.filled_base >= fs.filled_base - 1e-12


def _reference_walk(levels: list, amount: float, unit: str, c: float,
                    inverse: bool) -> tuple[float, float, float, float, int]:
    """Level by level, in the order's own unit: (size, base, notional, unfilled, levels)."""
    rem, size_v, base, notional, n = amount, 0.0, 0.0, 0.0, 0
    for p, s in levels:
        bpu = c / p if inverse else c
        avail = {"contracts": s, "base": s * bpu, "usd": s * bpu * p}[unit]
        take = min(avail, rem)
        sv = s * take / avail
        size_v += sv
        base += sv * bpu
        notional += sv * bpu * p
        rem -= take
        n += 1
        if rem <= 1e-12 * max(1.0, amount):
            rem = 0.0
            break
    return size_v, base, notional, rem, n


@settings(max_examples=300, deadline=None)
@given(books, st.floats(0.0, 2e5), st.sampled_from(["buy", "sell"]),
       st.sampled_from(["base", "contracts", "usd"]),
       st.sampled_from([None, "BTC-USDT-SWAP", "BTC-USD-SWAP"]))
def test_walk_equals_a_level_by_level_reference(bk: tuple, amount: float, side: str,
                                                unit: str, symbol: str | None) -> None:
    inst = get_instrument("okx", symbol) if symbol else None
    bids, asks = bk
    ob = OrderBook(inst, venue="test", symbol="X", price_scale=100)
    ob.apply_snapshot(_levels(bids), _levels(asks))
    c = inst.contract_size if inst is not None and inst.sized_in_contracts else 1.0
    inverse = inst is not None and inst.contract_type == "inverse"
    levels = ob.levels("ask" if side == "buy" else "bid")
    size_v, base, notional, rem, n = _reference_walk(levels, amount, unit, c, inverse)
    f = ob.walk(side, amount, unit)  # type: ignore[arg-type]
    assert f.filled_size == pytest.approx(size_v, rel=1e-9, abs=1e-12)
    assert f.filled_base == pytest.approx(base, rel=1e-9, abs=1e-12)
    assert f.notional == pytest.approx(notional, rel=1e-9, abs=1e-9)
    assert f.unfilled == pytest.approx(rem, rel=1e-9, abs=1e-6)
    assert f.levels_consumed == n
    assert f.complete == (rem == 0.0)


@settings(max_examples=200, deadline=None)
@given(ops, st.sampled_from([0.0, 5.0, 10.0, 200.0]), st.integers(1, 8))
def test_tick_values_equal_the_single_reads(seq: list, bps: float, n: int) -> None:
    ob = OrderBook(venue="test", symbol="X", price_scale=100)
    for kind, bids, asks in seq:
        ev = BookSnapshot if kind == "snap" else BookDelta
        ob.apply(ev("test", "X", _levels(bids), _levels(asks), 0, 0))
        got = ob.tick_values(bps, n)
        assert len(got) == 8
        assert got[6] == ob.depth("bid", n) and got[7] == ob.depth("ask", n)
        if not (ob.n_bids and ob.n_asks):
            assert all(math.isnan(x) for x in got[:6])
            continue
        assert got[:4] == (ob.best_bid, ob.best_bid_size, ob.best_ask, ob.best_ask_size)
        mid = ob.mid
        lo, hi = mid * (1 - bps / 1e4), mid * (1 + bps / 1e4)
        want_b = sum(q for p, q in ob.levels("bid") if p >= lo - 1e-9)
        want_a = sum(q for p, q in ob.levels("ask") if p <= hi + 1e-9)
        assert got[4] == pytest.approx(want_b, abs=1e-9)
        assert got[5] == pytest.approx(want_a, abs=1e-9)


def test_walk_units_agree_for_contracts() -> None:
    inst = get_instrument("okx", "BTC-USDT-SWAP")  # 1 contract = 0.01 BTC
    ob = OrderBook(inst)
    ob.apply_snapshot([("99.9", "100"), ("99.8", "200")], [("100.1", "100"), ("100.2", "300")])
    by_contracts = ob.walk("buy", 150, "contracts")
    by_base = ob.walk("buy", 1.5, "base")
    usd = 100 * 0.01 * 100.1 + 50 * 0.01 * 100.2
    by_usd = ob.walk("buy", usd, "usd")
    for f in (by_contracts, by_base, by_usd):
        assert f.filled_size == pytest.approx(150)
        assert f.filled_base == pytest.approx(1.5)
        assert f.notional == pytest.approx(usd)
        assert f.levels_consumed == 2
        assert f.complete
    # exact VWAP and its split
    vwap = usd / 1.5
    assert by_base.vwap == pytest.approx(vwap)
    mid = (99.9 + 100.1) / 2
    assert by_base.slippage_bps == pytest.approx((vwap - mid) / mid * 1e4)
    assert by_base.half_spread_bps == pytest.approx((100.1 - mid) / mid * 1e4)


def test_inverse_contracts_vwap_is_notional_over_base() -> None:
    inst = get_instrument("okx", "BTC-USD-SWAP")  # 1 contract = 100 USD
    ob = OrderBook(inst)
    ob.apply_snapshot([("30000.0", "10")], [("30010.0", "5"), ("30020.0", "5")])
    f = ob.walk("buy", 10, "contracts")
    base = 5 * 100 / 30010 + 5 * 100 / 30020
    assert f.filled_base == pytest.approx(base)
    assert f.notional == pytest.approx(1000.0)
    assert f.vwap == pytest.approx(1000.0 / base)
    assert ob.walk("buy", 1000.0, "usd").filled_size == pytest.approx(10)


def test_unfilled_remainder_and_empty_side() -> None:
    ob = book_from_levels([(99, 1)], [(101, 2)])
    f = ob.walk("buy", 5)
    assert f.filled_base == 2 and f.unfilled == pytest.approx(3) and not f.complete
    empty = OrderBook(venue="t", symbol="X")
    g = empty.walk("sell", 1)
    assert g.filled_base == 0 and g.unfilled == 1 and math.isnan(g.vwap)


def test_book_metrics() -> None:
    ob = book_from_levels([(99.0, 3.0), (98.0, 1.0)], [(101.0, 1.0), (102.0, 4.0), (110.0, 9.0)])
    assert ob.mid == 100.0
    assert ob.spread == 2.0
    assert ob.spread_bps == pytest.approx(200.0)
    assert ob.microprice == pytest.approx((99 * 1 + 101 * 3) / 4)
    assert ob.depth("ask", 2) == 5.0
    assert ob.depth_within_bps("ask", 200) == 5.0  # 100 * 1.02 = 102 included
    assert ob.depth_within_bps("bid", 100) == 3.0  # 99 within 1 %, 98 not
    assert ob.imbalance(2) == pytest.approx((4 - 5) / 9)
    bp, _, _, as_ = ob.top(2)
    np.testing.assert_array_equal(bp, [99.0, 98.0])
    np.testing.assert_array_equal(as_, [1.0, 4.0])
    assert bp.dtype == np.float64


def test_crossed_book_is_detected_and_never_valid() -> None:
    ob = book_from_levels([(100, 1)], [(101, 1)])
    assert ob.valid
    ob.apply_delta([("101.0", "2")], [])
    assert ob.crossed and ob.locked and not ob.valid
    ob.apply_delta([("101.5", "2")], [])
    assert ob.crossed and not ob.locked and not ob.valid
    assert ob.remove_crossed() == (0, 1)  # one ask is fewer levels than two bids
    # the only ask is gone: the book is one-sided, hence still not valid
    assert not ob.crossed and ob.n_asks == 0 and not ob.valid


def test_remove_crossed_takes_fewest_levels() -> None:
    # two stale asks below five bids: removing the two asks is the minimal fix
    bids = [(105, 1), (104, 1), (103, 1), (102, 1), (101, 1)]
    asks = [(100, 5), (100.5, 5), (106, 1), (107, 1)]
    ob = book_from_levels(bids, asks)
    assert ob.crossed
    assert ob.remove_crossed() == (0, 2)
    assert ob.valid and ob.best_bid == 105 and ob.best_ask == 106


def test_stale_book_is_not_valid_until_snapshot() -> None:
    ob = book_from_levels([(100, 1)], [(101, 1)])
    ob.stale = True
    assert not ob.valid
    ob.apply(BookSnapshot("t", "X", [("100", "1")], [("101", "1")], 0, 0))
    assert ob.valid


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"side": "hold", "amount": 1.0}, "side='hold'"),
     ({"side": "buy", "amount": -1.0}, "amount=-1.0"),
     ({"side": "buy", "amount": float("nan")}, "amount=nan"),
     ({"side": "buy", "amount": 1.0, "unit": "lots"}, "unit='lots'")],
)
def test_walk_rejects_bad_input(kwargs: dict, match: str) -> None:
    ob = book_from_levels([(100, 1)], [(101, 1)])
    with pytest.raises(ValueError, match=match):
        ob.walk(**kwargs)


def test_integer_tick_keys_merge_equal_prices_written_differently() -> None:
    ob = OrderBook(venue="t", symbol="X", price_scale=100)
    ob.apply_snapshot([("100.10", "1")], [("100.20", "1")])
    ob.apply_delta([("100.1", "2")], [])
    assert ob.n_bids == 1 and ob.best_bid_size == 2.0
    ob.apply_delta([("100.100", "0")], [])
    assert ob.n_bids == 0


@settings(max_examples=150, deadline=None)
@given(ops, st.integers(1, 30))
def test_checksum_string_interleaves_exact_venue_strings(seq: list, n: int) -> None:
    ob = OrderBook(venue="test", symbol="X", price_scale=100)
    for kind, bids, asks in seq:
        ev = BookSnapshot if kind == "snap" else BookDelta
        ob.apply(ev("test", "X", _levels(bids), _levels(asks), 0, 0))
    b = [f"{p}:{s}" for p, s in ob.level_strings("bid", n)]
    a = [f"{p}:{s}" for p, s in ob.level_strings("ask", n)]
    expect: list[str] = []
    for i in range(max(len(b), len(a))):
        if i < len(b):
            expect.append(b[i])
        if i < len(a):
            expect.append(a[i])
    assert ob.checksum_string(n) == ":".join(expect)


@settings(max_examples=200, deadline=None)
@given(ops, st.lists(st.sampled_from([0.0, 5.0, 10.0, 50.0, 200.0, 1000.0]), min_size=1,
                     max_size=4))
def test_depth_within_bps_incremental_equals_a_full_sum(seq: list, bands: list) -> None:
    ob = OrderBook(venue="test", symbol="X", price_scale=100)
    for i, (kind, bids, asks) in enumerate(seq):
        ev = BookSnapshot if kind == "snap" else BookDelta
        ob.apply(ev("test", "X", _levels(bids), _levels(asks), 0, 0))
        bps = bands[i % len(bands)]
        mid = ob.mid
        for side in ("bid", "ask"):
            got = ob.depth_within_bps(side, bps)  # type: ignore[arg-type]
            if math.isnan(mid):
                assert got == 0.0
                continue
            lo, hi = mid * (1 - bps / 1e4), mid * (1 + bps / 1e4)
            want = sum(s for p, s in ob.levels(side)  # type: ignore[arg-type]
                       if (p >= lo - 1e-9 if side == "bid" else p <= hi + 1e-9))
            assert got == pytest.approx(want, abs=1e-9)
