"""TradeSimulator(impact=...): any law, or a fit's result; fitted on the synthetic market
with a known truth; the estimate built by field name."""

from __future__ import annotations

import ast
import inspect
import math
import textwrap

import pytest
from numpy.testing import assert_allclose

from tradesim_nb.book import book_from_levels
from tradesim_nb.impact import (
    ATHLImpact,
    LinearImpact,
    MarketContext,
    PowerLawImpact,
    RuleOfThumbImpact,
    SquareRootImpact,
    calibrate_synthetic,
    fit_market_data,
    market_series_from_synthetic,
)
from tradesim_nb.instruments import get_instrument
from tradesim_nb.market import MarketParams, SyntheticMarket
from tradesim_nb.simulator import (
    CostEstimate,
    ImpactParams,
    ImpactSettings,
    SimulatorModels,
    TradeSimulator,
)

BINANCE = get_instrument("binance", "BTCUSDT")
PERIODS = 20  # children of the synthetic-market order: both eta and gamma matter


@pytest.fixture(scope="module")
def models() -> SimulatorModels:
    return TradeSimulator.default_models()


@pytest.fixture(scope="module")
def synthetic_fit():
    """eta, gamma from the public data of a SyntheticMarket with known truth."""
    base = MarketParams(mean_trade_size=0.0)
    p = MarketParams(mean_trade_size=0.5 * base.max_mean_trade_size)
    market = SyntheticMarket(p, seed=3)
    fit = fit_market_data(market_series_from_synthetic(market, 2000), refill_s=p.tau,
                          bootstrap=100)
    return fit, p, market


def _order(sim: TradeSimulator, book, now_ns: int = 10**18):
    sim.on_update(book, [], now_ns)
    assert sim.latest is not None and sim.latest.valid
    return sim.latest


def test_market_data_fit_on_the_synthetic_market_feeds_the_simulator(synthetic_fit, models):
    fit, p, market = synthetic_fit
    assert fit.eta.covers(p.eta) or fit.eta.estimate == pytest.approx(p.eta, rel=1e-3)
    assert fit.gamma.covers(p.gamma)
    x = 5e5  # base units, a sell program of 20 children over 20 periods
    settings = ImpactSettings(horizon_s=PERIODS * p.tau * p.time_unit_s, periods=PERIODS)
    sim = TradeSimulator(market.instrument, "sell", x, unit="base", impact=fit,
                         impact_settings=settings, models=models, fee_rates=(0.0, 0.0))
    assert isinstance(sim.impact, LinearImpact) and sim.impact_fit is fit
    e = _order(sim, market.book)
    assert e.impact_model == "almgren-chriss, fitted (market-data)"
    # the simulator's impact is the fitted law's own expected cost (without its epsilon)
    law = fit.law.impact_only()
    own = law.expected_cost(e.qty_base, PERIODS * p.tau, periods=PERIODS)
    assert_allclose(e.impact_usd, own, rtol=1e-12)
    # ... and the true law's cost lies in the band of the fit's 95 % intervals
    truth = p.impact_law().impact_only().expected_cost(e.qty_base, PERIODS * p.tau,
                                                         periods=PERIODS)
    lo = fit.law_at("ci_low").impact_only().expected_cost(e.qty_base, PERIODS * p.tau,
                                                           periods=PERIODS)
    hi = fit.law_at("ci_high").impact_only().expected_cost(e.qty_base, PERIODS * p.tau,
                                                            periods=PERIODS)
    assert lo <= truth <= hi, (lo, truth, hi)
    assert e.impact_usd == pytest.approx(truth, rel=0.10)


def test_ac_records_fit_feeds_the_simulator(models):
    fit, p = calibrate_synthetic(2.5e-6, 2.5e-7, seed=5, n_orders=2000)
    market = SyntheticMarket(p, seed=1)
    settings = ImpactSettings(horizon_s=PERIODS * p.tau * p.time_unit_s, periods=PERIODS)
    sim = TradeSimulator(market.instrument, "buy", 5e5, unit="base", impact=fit,
                         impact_settings=settings, models=models, fee_rates=(0.0, 0.0))
    e = _order(sim, market.book)
    own = fit.law.impact_only().expected_cost(e.qty_base, PERIODS * p.tau, periods=PERIODS)
    assert_allclose(e.impact_usd, own, rtol=1e-12)
    truth = p.impact_law().impact_only().expected_cost(e.qty_base, PERIODS * p.tau,
                                                         periods=PERIODS)
    assert e.impact_usd == pytest.approx(truth, rel=0.10)
    # passing the fit or its law gives the same estimate
    by_law = TradeSimulator(market.instrument, "buy", 5e5, unit="base", impact=fit.law,
                            impact_settings=settings, models=models, fee_rates=(0.0, 0.0))
    assert _order(by_law, market.book).impact_usd == e.impact_usd


@pytest.mark.parametrize("law", [
    ATHLImpact(), SquareRootImpact(Y=0.7), PowerLawImpact(eta=0.05, beta=0.6, gamma=1e-3),
    LinearImpact(eta=0.05, gamma=1e-4, epsilon=5.0), RuleOfThumbImpact(eta=0.05)])
