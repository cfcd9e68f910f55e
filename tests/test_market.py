"""The synthetic market: parameters, reproducibility, the BookSource contract, and the
impact it promises (walk cost, permanent move, refill, per-period variance)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tradesim_nb.book import OrderBook
from tradesim_nb.market import (
    MarketParams,
    SyntheticMarket,
    period_noise,
    walk_cost_array,
)
from tradesim_nb.sources import BookSource, MarketStep


@pytest.mark.parametrize("field,value", [("sigma", 0.0), ("tau", -1.0), ("eta", math.nan),
                                         ("gamma", -1e-9), ("level_spacing", 0.0),
                                         ("n_levels", 0), ("steps_per_period", 1.5),
                                         ("trade_prob", 1.5), ("epsilon", -0.1)])
def test_params_validated_with_name_and_value(field, value):
    with pytest.raises(ValueError, match=field):
        MarketParams(**{field: value})


def test_flow_too_large_for_sigma_is_rejected():
    with pytest.raises(ValueError, match="mean_trade_size"):
        MarketParams(sigma=0.01, mean_trade_size=1e7)
    p = MarketParams(mean_trade_size=0.0)
    ok = MarketParams(mean_trade_size=0.99 * p.max_mean_trade_size)
    assert ok.sigma_diffusion > 0
    assert ok.flow_variance == pytest.approx(0.99**2 * ok.sigma**2 * ok.tau)


def test_true_params_follow_the_book_design():
    p = MarketParams(eta=3e-6, tau=2.0, level_spacing=0.02)
    m = SyntheticMarket(p, seed=1)
    tp = m.true_params
    assert tp.eta == 3e-6 and tp.gamma == p.gamma and tp.epsilon == p.epsilon
    # q = tau*delta/(2 eta) <=> eta = tau*delta/(2 q)
    assert tp.level_size == pytest.approx(2.0 * 0.02 / (2 * 3e-6))
    assert p.tau * p.level_spacing / (2 * tp.level_size) == pytest.approx(tp.eta)
    assert tp.eta_tilde == pytest.approx(p.eta - 0.5 * p.gamma * p.tau)
    assert 0 < tp.flow_variance_share < 1
    assert tp.sigma_diffusion**2 + tp.flow_variance_share * p.sigma**2 == pytest.approx(p.sigma**2)


def test_same_seed_same_market_other_seed_differs():
    a, b, c = (SyntheticMarket(MarketParams(), seed=s) for s in (7, 7, 8))
    sa = [a.step() for _ in range(50)]
    sb = [b.step() for _ in range(50)]
    sc = [c.step() for _ in range(50)]
    assert sa == sb
    assert sa != sc
    assert a.mid == b.mid != c.mid


def test_book_source_contract_and_diffs_rebuild_the_snapshot():
    m = SyntheticMarket(MarketParams(), seed=3, publish_levels=20)
    assert isinstance(m, BookSource)
    bids, asks = m.snapshot()
    assert len(bids) == len(asks) == 20
    assert all(b[0] > b2[0] for b, b2 in itertools.pairwise(bids))
    assert all(a[0] < a2[0] for a, a2 in itertools.pairwise(asks))
    assert bids[0][0] < m.mid < asks[0][0]
    local_b, local_a = dict(bids), dict(asks)
    n_trades = 0
    for _ in range(300):
        st = m.step()
        assert isinstance(st, MarketStep)
        for px, sz in st.bids:
            local_b.pop(px, None) if sz == 0 else local_b.__setitem__(px, sz)
        for px, sz in st.asks:
            local_a.pop(px, None) if sz == 0 else local_a.__setitem__(px, sz)
        n_trades += len(st.trades)
        for px, q, side in st.trades:
            assert q > 0 and side in ("buy", "sell") and px > 0
    bids, asks = m.snapshot()
    assert local_b == dict(bids) and local_a == dict(asks)
    assert 100 < n_trades < 200  # trade_prob 0.5 over 300 events
    assert m.ts_ns == round(300 / 100 * 1e9)  # 3 periods of 1 time unit of 1 s


@pytest.mark.parametrize("n", [1.0, 1999.0, 2000.0, 2500.0, 123_456.7, 571_401.2])
def test_walk_on_the_orderbook_costs_the_designed_amount(n):
    p = MarketParams()
    m = SyntheticMarket(p, seed=0)
    q, d, eps = p.level_size, p.level_spacing, p.epsilon
    fill = m.execute("buy", n)
    cost = (fill.vwap - fill.mid) * n
    r = n - q * math.floor(n / q)
    bias = d / 2 * r * (1 - r / q)
    assert cost == pytest.approx(eps * n + d / (2 * q) * n * n + bias, rel=1e-9)
    assert 0 <= bias <= d * q / 8 + 1e-12
    assert cost == pytest.approx(float(walk_cost_array(np.array([n]), q, eps, d)[0]), rel=1e-9)
    assert fill.complete
    assert isinstance(m.book, OrderBook)


def test_permanent_impact_then_refill():
    p = MarketParams(mean_trade_size=0.0, sigma=1e-9)
    m = SyntheticMarket(p, seed=0)
    mid0 = m.mid
    m.execute("sell", 1e5)
    assert m.mid == pytest.approx(mid0 - p.gamma * 1e5)
    best_after = m.book.best_bid
    # the front 1e5 units (50 levels) are gone until the refill
    assert best_after == pytest.approx(m.mid - p.epsilon - 50.5 * p.level_spacing)
    m.run_period()
    assert m.at_period_start
    assert m.book.best_bid == pytest.approx(m.mid - p.epsilon - 0.5 * p.level_spacing)
    assert m.book.best_bid_size == pytest.approx(p.level_size)


def test_period_noise_has_variance_sigma2_tau():
    p = MarketParams(mean_trade_size=0.0)
    p = MarketParams(mean_trade_size=0.6 * p.max_mean_trade_size)  # 36 % of variance from flow
    x = period_noise(np.random.default_rng(0), p, 200_000, p.steps_per_period)
    se_var = math.sqrt(2 / x.size)
    assert abs(x.mean()) < 4 * p.sigma / math.sqrt(x.size)
    assert x.var() / (p.sigma**2 * p.tau) == pytest.approx(1.0, abs=4 * se_var * 1.5)


def test_event_by_event_periods_match_the_fast_law():
    p0 = MarketParams(steps_per_period=10, mean_trade_size=0.0)
    p = MarketParams(steps_per_period=10, mean_trade_size=0.6 * p0.max_mean_trade_size)
    m = SyntheticMarket(p, seed=11, publish_levels=5)
    mids = [m.mid]
    for _ in range(1500):
        m.run_period()
        mids.append(m.mid)
    d = np.diff(mids)
    # 1500 periods: the variance's standard error is about 3.7 %; allow 4 of them
    assert d.var() / (p.sigma**2 * p.tau) == pytest.approx(1.0, abs=0.15)
    assert abs(d.mean()) < 4 * p.sigma / math.sqrt(d.size)


def test_execute_rejects_bad_input():
    m = SyntheticMarket(seed=0)
    with pytest.raises(ValueError, match="side"):
        m.execute("hold", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="qty_base"):
        m.execute("buy", -1.0)
    with pytest.raises(ValueError, match="publish_levels"):
        SyntheticMarket(seed=0, publish_levels=0)
