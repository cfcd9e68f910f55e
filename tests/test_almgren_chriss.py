"""Almgren-Chriss (2000): the paper's worked example against an independent plain-math
implementation, closed forms against direct sums, limits and invariants (QuantEcon style)."""

from __future__ import annotations

import dataclasses
import math
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from tradesim_nb.costs.almgren_chriss import (
    ACParams,
    expected_cost_of,
    frontier,
    frontier_holdings,
    optimal_execution,
    twap_holdings,
    variance_of,
)

# The paper's example (section 2.4 / Table 1): 1e6 shares at S0 = 50, T = 5 days, N = 5,
# sigma = 0.95 $/share/day^1/2 (30% annual), epsilon = 1/16 (half of a 1/8 spread),
# eta = 2.5e-6, gamma = 2.5e-7.
PAPER = dict(size=1e6, horizon=5.0, periods=5, sigma=0.95, epsilon=0.0625, eta=2.5e-6,
             gamma=2.5e-7)


def reference(X, T, N, sigma, eps, eta, gamma, lam):
    """Second, independent implementation: the paper's formulas step by step, plain math.

    kappa from eq. 17 through acosh/acos (the library uses the asinh/asin rewrite),
    holdings from eq. 18 with math.sinh, E and V from eq. 20 verbatim.
    """
    tau = T / N
    eta_t = eta - 0.5 * gamma * tau
    kt2 = lam * sigma**2 / eta_t
    if lam == 0:
        x = [X * (1 - j / N) for j in range(N + 1)]
        E = 0.5 * gamma * X**2 + eps * X + eta_t * X**2 / T
        V = sigma**2 * X**2 * T * (1 - 1 / N) * (1 - 1 / (2 * N)) / 3
        return 0.0, x, E, V
    c = 1 + 0.5 * kt2 * tau**2
    if lam > 0:
        kappa = math.acosh(c) / tau
        sh, ch, th = math.sinh, math.cosh, math.tanh
        x = [sh(kappa * (T - j * tau)) / sh(kappa * T) * X for j in range(N + 1)]
        E = (0.5 * gamma * X**2 + eps * X + eta_t * X**2 * th(0.5 * kappa * tau)
             * (tau * sh(2 * kappa * T) + 2 * T * sh(kappa * tau))
             / (2 * tau**2 * sh(kappa * T) ** 2))
        V = (0.5 * sigma**2 * X**2 * (tau * sh(kappa * T) * ch(kappa * (T - tau))
                                      - T * sh(kappa * tau))
             / (sh(kappa * T) ** 2 * sh(kappa * tau)))
    else:
        kappa = math.acos(c) / tau
        s, co, ta = math.sin, math.cos, math.tan
        x = [s(kappa * (T - j * tau)) / s(kappa * T) * X for j in range(N + 1)]
        E = (0.5 * gamma * X**2 + eps * X + eta_t * X**2 * ta(0.5 * kappa * tau)
             * (tau * s(2 * kappa * T) + 2 * T * s(kappa * tau))
             / (2 * tau**2 * s(kappa * T) ** 2))
        V = (0.5 * sigma**2 * X**2 * (T * s(kappa * tau) - tau * s(kappa * T)
                                      * co(kappa * (T - tau)))
             / (s(kappa * T) ** 2 * s(kappa * tau)))
    return kappa, x, E, V


@pytest.mark.parametrize("lam", [0.0, 1e-6, 2e-6, -2e-7])
def test_paper_example_against_independent_reference(lam):
    p = ACParams(**PAPER, risk_aversion=lam)
    s = optimal_execution(p)
    kappa, x, E, V = reference(1e6, 5.0, 5, 0.95, 0.0625, 2.5e-6, 2.5e-7, lam)
    assert_allclose(s.kappa, kappa, rtol=1e-10, atol=0)
    assert_allclose(s.holdings, x, rtol=1e-10, atol=1e-6)
    assert_allclose(s.expected_cost, E, rtol=1e-10)
    assert_allclose(s.std, math.sqrt(V), rtol=1e-9)
    # ... and the direct sums of eq. 8 on the returned schedule
    assert_allclose(expected_cost_of(p, s.trade_list), s.expected_cost, rtol=1e-12)
    assert_allclose(variance_of(p, s.holdings), s.variance, rtol=1e-12)
    if lam == 0:
        assert s.half_life == math.inf
    else:
        assert_allclose(s.half_life, 1 / kappa, rtol=1e-12)


