"""The compiled scoring step of ``TradeSimulator.estimate`` gives the plain-Python numbers
bit for bit: on the real recording's ticks and on made-up rows (NaN, inf, zeros included)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesim_nb.bench.pipeline import _frames
from tradesim_nb.features import MARKET_FEATURES, SPREAD_BPS, make_scorer, order_rows
from tradesim_nb.simulator import TradeSimulator
from tradesim_nb.venues import get_feed

MODELS = TradeSimulator.default_models()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (a == b and math.copysign(1, a) == math.copysign(1, b)) or (a != a and b != b)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _python(row: list[float], s: float, notional: float, walk: float,
            market: bool) -> tuple[Any, ...]:
    sm, mm = MODELS.slippage, MODELS.maker
    ln = math.log(max(notional, 1.0))
    xs, xm = order_rows(row, s, notional, ln, walk)
    mean, qs = sm.predict_row(xs)
    ext = sm.outside_range(xs)
    share = 0.0
    if not market:
        share = mm.predict_row(xm)
        passive = -0.5 * row[SPREAD_BPS]
        mean = share * passive + (1.0 - share) * mean
        qs = tuple(share * passive + (1.0 - share) * q for q in qs)
    return mean, tuple(qs), ext, share


def test_the_scorer_is_built_for_the_default_models() -> None:
    assert make_scorer(MODELS.slippage, MODELS.maker) is not None


@pytest.mark.parametrize(("side", "order_type"), [("buy", "passive_then_aggressive"),
                                                   ("sell", "market")])
def test_estimates_on_the_recording_are_the_same_with_and_without_it(side: str,
                                                                      order_type: str) -> None:
    frames = _frames("binance", 20_000)
    feed = get_feed("binance")
    sim: TradeSimulator | None = None
    plain: tuple[Any, Any, Any] = (MODELS.slippage, MODELS.maker, None)
    n = 0
    for recv, f in frames:
        out = feed.on_frame(f, recv)
        book = feed.books.get("BTCUSDT")
        if book is None or book.instrument is None:
            continue
        if sim is None:
            sim = TradeSimulator(book.instrument, side, 250_000.0,  # type: ignore[arg-type]
                                 order_type=order_type,  # type: ignore[arg-type]
                                 models=MODELS, fee_rates=(0.0001, 0.0005))
        sim.features.update(book, out, recv)
        if not book.valid:
            continue
        row = sim.features.market_row(book, recv)
        sim._scorer = (None, None, None)  # made again: the compiled scorer
        a = sim.estimate(book, recv, row=row)
        assert sim._scorer[2] is not None
        sim._scorer = plain  # the plain-Python steps
        b = sim.estimate(book, recv, row=row)
        for k in a._fields:
            if k != "latency_ns":
                assert _same(getattr(a, k), getattr(b, k)), (k, getattr(a, k), getattr(b, k))
        n += 1
    assert n > 10_000


_x = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
               st.floats(-1e7, 1e7), st.sampled_from([0.0, -0.0, 1.0, 50.0, 1e5]))


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(st.lists(_x, min_size=len(MARKET_FEATURES), max_size=len(MARKET_FEATURES)),
       st.sampled_from([1.0, -1.0]), st.floats(1e-3, 1e9), _x, st.booleans())
def test_made_up_rows_score_the_same(row: list[float], s: float, notional: float, walk: float,
                                     market: bool) -> None:
    sc = make_scorer(MODELS.slippage, MODELS.maker)
    got = sc.score(row, s, notional, math.log(max(notional, 1.0)), walk, market)
    want = _python(row, s, notional, walk, market)
    if got is None:  # only where a quantile is NaN (then Python's sort of NaNs decides)
        assert any(q != q for q in MODELS.slippage.predict_row(
            order_rows(row, s, notional, math.log(max(notional, 1.0)), walk)[0])[1])
    else:
        assert _same(got, want), (got, want)
