"""The impact-aware replay: exact against the resilient synthetic market, unbiased against the
models there, and run on the real Binance recording."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from tradesim_nb.book import book_from_levels
from tradesim_nb.costs.almgren_chriss import ACParams, expected_cost_of, optimal_execution
from tradesim_nb.costs.fees import get_fee_schedule
from tradesim_nb.datasets import binance_spot_files
from tradesim_nb.execution import (
    COMPONENTS,
    BookTape,
    ReplayImpact,
    Schedule,
    execute_on_books,
    fit_execution_models,
    replay_many,
    replay_schedule,
    standard_schedules,
    tape_from_recording,
)
from tradesim_nb.impact.transient import ExponentialKernel, transient_cost
from tradesim_nb.resilient_market import ResilientMarket, ResilientMarketParams


def _flat_tape(n: int = 5) -> BookTape:
    """A constant book: bids 99, 98, 97 and asks 101, 102, 103, one unit each, every second."""
    bp = np.tile([99.0, 98.0, 97.0], (n, 1))
    ap = np.tile([101.0, 102.0, 103.0], (n, 1))
    sz = np.ones((n, 3))
    t = np.arange(n, dtype=float)
    z = np.zeros((n, 1))
    e = np.zeros(0)
    return BookTape(t, bp, sz, ap, sz.copy(), t.copy(), np.full(n, 100.0), z, z.copy(), (1.0,),
                    e, e.copy(), e.copy(), 1.0, 1.0, "flat", "X")


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_replay_by_hand(side):
    tape = _flat_tape()
    sch = Schedule("two", np.array([0.0, 1.0]), np.array([1.0, 1.0]), 2.0)
    imp = ReplayImpact(ExponentialKernel(math.log(2.0)), permanent=0.5)  # half refilled in 1 s
    r = replay_schedule(tape, sch, 0.0, side, imp, fee_bps=10.0)
    # child 1 takes the touch (1 unit at 101 / 99); child 2 meets a book shifted by 0.5 with
    # half a unit still taken: units 0.5..1.5 at 101.5 and 102.5 (or 98.5 and 97.5)
    assert r.child_vwap.tolist() == ([101.0, 102.0] if side == "buy" else [99.0, 98.0])
    assert r.spread == pytest.approx(2.0)
    assert r.permanent == pytest.approx(0.5)
    assert r.temporary == pytest.approx(0.5)
    assert r.timing == 0.0
    assert r.shortfall_ex_fees == pytest.approx(3.0)
    assert r.fees == pytest.approx(1e-3 * (203.0 if side == "buy" else 197.0))
    u = replay_schedule(tape, sch, 0.0, side, None)
    assert u.shortfall_ex_fees == pytest.approx(2.0) and u.permanent == 0.0
    # depth=q makes the taken share 1 - gamma q: with q = 2, nothing stays taken
    r2 = replay_schedule(tape, sch, 0.0, side, replace(imp, depth=2.0))
    assert r2.child_vwap[1] == pytest.approx(101.5 if side == "buy" else 98.5)


def test_replay_reproduces_the_resilient_market_exactly():
    p = ResilientMarketParams()
    ow = p.ow_params(200.0, 10.0, 10)
    scheds = [Schedule.from_ow(ow), Schedule.twap(200.0, 10.0, 10),
              Schedule.from_ac(ACParams(size=200.0, horizon=10.0, periods=10, sigma=p.sigma,
                                        epsilon=p.epsilon, eta=1.0 / (2 * p.depth),
                                        gamma=p.permanent, risk_aversion=2.0))]
    imp = ReplayImpact(ExponentialKernel(p.resilience), p.permanent, p.depth)
    for seed in range(3):
        m = ResilientMarket(p, seed=seed, duration_s=40.0)
        tape = m.tape()
        for sch in scheds:
            for side in ("buy", "sell"):
                fills, short = m.execute_schedule(sch, side, start_s=15.0)
                r = replay_schedule(tape, sch, 15.0, side, imp)
                assert r.unfilled == 0.0
                np.testing.assert_allclose(r.child_vwap, [f.vwap for f in fills], rtol=1e-13)
                assert r.shortfall_ex_fees == pytest.approx(short, rel=1e-10, abs=1e-9)
                parts = sum(getattr(r, c) for c in COMPONENTS if c != "fees")
                assert parts == pytest.approx(short, rel=1e-10, abs=1e-9)


def _mean_cost(p: ResilientMarketParams, sch: Schedule, seeds: range) -> tuple[float, float]:
    imp = ReplayImpact(ExponentialKernel(p.resilience), p.permanent, p.depth)
    c = []
    for s in seeds:
        # a random phase of the start price: the expected cost is then the model's
        m = ResilientMarket(p, seed=s, duration_s=sch.horizon + 1.0,
                            mid0=p.mid0 + float(np.random.default_rng(s).random()))
        c.append(replay_schedule(m.tape(), sch, 0.0, "buy", imp).shortfall_ex_fees)
    a = np.array(c)
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(a.size))


def test_mean_realised_cost_matches_each_models_expected_cost():
    """No background flow: the mid's noise is the diffusion alone, as in the models."""
    p = ResilientMarketParams(trade_rate=0.0, mean_trade_size=0.0, sigma=0.05)
    x, t, n = 200.0, 10.0, 10
    seeds = range(300)
    ow = p.ow_params(x, t, n)
    s_ow = Schedule.from_ow(ow)
    ac_p = ACParams(size=x, horizon=t, periods=n, sigma=p.sigma, epsilon=p.epsilon,
                    eta=(t / n) / (2 * p.depth), gamma=p.permanent, risk_aversion=2.0)
    s_ac = Schedule.from_ac(ac_p)
    truth = ow.transient_params()
    for sch in (s_ow, s_ac):
        e = transient_cost(truth, sch.times, sch.sizes)
        mean, se = _mean_cost(p, sch, seeds)
        assert abs(mean - e) < 2 * se, (sch.name, mean, e, se)
    # the OW optimum's expected cost is OW's closed form; it beats the AC optimum here
    e_ow = transient_cost(truth, s_ow.times, s_ow.sizes)
    assert e_ow < transient_cost(truth, s_ac.times, s_ac.sizes)
    # with slow refill Almgren-Chriss's own E misses the carry-over: many standard errors low
    mean_ac, se_ac = _mean_cost(p, s_ac, seeds)
    assert mean_ac - expected_cost_of(ac_p, s_ac.sizes) > 10 * se_ac
    # when the book refills within a period (rho tau = 30) Almgren-Chriss is the model
    fast = replace(p, resilience=30.0)
    mean_f, se_f = _mean_cost(fast, s_ac, seeds)
    e_ac = optimal_execution(ac_p).expected_cost
    assert abs(mean_f - e_ac) < 2 * se_f, (mean_f, e_ac, se_f)