def test_paper_example_sanity_figures():
    """Plain-arithmetic figures of the example that need no trajectory at all."""
    p = ACParams(**PAPER)
    assert p.tau == 1.0
    assert_allclose(p.eta_tilde, 2.375e-6, rtol=1e-15)
    s = optimal_execution(p)
    # TWAP: 1/2 gamma X^2 = 125,000; eps X = 62,500; eta_tilde X^2 / T = 475,000
    assert_allclose(s.expected_cost, 125_000 + 62_500 + 475_000, rtol=1e-14)
    # V = sigma^2 tau (0.8^2 + 0.6^2 + 0.4^2 + 0.2^2) X^2 = 0.9025 * 1.2e12
    assert_allclose(s.variance, 0.9025 * 1.2e12, rtol=1e-14)
    # lambda = 2e-6: kappa_tilde^2 = 2e-6 * 0.9025 / 2.375e-6 = 0.76 (per day^2)
    s2 = optimal_execution(dataclasses.replace(p, risk_aversion=2e-6))
    assert_allclose(s2.kappa_tilde_sq, 0.76, rtol=1e-14)
    assert_allclose(math.cosh(s2.kappa * p.tau), 1 + 0.76 / 2, rtol=1e-14)
    # the discrete kappa is below the continuous sqrt(lambda sigma^2 / eta_tilde)
    assert s2.kappa < math.sqrt(0.76)


def test_linear_limit_and_twap():
    p = ACParams(**{**PAPER, "periods": 50})
    s = optimal_execution(p)
    assert s.regime == "linear" and s.kappa == 0.0 and s.half_life == math.inf
    assert_allclose(s.holdings, twap_holdings(p), rtol=0, atol=1e-9)
    assert_allclose(s.trade_list, np.full(50, 1e6 / 50), rtol=1e-15)
    N, X, T = 50, 1e6, 5.0
    assert_allclose(s.variance, 0.95**2 * X**2 * T * (1 - 1 / N) * (1 - 1 / (2 * N)) / 3,
                    rtol=1e-13)


@pytest.mark.parametrize("lam", [1e-16, 1e-14, 1e-12, 1e-10])
def test_small_kappa_T_no_cancellation(lam):
    """kappa T from ~1e-7 to ~1e-3: closed forms equal the direct sums to ~1e-12."""
    p = ACParams(**{**PAPER, "periods": 400, "risk_aversion": lam})
    s = optimal_execution(p)
    assert s.regime in ("linear", "hyperbolic")
    assert_allclose(s.variance, variance_of(p, s.holdings), rtol=1e-12)
    assert_allclose(s.expected_cost, expected_cost_of(p, s.trade_list), rtol=1e-12)
    # converges to TWAP: the deviation is O((kappa T)^2)
    kT = s.kappa * p.horizon
    dev = np.max(np.abs(s.holdings - twap_holdings(p))) / p.size
    assert dev <= max(kT**2, 1e-15)


def test_huge_kappa_T_is_immediate_execution_without_overflow():
    p = ACParams(**{**PAPER, "periods": 1000, "risk_aversion": 1e4})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = optimal_execution(p)
        E, V = frontier(p, [1e2, 1e3, 1e4, 1e5])
    kT = s.kappa * p.horizon
    assert kT > 1e4
    assert np.all(np.isfinite(s.holdings)) and np.all(np.isfinite(s.trade_list))
    a = s.kappa * p.tau
    # x_1 = X sinh(kappa (T - tau)) / sinh(kappa T) = X e^{-a} (1 - e^{-2(K - a)}) / (1 - e^{-2K})
    assert_allclose(s.holdings[1], p.size * math.exp(-a), rtol=1e-9)
    assert_allclose(s.holdings[2], p.size * math.exp(-2 * a), rtol=1e-9)
    assert_allclose(s.expected_cost, expected_cost_of(p, s.trade_list), rtol=1e-12)
    assert_allclose(s.variance, variance_of(p, s.holdings), rtol=1e-9)
    assert np.all(np.isfinite(E)) and np.all(np.isfinite(V))
    assert np.all(np.diff(E) >= 0) and np.all(np.diff(V) <= 0)