def test_any_law_prices_the_simulators_order(law, models):
    book = book_from_levels([(100.0, 5.0), (99.9, 50.0)], [(100.1, 5.0), (100.2, 50.0)],
                            BINANCE)
    adv = 2e4
    settings = ImpactSettings(horizon_s=600.0, periods=6, daily_volume_base=adv)
    sim = TradeSimulator(BINANCE, "buy", 3.0, unit="base", impact=law, models=models,
                         volatility_bps=1.5, impact_settings=settings, fee_rates=(0.0, 0.0))
    e = _order(sim, book)
    ctx = MarketContext.from_tick(book.mid, 1.5, adv, book.spread)
    ref = law.impact_only().expected_cost(3.0, 600.0 / law.time_unit_s, ctx, periods=6)
    assert e.impact_model == law.label
    assert ref > 0
    assert_allclose(e.impact_usd, ref, rtol=1e-9)
    assert e.net_usd == e.slippage_usd + e.fee_usd + e.impact_usd


def test_laws_that_need_volatility_wait_for_it(models):
    book = book_from_levels([(100.0, 5.0)], [(100.1, 5.0)], BINANCE)
    sim = TradeSimulator(BINANCE, "buy", 1000.0, impact=ATHLImpact(), models=models,
                         impact_settings=ImpactSettings(daily_volume_base=1e4),
                         fee_rates=(0.0, 0.001))
    e = _order(sim, book)  # one tick: the live volatility is still 0
    assert math.isnan(e.impact_usd) and e.impact_model == "none: no volatility estimate yet"
    assert e.impact_source == "none" and e.net_usd == e.slippage_usd + e.fee_usd


def test_impact_params_stay_the_linear_law_and_settings(models):
    old = ImpactParams(eta=0.05, gamma=1e-3, horizon_s=60.0, periods=6)
    assert old.law() == LinearImpact(eta=0.05, gamma=1e-3)
    assert old.settings() == ImpactSettings(horizon_s=60.0, periods=6)
    assert ImpactParams().law() == RuleOfThumbImpact()
    book = book_from_levels([(100.0, 5.0)], [(100.1, 5.0)], BINANCE)
    a = TradeSimulator(BINANCE, "buy", 2.0, unit="base", impact=old, models=models)
    b = TradeSimulator(BINANCE, "buy", 2.0, unit="base", impact=LinearImpact(0.05, 1e-3),
                       impact_settings=ImpactSettings(60.0, 6), models=models)
    assert _order(a, book).impact_usd == _order(b, book).impact_usd > 0
    with pytest.raises(ValueError, match="carries its own horizon"):
        TradeSimulator(BINANCE, "buy", 1.0, impact=old, impact_settings=ImpactSettings(),
                       models=models)
    with pytest.raises(ValueError, match="must be an ImpactLaw"):
        TradeSimulator(BINANCE, "buy", 1.0, impact=(0.05, 1e-3), models=models)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="horizon_s=0"):
        ImpactSettings(horizon_s=0.0)
    default = TradeSimulator(BINANCE, "buy", 1.0, models=models)
    assert default.impact == RuleOfThumbImpact() and default.impact_settings == ImpactSettings()


def test_cost_estimate_is_built_by_field_name():
    """estimate() fills CostEstimate from locals named like its fields, in field order."""
    src = textwrap.dedent(inspect.getsource(TradeSimulator.estimate))
    calls = [n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == "_new_tuple"]
    assert len(calls) == 1
    first, values = calls[0].args
    assert isinstance(first, ast.Name) and first.id == "CostEstimate"
    assert isinstance(values, ast.Tuple)
    names = [v.id if isinstance(v, ast.Name) else ast.dump(v) for v in values.elts]
    assert names == list(CostEstimate._fields)


def test_invalid_estimate_is_nan_and_says_why(models):
    from tradesim_nb.book import OrderBook

    sim = TradeSimulator(BINANCE, "buy", 1.0, models=models)
    e = sim.estimate(OrderBook(BINANCE), 5)
    assert isinstance(e, CostEstimate) and not e.valid and e.recv_ts_ns == 5
    assert math.isnan(e.impact_usd) and e.impact_model == "none: book not valid"


def test_athl_fit_result_goes_straight_into_the_simulator(models):
    from tradesim_nb.impact import fit_athl, simulate_orders

    fit = fit_athl(simulate_orders(3000, seed=4))
    book = book_from_levels([(100.0, 5.0), (99.9, 50.0)], [(100.1, 5.0), (100.2, 50.0)],
                            BINANCE)
    settings = ImpactSettings(horizon_s=3600.0, daily_volume_base=5e3)
    sim = TradeSimulator(BINANCE, "sell", 1e5, impact=fit, impact_settings=settings,
                         volatility_bps=2.0, models=models, fee_rates=(0.0, 0.0))
    e = _order(sim, book)
    assert e.impact_model == "athl-2005, fitted (athl)"
    ctx = MarketContext.from_tick(book.mid, 2.0, 5e3, book.spread)
    assert_allclose(e.impact_usd, fit.law.expected_cost(e.qty_base, 3600.0 / 86400.0, ctx),
                    rtol=1e-9)
