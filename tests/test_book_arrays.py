"""``OrderBook.apply_arrays``: a run of updates given column-wise is the loop of
``apply_snapshot`` / ``apply_delta`` it stands for, in the compiled book and its twin, with the
strings as Python lists or in the Arrow layout (offsets into UTF-8 bytes)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_book_twins import price_str, same, size_str, state

from tradesim_nb import _book_c
from tradesim_nb._book_py import OrderBook as PyBook
from tradesim_nb.book import ArraysApplied, BookInputError, InvalidLevelError, LevelCapError

CBook = _book_c.OrderBook
BOOKS = [CBook, PyBook]

bad_str = st.sampled_from(["nan", "inf", "-5", "0", "abc", "", "1e300", "-0.001"])


@st.composite
def update(draw: st.DrawFn, allow_bad: bool) -> tuple[bool, list[tuple[bool, str, str]]]:
    """One update: snapshot or delta, rows ``(is_bid, price, size)`` in file order."""
    snap = draw(st.integers(0, 4)) == 0
    rows = [(draw(st.booleans()), draw(price_str()), draw(size_str()))
            for _ in range(draw(st.integers(1, 30)))]
    rows = [(b, p.strip() if p.strip() else "1", s) for b, p, s in rows]
    if allow_bad and draw(st.integers(0, 7)) == 0:
        i = draw(st.integers(0, len(rows) - 1))
        b, p, s = rows[i]
        rows[i] = (b, draw(bad_str), s) if draw(st.booleans()) else (b, p, draw(bad_str))
    return snap, rows


def columns(ups: list[tuple[bool, list[tuple[bool, str, str]]]]) -> dict[str, Any]:
    starts, snaps, is_bid, price, amount = [], [], [], [], []
    for snap, rows in ups:
        starts.append(len(price))
        snaps.append(snap)
        for b, p, s in rows:
            is_bid.append(b)
            price.append(p)
            amount.append(s)
    return {"starts": np.array(starts, np.int64), "snapshot": np.array(snaps, bool),
            "is_bid": np.array(is_bid, bool), "price": np.array(price, dtype=object),
            "amount": np.array(amount, dtype=object)}


def arrow_layout(strings: np.ndarray) -> tuple[np.ndarray, bytes]:
    """The Arrow string layout of ``strings``: int32 offsets into their UTF-8 bytes."""
    enc = [s.encode() for s in strings]
    off = np.zeros(len(enc) + 1, np.int32)
    off[1:] = np.cumsum([len(e) for e in enc])
    return off, b"".join(enc)


def reference(ob: Any, ups: list, uncross: bool, refused: str) -> Any:
    """The loop ``apply_arrays`` stands for (its docstring), on ``ob``."""
    crossed = removed = n_refused = skipped = 0
    for u, (snap, rows) in enumerate(ups):
        if refused == "stale" and not snap and ob.stale:
            skipped += 1
            continue
        bids = [(p, s) for b, p, s in rows if b]
        asks = [(p, s) for b, p, s in rows if not b]
        try:
            ob.apply_snapshot(bids, asks) if snap else ob.apply_delta(bids, asks)
        except BookInputError as e:
            if refused == "raise":
                return ("error", type(e), str(e), e.reason, e.side, u)
            n_refused += 1
            ob.stale = True
            continue
        if ob.crossed:
            crossed += 1
            if uncross:
                i, j = ob.remove_crossed()
                removed += i + j
    return ArraysApplied(crossed, removed, n_refused, skipped)


def run(ob: Any, cols: dict[str, Any], raw: bool, uncross: bool, refused: str) -> Any:
    price, amount = cols["price"], cols["amount"]
    if raw:
        price, amount = arrow_layout(price), arrow_layout(amount)
    try:
        return ob.apply_arrays(cols["starts"], cols["snapshot"], cols["is_bid"], price, amount,
                               uncross=uncross, refused=refused)
    except BookInputError as e:
        return ("error", type(e), str(e), e.reason, e.side, e.update)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(update(True), min_size=1, max_size=10), st.booleans(),
       st.sampled_from(["raise", "stale"]), st.integers(0, 2))
def test_apply_arrays_is_the_loop_it_stands_for(ups: list, uncross: bool, refused: str,
                                                start_stale: int) -> None:
    def fresh(cls: type) -> Any:
        ob = cls(venue="t", symbol="X", price_scale=100, max_levels=40)
        if start_stale:  # a book that had a snapshot, then a gap (stale) or not
            ob.apply_snapshot([("99.00", "1")], [("101.00", "2")])
            ob.stale = start_stale == 2
        return ob

    want_book = fresh(PyBook)
    want = reference(want_book, ups, uncross, refused)
    cols = columns(ups)
    for cls in BOOKS:
        for raw in (False, True):
            ob = fresh(cls)
            got = run(ob, cols, raw, uncross, refused)
            assert got == want, (cls, raw)
            assert type(got) is type(want)
            # updates before a refused one applied, the refused one not: the same book
            assert same(state(ob), state(want_book)), (cls, raw)


@pytest.mark.parametrize("cls", BOOKS, ids=["compiled", "python"])
def test_refused_update_raises_with_its_index(cls: type) -> None:
    ob = cls(venue="t", symbol="X", price_scale=100)
    cols = columns([(True, [(True, "99", "1"), (False, "101", "1")]),
                    (False, [(True, "99.5", "2")]),
                    (False, [(False, "100.5", "1"), (True, "0", "3")]),  # price 0: refused
                    (False, [(True, "98", "1")])])
    with pytest.raises(InvalidLevelError) as ei:
        ob.apply_arrays(**cols)
    e = ei.value
    assert e.update == 2 and e.reason == "bad_price" and "bid level 0 ('0', '3')" in str(e)
    # updates 0 and 1 applied, update 2 refused whole (its ask not applied), 3 never reached
    assert ob.level_strings("bid", 9) == [("99.5", "2"), ("99", "1")]
    assert ob.level_strings("ask", 9) == [("101", "1")] and ob.updates == 2
    ob2 = cls(venue="t", symbol="X", price_scale=100)
    res = ob2.apply_arrays(**cols, refused="stale")
    assert res == (0, 0, 1, 1) and ob2.stale and not ob2.valid
    assert ob2.level_strings("bid", 9) == ob.level_strings("bid", 9)


@pytest.mark.parametrize("cls", BOOKS, ids=["compiled", "python"])
def test_level_cap_and_uncross(cls: type) -> None:
    ob = cls(venue="t", symbol="X", price_scale=100, max_levels=2)
    cols = columns([(True, [(True, "99", "1"), (False, "101", "1")]),
                    (False, [(True, "98", "1"), (True, "97", "1")]),  # 3 bids: over the cap
                    (False, [(False, "98.5", "4")])])  # crosses: the bid at 99 removed
    with pytest.raises(LevelCapError) as ei:
        ob.apply_arrays(**cols)
    assert ei.value.update == 1 and ei.value.levels == 3
    ob = cls(venue="t", symbol="X", price_scale=100, max_levels=2)
    cols = columns([(True, [(True, "99", "1"), (False, "101", "1")]),
                    (False, [(False, "98.5", "4")])])
    assert ob.apply_arrays(**cols, uncross=True) == (1, 1, 0, 0)
    assert ob.levels("bid") == [] and ob.levels("ask") == [(98.5, 4.0), (101.0, 1.0)]


@pytest.mark.parametrize("cls", BOOKS, ids=["compiled", "python"])
@pytest.mark.parametrize(("kw", "msg"), [
    ({"starts": [1]}, "starts\\[0\\]=1 must be 0"),
    ({"starts": [0, 0], "snapshot": [True, False]}, "strictly increasing"),
    ({"starts": [0, 5], "snapshot": [True, False]}, "strictly increasing"),
    ({"snapshot": [True, False]}, "snapshot has 2 entries for 1 updates"),
    ({"is_bid": [True]}, "one entry a row"),
    ({"price": (np.array([0, 2], np.int32), b"99")}, "sequences of str or both"),
    ({"price": (np.array([0, 2], np.int32), b"99"),
      "amount": (np.array([0, 1, 2], np.int32), b"11")}, "one entry a row"),
    ({"price": (np.array([0, 3, 2], np.int32), b"9999"),
      "amount": (np.array([0, 1, 2], np.int32), b"11")}, "out of order"),
    ({"refused": "skip"}, "refused='skip' is not one of"),
])
def test_inconsistent_arrays_are_refused(cls: type, kw: dict[str, Any], msg: str) -> None:
    args: dict[str, Any] = {"starts": [0], "snapshot": [True], "is_bid": [True, False],
                            "price": ["99", "101"], "amount": ["1", "1"]}
    args.update(kw)
    ob = cls(venue="t", symbol="X", price_scale=100)
    with pytest.raises(ValueError, match=msg):
        ob.apply_arrays(**args)
    assert len(ob) == 0 and ob.updates == 0


@pytest.mark.parametrize("cls", BOOKS, ids=["compiled", "python"])
def test_no_rows_no_updates(cls: type) -> None:
    ob = cls(venue="t", symbol="X")
    assert ob.apply_arrays([], [], [], [], []) == (0, 0, 0, 0)
    with pytest.raises(ValueError, match="1 rows but no update starts"):
        ob.apply_arrays([], [], [True], ["1"], ["1"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(1, 6),
       st.lists(st.sampled_from([0.0, 2.0, 10.0, 50.0]), min_size=1, max_size=3))
def test_big_deltas_merge_as_levels_apply_one_by_one(seed: int, rounds: int,
                                                     bps: list[float]) -> None:
    # a side with more than MERGE_MIN levels in one delta is merged in one pass in the compiled
    # book; the twin applies them one by one: the same levels, strings and tracked bands
    from test_book_twins import reads

    rng = np.random.default_rng(seed)

    def side(lo: int, hi: int, n: int, zero: float, order: str) -> list[tuple[str, str]]:
        ticks = rng.integers(lo, hi, n)
        sizes = np.where(rng.random(n) < zero, 0, rng.integers(1, 5000, n))
        if order == "best":
            ticks = np.sort(np.unique(ticks))[::-1] if lo < 10_000 else np.sort(np.unique(ticks))
            sizes = sizes[:len(ticks)]
        return [(f"{t / 100:.2f}", f"{s / 1000:.3f}") for t, s in zip(ticks, sizes)]

    c = CBook(venue="t", symbol="X", price_scale=100)
    p = PyBook(venue="t", symbol="X", price_scale=100)
    snap = (side(8_000, 9_990, 600, 0.0, "any"), side(10_010, 12_000, 600, 0.0, "any"))
    for ob in (c, p):
        ob.apply_snapshot(*snap)
    assert same(reads(c, bps, 5), reads(p, bps, 5))
    for _ in range(rounds):
        order = "best" if rng.random() < 0.5 else "any"  # best first (no sort) or shuffled
        n = int(rng.integers(17, 400))
        d = (side(8_500, 10_005, n, 0.3, order), side(9_995, 11_500, n, 0.3, order))
        for ob in (c, p):
            ob.apply_delta(*d)
        assert same(reads(c, bps, 5), reads(p, bps, 5))