def test_immediate_execution_limit():
    """lambda -> inf: everything in the first period, E -> 1/2 gamma X^2 + eps X + eta_tilde X^2/tau."""
    p = ACParams(**PAPER, risk_aversion=1e6)
    s = optimal_execution(p)
    assert s.kappa * p.tau > 25
    assert_allclose(s.trade_list[0], p.size, rtol=1e-10)
    assert np.all(s.holdings[1:] < 1e-4)
    e_imm = 0.5 * p.gamma * p.size**2 + p.epsilon * p.size + p.eta_tilde * p.size**2 / p.tau
    assert_allclose(s.expected_cost, e_imm, rtol=1e-10)
    assert s.variance < 1e-20 * p.sigma**2 * p.tau * p.size**2


def test_large_kappa_T_branch_continuity():
    """The variance switches form at kappa T = 20: both sides agree with the direct sum."""
    base = ACParams(**{**PAPER, "periods": 40})
    lams = np.geomspace(1e-4, 1e-2, 60)
    E, V = frontier(base, lams)
    for lam, e, v in zip(lams, E, V, strict=True):
        p = dataclasses.replace(base, risk_aversion=float(lam))
        s = optimal_execution(p)
        assert_allclose(v, variance_of(p, s.holdings), rtol=1e-11)
        assert_allclose(e, expected_cost_of(p, s.trade_list), rtol=1e-12)


def test_negative_risk_aversion_bound_and_buyback():
    p = ACParams(**PAPER)
    lo = p.min_risk_aversion
    assert lo < 0
    with pytest.raises(ValueError, match="risk_aversion"):
        dataclasses.replace(p, risk_aversion=lo * 1.0001)
    # close to the bound kappa T -> pi: the schedule first buys (x_1 > X), E counts |n_k|
    q = dataclasses.replace(p, risk_aversion=lo * 0.99)
    s = optimal_execution(q)
    assert s.regime == "trigonometric" and not s.monotone
    assert s.holdings[1] > q.size
    assert s.kappa * q.horizon < math.pi
    assert_allclose(s.expected_cost, expected_cost_of(q, s.trade_list), rtol=1e-11)
    assert_allclose(s.variance, variance_of(q, s.holdings), rtol=1e-11)
    E, V = frontier(q, [q.risk_aversion])
    assert_allclose([E[0], V[0]], [s.expected_cost, s.variance], rtol=1e-12)


def test_objective_is_minimised_against_perturbations():
    """x* minimises E + lambda V: random feasible perturbations never do better."""
    rng = np.random.default_rng(7)
    for lam in (-2e-7, 0.0, 1e-6, 2e-6):
        p = ACParams(**{**PAPER, "periods": 12, "risk_aversion": lam})
        s = optimal_execution(p)
        u0 = s.objective
        for _ in range(200):
            x = s.holdings.copy()
            x[1:-1] += rng.normal(scale=2e4, size=p.periods - 1)
            n = -np.diff(x)
            u = expected_cost_of(p, n) + lam * variance_of(p, x)
            assert u >= u0 - 1e-9 * abs(u0)


def test_cost_at_confidence():
    s = optimal_execution(ACParams(**PAPER, risk_aversion=1e-6))
    assert_allclose(s.cost_at(0.0), s.expected_cost)
    assert_allclose(s.cost_at_confidence(0.5), s.expected_cost, rtol=1e-15)
    assert_allclose(s.cost_at_confidence(0.95), s.expected_cost + 1.6448536269514722 * s.std,
                    rtol=1e-12)
    for bad in (0.0, 1.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="level"):
            s.cost_at_confidence(bad)


def test_arrays_are_read_only_and_shapes():
    s = optimal_execution(ACParams(**PAPER, risk_aversion=1e-6))
    assert s.holdings.shape == (6,) and s.trade_list.shape == (5,) and s.times.shape == (6,)
    with pytest.raises(ValueError):
        s.holdings[1] = 0.0
    d = s.to_dict()
    assert len(d["holdings"]) == 6 and len(d["trade_list"]) == 5


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("size", 0.0, "size"), ("size", float("nan"), "size"), ("horizon", -1.0, "horizon"),
     ("periods", 0, "periods"), ("periods", 2.5, "periods"), ("periods", True, "periods"),
     ("sigma", -0.1, "sigma"), ("epsilon", -1.0, "epsilon"), ("eta", 0.0, "eta"),
     ("gamma", -1e-9, "gamma"), ("risk_aversion", float("inf"), "risk_aversion")])
