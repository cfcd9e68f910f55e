"""Almgren (2003) nonlinear impact: beta = 1 is Almgren-Chriss exactly; other exponents agree
with scipy's own optimiser on the same discrete objective; the frontier is a frontier."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import minimize

from tradesim_nb.costs.almgren_chriss import expected_cost_of, optimal_execution, variance_of
from tradesim_nb.impact.nonlinear import (
    NonlinearACParams,
    nonlinear_cost_of,
    nonlinear_frontier,
    nonlinear_optimal,
)

PAPER = NonlinearACParams(size=1e6, horizon=5.0, periods=25, sigma=0.95, epsilon=0.0625,
                          eta=2.5e-6, gamma=2.5e-7, beta=1.0, risk_aversion=1e-6)


def _u(p: NonlinearACParams, x_inner: np.ndarray) -> float:
    """E + lambda V by the direct sums of the module docstring (written out again here)."""
    x = np.concatenate([[p.size], x_inner, [0.0]])
    n = x[:-1] - x[1:]
    tau = p.horizon / p.periods
    e = 0.5 * p.gamma * p.size**2 + sum(
        p.epsilon * abs(nk) + p.eta * tau * abs(nk / tau) ** (1 + p.beta) - 0.5 * p.gamma * nk**2
        for nk in n)
    return e + p.risk_aversion * p.sigma**2 * tau * float(np.sum(x[1:] ** 2))


def _du(p: NonlinearACParams, x_inner: np.ndarray) -> np.ndarray:
    """Its gradient in x_1..x_{N-1}: n_k = x_{k-1} - x_k depends on x_{k-1} (+) and x_k (-)."""
    x = np.concatenate([[p.size], x_inner, [0.0]])
    n = x[:-1] - x[1:]
    tau = p.horizon / p.periods
    dphi = p.epsilon + (1 + p.beta) * p.eta * (n / tau) ** p.beta - p.gamma * n
    return dphi[1:] - dphi[:-1] + 2 * p.risk_aversion * p.sigma**2 * tau * x_inner


@pytest.mark.parametrize("seed", range(8))
def test_beta_one_is_almgren_chriss(seed):
    rng = np.random.default_rng(seed)
    p = NonlinearACParams(size=float(rng.uniform(1e5, 1e7)), horizon=float(rng.uniform(1, 20)),
                          periods=int(rng.integers(1, 60)), sigma=float(rng.uniform(0, 2)),
                          epsilon=float(rng.uniform(0, 0.1)),
                          eta=float(10 ** rng.uniform(-7, -5)), gamma=0.0, beta=1.0,
                          risk_aversion=float(10 ** rng.uniform(-8, -5)))
    p = replace(p, gamma=float(rng.uniform(0, 1.5)) * p.eta / p.tau)  # eta_tilde > 0
    s = nonlinear_optimal(p)
    ac = optimal_execution(p.linear())
    np.testing.assert_allclose(s.holdings, ac.holdings, rtol=1e-10, atol=1e-10 * p.size)
    assert s.expected_cost == pytest.approx(ac.expected_cost, rel=1e-10)
    assert s.variance == pytest.approx(ac.variance, rel=1e-9, abs=1e-12 * ac.expected_cost**2)
    # and the direct sums agree with Almgren-Chriss's own
    assert nonlinear_cost_of(p, ac.trade_list) == pytest.approx(
        expected_cost_of(p.linear(), ac.trade_list), rel=1e-12)
    assert s.iterations <= 3  # a quadratic: Newton's first step is the answer


@pytest.mark.parametrize("beta", [0.3, 0.5, 0.6, 0.8, 1.5, 2.0])
def test_nonlinear_optimum_equals_scipy(beta):
    v_bar = PAPER.size / PAPER.horizon
    p = replace(PAPER, beta=beta, eta=PAPER.eta * v_bar ** (1 - beta),
                gamma=PAPER.gamma if beta <= 1 else 0.0)
    s = nonlinear_optimal(p)
    # scipy on holdings in units of X (x = X y), objective in units of its TWAP value
    y0 = 1 - np.arange(1, p.periods) / p.periods
    scale = _u(p, p.size * y0)
    res = minimize(lambda y: _u(p, p.size * y) / scale, y0,
                   jac=lambda y: _du(p, p.size * y) * p.size / scale,
                   method="BFGS", options={"gtol": 1e-11, "maxiter": 20000})
    x_num = p.size * res.x
    assert np.max(np.abs(_du(p, x_num))) * p.size / scale < 1e-7  # scipy did converge
    # to scipy's own precision (no closed form to compare with when beta != 1)
    np.testing.assert_allclose(s.holdings[1:-1], x_num, rtol=1e-6, atol=1e-7 * p.size)
    assert s.objective == pytest.approx(_u(p, x_num), rel=1e-10)
    assert s.objective <= _u(p, x_num) * (1 + 1e-13)  # never worse than scipy
    assert s.gradient_norm < 1e-12
    assert np.all(np.diff(s.holdings) < 0)


def test_frontier_trades_cost_for_risk():
    p = replace(PAPER, beta=0.6, eta=PAPER.eta * (PAPER.size / PAPER.horizon) ** 0.4)
    lam = np.array([0.0, 1e-7, 1e-6, 5e-6, 2e-5])
    e, v = nonlinear_frontier(p, lam[::-1])
    e, v = e[::-1], v[::-1]
    assert np.all(np.diff(e) > 0) and np.all(np.diff(v) < 0)
    for i, lam_i in enumerate(lam):
        s = nonlinear_optimal(replace(p, risk_aversion=float(lam_i)))
        assert s.expected_cost == pytest.approx(e[i], rel=1e-10)
    # lambda = 0 with a concave impact is still the linear schedule (phi convex: Jensen)
    s0 = nonlinear_optimal(replace(p, risk_aversion=0.0))
    np.testing.assert_allclose(-np.diff(s0.holdings), p.size / p.periods, rtol=1e-10)
    assert variance_of(p.linear(), s0.holdings) == pytest.approx(s0.variance, rel=1e-12)


def test_validation():
    with pytest.raises(ValueError, match="beta"):
        replace(PAPER, beta=0.0)
    with pytest.raises(ValueError, match="beta"):
        replace(PAPER, beta=2.5)
    with pytest.raises(ValueError, match="gamma"):
        replace(PAPER, beta=1.5)  # gamma > 0 with beta > 1: phi not convex near 0
    with pytest.raises(ValueError, match="gamma"):
        replace(PAPER, gamma=1.0)  # phi concave before n = X
    with pytest.raises(ValueError, match="risk_aversion"):
        replace(PAPER, risk_aversion=-1e-6)
    with pytest.raises(ValueError, match="trade_list"):
        nonlinear_cost_of(PAPER, np.ones(25))
    one = nonlinear_optimal(replace(PAPER, periods=1))
    assert one.trade_list.tolist() == [PAPER.size] and one.variance == 0.0
