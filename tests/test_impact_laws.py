"""The impact-law interface: closed forms against the generic schedule sum, against the
Almgren-Chriss solver and the ATHL/square-root formulas, pricers against expected costs,
fits that return laws, and validation."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import trapezoid

from tradesim_nb.costs.almgren_chriss import ACParams, expected_cost_of, optimal_execution
from tradesim_nb.impact import (
    ATHL_2005,
    ATHLImpact,
    ImpactFit,
    ImpactLaw,
    LinearImpact,
    MarketContext,
    PowerLawImpact,
    RuleOfThumbImpact,
    SquareRootImpact,
    athl_cost,
    calibrate_synthetic,
    fit_athl,
    simulate_orders,
    sqrt_impact,
)
from tradesim_nb.impact.base import ImpactLaw as BaseLaw

MKT = MarketContext(mid=50.0, sigma_daily=0.02, daily_volume=1e6, spread=0.01)


def _generic(law: ImpactLaw, n: np.ndarray, tau: float, market: MarketContext | None) -> float:
    """The interface's schedule cost from the two per-child terms, written out here."""
    x = n.sum() - np.cumsum(n)
    return float(np.sum(law.temporary_cost(n, tau, market))
                 + np.dot(x, law.permanent_impact(n, tau, market)))


# -- linear Almgren-Chriss -------------------------------------------------------------------
def test_linear_schedule_cost_is_the_generic_sum_and_the_solver_formula():
    law = LinearImpact(eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625)
    rng = np.random.default_rng(0)
    n = rng.uniform(0.0, 2e5, 7)
    assert_allclose(law.schedule_cost(n, 1.0), _generic(law, n, 1.0, None), rtol=1e-12)
    p = law.ac_params(float(n.sum()), 7.0, 7, sigma=0.95)
    assert_allclose(expected_cost_of(p, n), law.schedule_cost(n, 1.0), rtol=1e-14)
    assert p.impact == law and ACParams.from_impact(law, float(n.sum()), 7.0, 7, 0.95) == p
    # a child that trades back costs too: h is odd, n h(n/tau) >= 0
    assert law.temporary_cost(-3.0, 1.0) == law.temporary_cost(3.0, 1.0) > 0


@pytest.mark.parametrize("lam", [0.0, 1e-6])
def test_linear_expected_cost_is_the_optimal_schedule(lam):
    law = LinearImpact(eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625)
    mkt = MarketContext(mid=50.0, sigma_daily=0.019)
    sol = optimal_execution(law.ac_params(1e6, 5.0, 5, law.sigma_price(mkt), lam))
    assert_allclose(law.expected_cost(1e6, 5.0, mkt, periods=5, risk_aversion=lam),
                    sol.expected_cost, rtol=1e-9)
    # the pricer gives the same number (sigma rounded to 3 digits when lam > 0)
    price = law.pricer(5.0, 5, lam)
    assert_allclose(price(1e6, 50.0, 0.019, math.nan, math.nan), sol.expected_cost,
                    rtol=1e-9 if lam == 0 else 1e-3)
    assert law.expected_cost(0.0, 5.0, periods=5) == 0.0


def test_linear_law_is_validated_like_the_problem():
    with pytest.raises(ValueError, match=r"eta=-1\.0.*allowed range"):
        LinearImpact(eta=-1.0)
    with pytest.raises(ValueError, match="eta_tilde"):
        LinearImpact(eta=1e-3, gamma=1.0).pricer(60.0)
    with pytest.raises(ValueError, match="periods=0"):
        LinearImpact(eta=1.0).expected_cost(1.0, 1.0, periods=0)
    with pytest.raises(ValueError, match="needs the volatility"):
        LinearImpact(eta=1.0).expected_cost(1.0, 1.0, risk_aversion=1e-3)
    law = LinearImpact(eta=1.0, epsilon=0.5)
    assert law.impact_only() == LinearImpact(eta=1.0)
    law0 = LinearImpact(eta=1.0)
    assert law0.impact_only() is law0


# -- the rule of thumb -----------------------------------------------------------------------
def test_rule_of_thumb_resolves_the_papers_coefficients():
    rot = RuleOfThumbImpact()
    lin = rot.resolve(MKT)
    s, v = MKT.spread, MKT.daily_volume
    assert_allclose(lin.eta, s / (0.01 * v) * 86400.0, rtol=1e-14)
    assert_allclose(lin.gamma, s / (0.1 * v), rtol=1e-14)
    # trading 1 % of the daily volume per day costs one spread per unit
    rate = 0.01 * v / 86400.0
    assert_allclose(lin.temporary_cost(rate, 1.0) / rate, s, rtol=1e-12)
    for periods in (1, 6):
        ref = lin.expected_cost(3.0, 60.0, periods=periods)
        assert_allclose(rot.expected_cost(3.0, 60.0, MKT, periods=periods), ref, rtol=1e-14)
        assert_allclose(rot.pricer(60.0, periods)(3.0, 50.0, 0.02, v, s), ref, rtol=1e-12)
    fixed = RuleOfThumbImpact(eta=0.05)
    assert fixed.resolve(MKT).eta == 0.05 and fixed.resolve(MKT).gamma == lin.gamma
    assert_allclose(fixed.pricer(60.0, 6)(3.0, 50.0, 0.02, v, s),
                    fixed.resolve(MKT).expected_cost(3.0, 60.0, periods=6), rtol=1e-12)
    with pytest.raises(ValueError, match="spread"):
        rot.resolve(MarketContext(mid=50.0, daily_volume=1e6))
    with pytest.raises(ValueError, match="not fitted"):
        RuleOfThumbImpact.from_fit(calibrate_synthetic(n_orders=50)[0])