def test_validation_names_parameter(field, value, match):
    with pytest.raises(ValueError, match=match) as ei:
        ACParams(**{**PAPER, field: value})
    assert "allowed range" in str(ei.value)


def test_eta_tilde_must_be_positive():
    with pytest.raises(ValueError, match=r"eta_tilde.*eta=.*gamma=.*tau=") as ei:
        ACParams(**{**PAPER, "gamma": 2 * 2.5e-6})  # gamma tau / 2 = eta
    assert "> 0" in str(ei.value)


def test_direct_sum_validation():
    p = ACParams(**PAPER)
    with pytest.raises(ValueError, match="trade_list"):
        expected_cost_of(p, np.ones(4))
    with pytest.raises(ValueError, match="trade_list"):
        expected_cost_of(p, np.full(5, 1e5))  # sums to 5e5, not X
    with pytest.raises(ValueError, match="holdings"):
        variance_of(p, np.ones(5))
    with pytest.raises(ValueError, match=r"risk_aversions\[1\]"):
        frontier(p, [1e-6, p.min_risk_aversion * 2])


def test_frontier_timing_200_lambdas_N1000():
    """Vectorised closed forms: 200 lambdas for N = 1000 (figure reported in README)."""
    p = ACParams(**{**PAPER, "periods": 1000})
    lams = np.geomspace(1e-9, 1e-3, 200)
    frontier(p, lams)
    t0 = time.perf_counter()
    for _ in range(20):
        E, V = frontier(p, lams)
    per_call = (time.perf_counter() - t0) / 20
    assert per_call < 0.05  # measured ~0.2 ms; the margin is huge on purpose
    H = frontier_holdings(p, lams)
    assert H.shape == (200, 1001)
    for i in (0, 99, 199):
        s = optimal_execution(dataclasses.replace(p, risk_aversion=float(lams[i])))
        assert_allclose(H[i], s.holdings, rtol=1e-12, atol=1e-6)
        assert_allclose([E[i], V[i]], [s.expected_cost, s.variance], rtol=1e-12)


# ----------------------------------------------------------------------------- properties


@st.composite
def params(draw, lam_kind="any"):
    n = draw(st.integers(1, 300))
    size = draw(st.floats(1.0, 1e9))
    horizon = draw(st.floats(1e-2, 1e2))
    sigma = draw(st.floats(1e-3, 5.0))
    eta = draw(st.floats(1e-9, 1e-2))
    tau = horizon / n
    gamma = draw(st.floats(0.0, 0.99)) * 2 * eta / tau
    eps = draw(st.floats(0.0, 1.0))
    p = ACParams(size, horizon, n, sigma, eps, eta, gamma)
    if lam_kind == "pos" or (lam_kind == "any" and draw(st.booleans())):
        # kappa_tilde * tau spans 1e-6 .. 1e3
        y = 10 ** draw(st.floats(-12, 6))
        lam = y * p.eta_tilde / (sigma**2 * tau**2)
    else:
        lam = draw(st.floats(1e-6, 0.999)) * p.min_risk_aversion
    return dataclasses.replace(p, risk_aversion=lam)


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(params())
def test_schedule_invariants(p):
    s = optimal_execution(p)
    assert s.holdings[0] == p.size and s.holdings[-1] == 0.0
    assert np.all(np.isfinite(s.holdings)) and np.all(np.isfinite(s.trade_list))
    assert_allclose(s.trade_list.sum(), p.size, rtol=1e-9)
    assert_allclose(-np.diff(s.holdings), s.trade_list, rtol=0, atol=1e-9 * p.size)
    if p.risk_aversion >= 0:
        assert s.monotone and np.all(s.trade_list >= 0)
    assert_allclose(s.expected_cost, expected_cost_of(p, s.trade_list), rtol=1e-9)
    assert_allclose(s.variance, variance_of(p, s.holdings), rtol=1e-8,
                    atol=1e-12 * p.sigma**2 * p.horizon * p.size**2)


@SETTINGS
@given(params(lam_kind="pos"), st.floats(1.01, 100.0))
def test_larger_risk_aversion_front_loads(p, factor):
    s1 = optimal_execution(p)
    s2 = optimal_execution(dataclasses.replace(p, risk_aversion=p.risk_aversion * factor))
    assert np.all(s2.holdings <= s1.holdings + 1e-9 * p.size)
    assert s2.expected_cost >= s1.expected_cost * (1 - 1e-12)
    assert s2.variance <= s1.variance * (1 + 1e-9) + 1e-300


