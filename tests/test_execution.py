"""Executing schedules: against the synthetic market (Monte Carlo vs Almgren-Chriss E and V)
and against books replayed from the real Binance recording."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradesim_nb.costs.almgren_chriss import (
    expected_cost_of,
    optimal_execution,
    twap_holdings,
    variance_of,
)
from tradesim_nb.datasets import binance_spot_files
from tradesim_nb.execution import (
    ac_schedule,
    execute_on_books,
    execute_schedule,
    monte_carlo,
    replay_books,
    simulate_executions,
    twap,
)
from tradesim_nb.market import MarketParams, SyntheticMarket


def test_twap_and_validation():
    assert np.allclose(twap(1e6, 4), 2.5e5)
    with pytest.raises(ValueError, match="periods"):
        twap(1.0, 0)
    with pytest.raises(ValueError, match="size"):
        twap(-1.0, 3)
    with pytest.raises(ValueError, match="trade_list"):
        execute_schedule([1.0, -2.0], SyntheticMarket(seed=0))
    with pytest.raises(ValueError, match="side"):
        execute_schedule([1.0], SyntheticMarket(seed=0), "short")  # type: ignore[arg-type]


def test_one_child_costs_exactly_the_walk():
    # no noise acts before the first child: its shortfall is the designed walk cost
    p = MarketParams()
    m = SyntheticMarket(p, seed=5)
    res = execute_schedule([3e5], m, "buy", background=True)
    q = p.level_size
    r = 3e5 - q * math.floor(3e5 / q)
    expect = p.epsilon * 3e5 + p.level_spacing / (2 * q) * 9e10 + p.level_spacing / 2 * r * (1 - r / q)
    assert res.shortfall == pytest.approx(expect, rel=1e-9)
    assert res.unfilled == pytest.approx(0.0, abs=1e-6)
    assert res.post_price != res.arrival_price  # the period's noise and gamma moved the mid


def test_monte_carlo_of_the_ac_schedule_matches_e_and_v():
    """3000 seeds of the optimal schedule of the paper's example (lambda = 2e-6) on the
    synthetic market: realised mean within 2 standard errors of E, variance within 10 % of V."""
    p = MarketParams()
    ac = SyntheticMarket(p).ac_params(1e6, 5, risk_aversion=2e-6)
    sol = optimal_execution(ac)
    sched = ac_schedule(ac)
    assert np.allclose(sched, sol.trade_list)
    mc = monte_carlo(sched, p, range(3000), side="sell")
    # the model's E, V (the tick bias sum b(n_k) is below 1e-5 of E here)
    assert mc.expected_cost == pytest.approx(sol.expected_cost, rel=1e-4)
    assert mc.model_variance == pytest.approx(sol.variance, rel=1e-12)
    assert abs(mc.z_mean) < 2.0
    assert mc.variance_ratio == pytest.approx(1.0, abs=0.10)
    assert mc.to_dict()["n"] == 3000


def test_event_by_event_execution_matches_e_on_fewer_seeds():
    p = MarketParams(steps_per_period=10)
    ac = SyntheticMarket(p).ac_params(5e5, 4)
    n = twap(5e5, 4)
    mc = monte_carlo(n, p, range(300), side="buy", background=True)
    assert mc.expected_cost == pytest.approx(expected_cost_of(ac, n), rel=1e-3)
    assert abs(mc.z_mean) < 3.0


def test_vectorised_executions_follow_the_ac_law():
    p = MarketParams()
    df = simulate_executions(p, 20_000, seed=1, size_range=(1e6, 1e6), periods_range=(5, 5))
    s = np.where(df["side"] == "buy", 1.0, -1.0)
    cost = s * (df["exec_price"] - df["arrival_price"]) * df["size"]
    ac = SyntheticMarket(p).ac_params(1e6, 5)
    e = expected_cost_of(ac, twap(1e6, 5))
    v = variance_of(ac, twap_holdings(ac))
    se = cost.std() / math.sqrt(len(cost))
    assert abs(cost.mean() - e) < 3 * se
    assert cost.var() / v == pytest.approx(1.0, abs=0.06)
    perm = s * (df["post_price"] - df["arrival_price"])
    assert perm.mean() == pytest.approx(p.gamma * 1e6, abs=4 * perm.std() / math.sqrt(len(perm)))


def test_execution_on_replayed_binance_books():
    books = list(replay_books(binance_spot_files(), interval_s=30.0, count=5))
    assert len(books) == 5
    mids = [b.mid for b in books]
    assert len(set(mids)) > 1
    n = twap(10.0, 5)  # sell 10 BTC over 5 children, 30 s apart
    res = execute_on_books(n, books, "sell")
    assert res.arrival_price == mids[0] and res.post_price == mids[-1]
    for k, b in enumerate(books):
        f = b.walk("sell", 2.0, "base")
        assert res.child_vwaps[k] == pytest.approx(f.vwap)
        assert f.vwap < b.mid
    assert res.unfilled == pytest.approx(0.0, abs=1e-9)
    manual = float(10.0 * mids[0] - np.dot(n, res.child_vwaps))
    assert res.shortfall == pytest.approx(manual)
    with pytest.raises(ValueError, match="books"):
        execute_on_books(twap(1.0, 6), books, "buy")