# -- power law -------------------------------------------------------------------------------
def test_power_law_closed_form_and_linear_limit():
    pl = PowerLawImpact(eta=0.3, beta=0.6, gamma=0.02, alpha=1.4)
    for periods in (1, 4, 9):
        n = np.full(periods, 120.0 / periods)
        tau = 10.0 / periods
        assert_allclose(pl.expected_cost(120.0, 10.0, periods=periods),
                        _generic(pl, n, tau, None), rtol=1e-12)
        assert_allclose(pl.schedule_cost(n, tau), _generic(pl, n, tau, None), rtol=1e-12)
    lin = LinearImpact(eta=0.3, gamma=0.02)
    as_pl = PowerLawImpact(eta=0.3, beta=1.0, gamma=0.02, alpha=1.0)
    assert_allclose(as_pl.expected_cost(50.0, 10.0, periods=5),
                    lin.expected_cost(50.0, 10.0, periods=5), rtol=1e-12)
    with pytest.raises(ValueError, match="risk_aversion"):
        pl.expected_cost(1.0, 1.0, risk_aversion=1e-3)


# -- ATHL 2005 -------------------------------------------------------------------------------
def test_athl_expected_cost_is_the_papers_J_and_the_discrete_sum_tends_to_it():
    law = ATHL_2005
    x, t = 1e5, 0.5
    j = athl_cost(x, MKT.daily_volume, t, MKT.sigma_daily)
    assert_allclose(law.expected_cost(x, t, MKT), MKT.mid * x * j, rtol=1e-14)
    assert_allclose(law.pricer(t)(x, MKT.mid, MKT.sigma_daily, MKT.daily_volume, math.nan),
                    MKT.mid * x * j, rtol=1e-12)
    # discrete schedules: permanent part 1/2 I (1 - 1/N), so the gap closes like 1/N
    i = law.permanent(x, MKT.daily_volume, MKT.sigma_daily)
    for periods in (1, 10, 1000):
        e = law.schedule_cost(np.full(periods, x / periods), t / periods, MKT)
        assert_allclose(e, MKT.mid * x * (j - 0.5 * i / periods), rtol=1e-10)
    # the turnover factor from the market context
    theta = MarketContext(mid=50.0, sigma_daily=0.02, daily_volume=1e6, shares_outstanding=1.6e7)
    assert_allclose(law.permanent_impact(x, t, theta) / law.permanent_impact(x, t, MKT),
                    16.0**0.25, rtol=1e-12)
    with pytest.raises(ValueError, match="daily_volume"):
        law.expected_cost(x, t, MarketContext(mid=50.0, sigma_daily=0.02))


def test_athl_fit_returns_its_law():
    fit = fit_athl(simulate_orders(5000, seed=2))
    law = fit.law
    assert isinstance(law, ATHLImpact)
    assert law.gamma == fit.gamma.estimate and law.eta == fit.eta.estimate
    assert law.beta == 0.6 and law.alpha == 1.0
    lo, hi = fit.law_at("ci_low"), fit.law_at("ci_high")
    assert lo.eta <= law.eta <= hi.eta and lo.gamma <= law.gamma <= hi.gamma
    assert lo.expected_cost(1e4, 0.1, MKT) < law.expected_cost(1e4, 0.1, MKT) \
        < hi.expected_cost(1e4, 0.1, MKT)
    assert fit.to_dict()["laws"] == ["athl"] and "law: ATHLImpact(" in fit.summary()