@SETTINGS
@given(params(lam_kind="pos"))
def test_frontier_monotone(p):
    """Along the efficient frontier (lambda >= 0) E rises and V falls; lambda < 0 is dominated."""
    lams = np.concatenate([[0.0], np.geomspace(1e-30, 1, 40) * p.risk_aversion * 1e10])
    E, V = frontier(p, lams)
    assert np.all(np.isfinite(E)) and np.all(np.isfinite(V))
    assert np.all(np.diff(E) >= -1e-9 * E[1:])
    assert np.all(np.diff(V) <= 1e-9 * V[:-1] + 1e-300)
    neg = np.linspace(p.min_risk_aversion, 0, 12)[1:-1]
    En, Vn = frontier(p, neg)
    assert np.all(En >= E[0] * (1 - 1e-12)) and np.all(Vn >= V[0] * (1 - 1e-9))


@SETTINGS
@given(params(lam_kind="pos"))
def test_lambda_to_zero_converges_to_twap(p):
    twap = twap_holdings(p)
    prev = np.inf
    for k in range(1, 8):
        lam = p.risk_aversion * 10.0 ** (-2 * k)
        s = optimal_execution(dataclasses.replace(p, risk_aversion=lam))
        dev = float(np.max(np.abs(s.holdings - twap)))
        assert dev <= prev + 1e-9 * p.size
        # |sinh(s u)/sinh(u) - s| <= s (1 - s^2) u^2 / 6 < u^2 / 10 with u = kappa T
        assert dev <= 0.1 * (s.kappa * p.horizon) ** 2 * p.size + 1e-12 * p.size
        prev = dev


# ----------------------------------------------------------------------------- CLI

CLI_ARGS = ["ac", "--size", "1e6", "--horizon", "5", "--periods", "5", "--sigma", "0.95",
            "--epsilon", "0.0625", "--eta", "2.5e-6", "--gamma", "2.5e-7"]


def test_cli_ac_json(capsys):
    import json

    from tradesim_nb.cli import main

    assert main([*CLI_ARGS, "--risk-aversion", "2e-6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    s = optimal_execution(ACParams(**PAPER, risk_aversion=2e-6))
    assert len(out["holdings"]) == 6 and len(out["trade_list"]) == 5
    assert_allclose(out["holdings"], s.holdings, rtol=1e-15)
    assert_allclose(out["trade_list"], s.trade_list, rtol=1e-15)
    for key in ("kappa", "expected_cost", "variance", "std", "half_life", "tau", "eta_tilde"):
        assert_allclose(out[key], getattr(s, key), rtol=1e-15)
    assert_allclose(out["cost_at_confidence"], s.cost_at_confidence(0.95), rtol=1e-15)


def test_cli_ac_table_and_linear_half_life(capsys):
    from tradesim_nb.cli import main

    assert main(CLI_ARGS) == 0
    text = capsys.readouterr().out
    assert "662,500.00" in text            # TWAP E of the paper's example
    assert "half-life inf" in text and "linear" in text
    assert text.count("200,000.00") == 6   # five equal trades + the holding x_4


def test_cli_ac_long_schedule_is_abbreviated(capsys):
    from tradesim_nb.cli import main

    assert main([*CLI_ARGS[:6], "500", *CLI_ARGS[7:], "--risk-aversion", "1e-6"]) == 0
    text = capsys.readouterr().out
    assert "..." in text and "\n    500 " in text


def test_cli_ac_bad_parameter(capsys):
    from tradesim_nb.cli import main

    assert main([*CLI_ARGS[:-1], "1.0"]) == 2   # gamma = 1 makes eta_tilde < 0
    err = capsys.readouterr().err
    assert "eta_tilde" in err and "gamma=1.0" in err


def test_cli_ac_negative_risk_aversion(capsys):
    import json

    from tradesim_nb.cli import main

    assert main([*CLI_ARGS, "--risk-aversion", "-2e-7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["regime"] == "trigonometric"
    s = optimal_execution(ACParams(**PAPER, risk_aversion=-2e-7))
    assert_allclose(out["holdings"], s.holdings, rtol=1e-15)