# --------------------------------------------------------------------------- real data

X_USD = 1e6
HORIZON, PERIODS = 60.0, 12


@pytest.fixture(scope="module")
def binance():
    tape = tape_from_recording(binance_spot_files(), "binance", "BTCUSDT")
    x = X_USD / float(np.nanmean(tape.mid))
    models = fit_execution_models(tape, x, HORIZON, PERIODS, risk_aversion=5e-5, bootstrap=60)
    return tape, x, models


def test_binance_tape_is_the_whole_recording(binance):
    tape, x, _ = binance
    assert tape.duration_s > 640 and len(tape) > 1280
    assert tape.trade_t_s.size > 5000 and float(tape.trade_qty.sum()) == pytest.approx(437.9, rel=1e-3)
    assert np.all(tape.ask_px[:, 0] > tape.bid_px[:, 0])  # every sampled book is uncrossed
    assert np.all(tape.ask_sz.sum(axis=1) > 2 * x)  # deep enough for the order and its wake
    assert 16 < x < 16.5


def test_binance_fits_have_intervals(binance):
    _, _, m = binance
    for name, key in (("resilience", "resilience"), ("kernel", "exponent"), ("book", "depth")):
        e = m.fits[name][key]
        assert math.isfinite(e.ci_low) and e.ci_low <= e.estimate <= e.ci_high, (name, e)
    rho = m.fits["resilience"]["resilience"]
    assert 0.1 < rho.estimate < 10 and rho.ci_low > 0
    assert 0.0 <= m.fits["kernel"]["exponent"].estimate < 2.0
    assert 0 < m.permanent_share < 1 and m.ac.eta_tilde > 0
    assert "resilience rho" in m.summary()


def test_binance_replay_of_schedules_over_start_times(binance):
    tape, x, m = binance
    scheds = dict(standard_schedules(m))
    scheds["TWAP 6 s"] = Schedule.twap(x, 6.0, PERIODS, name="TWAP 6 s")
    scheds["immediate"] = Schedule.immediate(x, HORIZON)
    starts = np.arange(HORIZON, tape.duration_s - HORIZON - 1, 25.0)
    fee = get_fee_schedule("binance", "spot").tier("VIP 0").taker_bps
    cmp = replay_many(tape, scheds, starts, m.replay, side="buy", fee_bps=fee, models=m)
    tab = cmp.table()
    assert len(tab) >= 4 and (tab["starts"] >= 20).all()
    assert tab["unfilled"].max() == 0.0
    assert np.isfinite(tab[["mean", "sd", "se", "AC", "OW", "propagator", "nonlinear",
                            "sqrtV"]].to_numpy()).all()
    # fees at the taker rate: 10 bps of the notional
    assert tab["fees"].to_numpy() == pytest.approx(10.0, rel=0.01)
    for nm in scheds:
        aw = cmp.costs_bps(nm, "impact_cost")
        un = cmp.costs_bps(nm, "impact_cost", aware=False)
        if cmp.aware[nm][0].schedule.children > 1:
            assert np.all(aw > un), nm  # every start: the wake of earlier children costs
        else:
            np.testing.assert_allclose(aw, un)
    # trading ten times faster pays more for its own wake
    pen = {nm: float(np.mean(cmp.costs_bps(nm, "impact_cost")
                             - cmp.costs_bps(nm, "impact_cost", aware=False)))
           for nm in ("TWAP", "TWAP 6 s")}
    assert pen["TWAP 6 s"] > pen["TWAP"] > 0
    assert tab.loc["TWAP 6 s", "impact"] > tab.loc["TWAP", "impact"]
    # the untouched replay is execute_on_books on the same books
    s0 = float(starts[3])
    tw = scheds["TWAP"]
    assert isinstance(tw, Schedule)
    books = [book_from_levels(
        list(zip(tape.bid_px[i], tape.bid_sz[i])), list(zip(tape.ask_px[i], tape.ask_sz[i])))
        for i in (tape.index_at(s0 + t) for t in tw.times)]
    legacy = execute_on_books(tw.sizes, books, "buy")
    r = replay_schedule(tape, tw, s0, "buy", None)
    assert r.shortfall_ex_fees == pytest.approx(legacy.shortfall, rel=1e-9)
    d = cmp.to_dict()
    assert set(d["costs_bps"]) == set(scheds) and len(d["costs_bps"]["TWAP"]) == starts.size