# -- square root -----------------------------------------------------------------------------
def test_square_root_cost_is_the_integral_of_the_peak():
    law = SquareRootImpact(Y=0.8, exponent=0.5)
    q = 4e4
    peak = law.peak(q, MKT)
    assert_allclose(peak, MKT.mid * sqrt_impact(q, 1e6, 0.02, 0.8), rtol=1e-14)
    # E = int_0^Q peak(q) dq, by quadrature
    grid = np.linspace(0.0, q, 20001)
    integral = trapezoid(np.asarray(law.peak(grid, MKT)), grid)
    assert_allclose(law.expected_cost(q, 1.0, MKT), integral, rtol=1e-6)
    assert_allclose(law.expected_cost(q, 1.0, MKT), 2.0 / 3.0 * q * peak, rtol=1e-14)
    # the schedule does not matter, and nothing is permanent
    assert law.schedule_cost(np.full(8, q / 8), 0.1, MKT) == law.expected_cost(q, 1.0, MKT)
    assert np.all(law.permanent_impact(np.ones(3), 1.0) == 0.0)
    assert_allclose(law.pricer(1.0)(q, 50.0, 0.02, 1e6, math.nan),
                    law.expected_cost(q, 1.0, MKT), rtol=1e-12)


# -- results, contexts, validation ------------------------------------------------------------
def test_fit_results_are_arch_like_and_carry_laws():
    fit, mp = calibrate_synthetic(seed=1, n_orders=800)
    law = fit.law
    assert isinstance(law, LinearImpact)
    assert law == LinearImpact(fit.eta.estimate, fit.gamma.estimate, fit["epsilon"].estimate,
                               mp.time_unit_s)
    assert list(fit.params.index) == ["eta", "gamma", "epsilon"]
    assert fit.params["eta"] == fit.eta.estimate and fit.std_err["gamma"] == fit.gamma.std_error
    ci = fit.conf_int()
    assert list(ci.columns) == ["lower", "upper"] and ci.loc["eta", "lower"] == fit.eta.ci_low
    assert fit.laws == {"linear": law}
    with pytest.raises(ValueError, match="kind='athl'"):
        fit.law_at(kind="athl")
    # a fit whose estimate is outside the law's range says so
    neg = dataclasses.replace(fit, estimates=tuple(
        dataclasses.replace(e, estimate=-1e-9) if e.name == "gamma" else e
        for e in fit.estimates))
    with pytest.raises(ValueError, match=r"cannot make a LinearImpact.*gamma=-1e-09"):
        neg.law  # noqa: B018
    assert "not available" in neg.summary()
    with pytest.raises(ValueError, match="makes no impact law"):
        ImpactFit("x", (), (), 0, "").law  # noqa: B018


def test_every_law_implements_the_interface():
    laws = [LinearImpact(eta=0.1, gamma=1e-5, epsilon=0.01), RuleOfThumbImpact(),
            PowerLawImpact(eta=1e-3, beta=0.5), ATHLImpact(), SquareRootImpact()]
    for law in laws:
        assert isinstance(law, BaseLaw) and law.kind and law.label
        assert law.to_dict()["kind"] == law.kind
        assert set(law.requires) <= {"mid", "sigma_daily", "daily_volume", "spread"}
        h = 3600.0 / law.time_unit_s  # one hour in the law's unit
        e = law.expected_cost(10.0, h, MKT, periods=4)
        assert math.isfinite(e) and e > 0
        assert_allclose(law.pricer(h, 4)(10.0, MKT.mid, MKT.sigma_daily, MKT.daily_volume,
                                          MKT.spread), e, rtol=1e-12)
        # more size never costs less
        assert law.expected_cost(20.0, h, MKT, periods=4) > e
        with pytest.raises(ValueError, match="horizon"):
            law.expected_cost(1.0, 0.0, MKT)


def test_market_context_validation():
    assert MarketContext().has("mid") is False and MKT.has("spread")
    with pytest.raises(ValueError, match=r"mid=-1\.0"):
        MarketContext(mid=-1.0)
    with pytest.raises(ValueError, match="sigma_daily"):
        MarketContext(sigma_daily=math.inf)
    ctx = MarketContext.from_tick(100.0, vol_bps=1.0, daily_volume=5.0, spread=0.1)
    assert_allclose(ctx.sigma_daily, 1e-4 * math.sqrt(86400.0), rtol=1e-15)


def test_impact_imports_stay_light_and_old_homes_re_export():
    """tradesim_nb.impact and the simulator load numpy only; calibrate/costs.impact are aliases."""
    import subprocess
    import sys

    code = ("import sys, tradesim_nb.impact, tradesim_nb.simulator;"
            "print(','.join(m for m in ('pandas', 'scipy', 'sklearn', 'dask', 'tqdm')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
    import tradesim_nb
    import tradesim_nb.calibrate as old_calibrate
    import tradesim_nb.costs.impact as old_impact
    import tradesim_nb.impact as impact

    shared = set(old_calibrate.__all__) & set(impact.__all__)
    assert len(shared) >= 15
    for name in shared:
        assert getattr(old_calibrate, name) is getattr(impact, name), name
    assert old_calibrate.fit_athl is impact.fit_athl is tradesim_nb.fit_athl
    assert old_calibrate.ImpactFit is impact.ImpactFit
    assert old_impact.ATHLParams is impact.ATHLImpact
    for name in old_impact.__all__:
        assert getattr(old_impact, name) is getattr(impact, name), name
