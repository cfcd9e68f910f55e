"""Transient impact: Obizhaeva-Wang's closed forms and the propagator optimum against direct
numerical optimisation (scipy) of the same discrete problem, the limits, and the
price-manipulation check."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import minimize

from tradesim_nb.costs.almgren_chriss import ACParams, optimal_execution
from tradesim_nb.impact.transient import (
    BoxKernel,
    ExponentialKernel,
    GaussianKernel,
    OWParams,
    PowerLawKernel,
    TransientParams,
    holdings_variance,
    manipulation_check,
    ow_continuous,
    ow_optimal,
    propagator_optimal,
    trade_grid,
    transient_cost,
)


def _direct_cost(p: TransientParams, times: np.ndarray, n: np.ndarray, spread: bool = True
                 ) -> float:
    """E + lambda V by explicit loops over the pairs of trades and the holding intervals
    (``spread=False`` leaves out epsilon*sum|n|, epsilon*X for any monotone schedule)."""
    g = p.kernel
    tot = p.epsilon * float(np.abs(n).sum()) if spread else 0.0
    for i in range(n.size):
        for j in range(n.size):
            gij = p.permanent + p.transient * float(g(abs(times[i] - times[j])))
            tot += 0.5 * gij * n[i] * n[j]
    x = p.size
    for j in range(n.size):
        x -= n[j]
        nxt = times[j + 1] if j + 1 < n.size else p.horizon
        tot += p.risk_aversion * p.sigma**2 * (nxt - times[j]) * x * x
    return tot


def _scipy_optimum(p: TransientParams, times: np.ndarray) -> np.ndarray:
    """Minimise the direct objective over n_1..n_{M-1} (n_M = X - sum) with scipy.

    trust-exact with the objective's exact gradient and Hessian (finite differences of a
    quadratic are exact up to rounding; both are formed from the direct objective by
    polarisation, not from the model's matrices)."""
    m = times.size
    x0 = np.full(m - 1, p.size / m)

    def full(z: np.ndarray) -> np.ndarray:
        return np.append(z, p.size - z.sum())

    def f(z: np.ndarray) -> float:
        return _direct_cost(p, times, full(z), spread=False) / p.size**2

    # quadratic in z: Hessian and gradient from evaluations of f (polarisation identities)
    h = 1.0 * p.size
    f0 = f(np.zeros(m - 1))
    e = np.eye(m - 1) * h
    fi = np.array([f(e[i]) for i in range(m - 1)])
    fmi = np.array([f(-e[i]) for i in range(m - 1)])
    hess = np.empty((m - 1, m - 1))
    for i in range(m - 1):
        for j in range(i, m - 1):
            hess[i, j] = hess[j, i] = (f(e[i] + e[j]) - fi[i] - fi[j] + f0) / h**2
    lin = (fi - fmi) / (2 * h)  # gradient at 0

    res = minimize(f, x0, jac=lambda z: lin + hess @ z, hess=lambda z: hess,
                   method="trust-exact", options={"gtol": 1e-15, "maxiter": 200})
    return full(res.x)


def _random_ow(rng: np.random.Generator) -> OWParams:
    q = float(np.exp(rng.uniform(np.log(1e2), np.log(1e5))))
    return OWParams(size=float(rng.uniform(0.5, 2.0) * q), horizon=float(rng.uniform(0.5, 20)),
                    periods=int(rng.integers(1, 16)), depth=q,
                    resilience=float(np.exp(rng.uniform(np.log(0.05), np.log(5.0)))),
                    permanent=float(rng.uniform(0, 0.9)) / q, epsilon=float(rng.uniform(0, 0.05)),
                    sigma=float(rng.uniform(0, 0.5)))


@pytest.mark.parametrize("seed", range(8))
def test_ow_closed_form_equals_scipy_on_random_parameters(seed):
    p = _random_ow(np.random.default_rng(seed))
    s = ow_optimal(p)
    tp = p.transient_params()
    num = _scipy_optimum(tp, s.times)
    np.testing.assert_allclose(s.trade_list, num, rtol=1e-8, atol=1e-8 * p.size)
    e_num = _direct_cost(tp, s.times, num)
    assert s.expected_cost == pytest.approx(e_num, rel=1e-8)
    assert s.expected_cost == pytest.approx(_direct_cost(tp, s.times, np.array(s.trade_list)),
                                            rel=1e-12)
    assert s.trade_list.sum() == pytest.approx(p.size, rel=1e-12)
    assert s.variance == pytest.approx(holdings_variance(s.times, s.trade_list, p.horizon,
                                                         p.sigma), rel=1e-12)
    # blocks at both ends, a constant rate between
    assert s.trade_list[0] == s.trade_list[-1] == s.initial_block
    if p.periods > 1:
        assert np.ptp(s.trade_list[1:-1]) <= 1e-12 * p.size
        assert s.trade_list[1] < s.trade_list[0]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kernel_kind", ["exponential", "power"])
def test_propagator_optimum_equals_scipy(seed, kernel_kind):
    rng = np.random.default_rng(100 + seed)
    t_end = float(rng.uniform(1, 30))
    kernel = (ExponentialKernel(float(rng.uniform(0.05, 3.0))) if kernel_kind == "exponential"
              else PowerLawKernel(float(rng.uniform(0.1, 3.0)), float(rng.uniform(0.1, 1.5))))
    # a risk-averse case in half of the draws
    lam = 0.0 if seed % 2 == 0 else float(rng.uniform(1e-7, 1e-5))
    p = TransientParams(size=float(rng.uniform(1e3, 1e5)), horizon=t_end, kernel=kernel,
                        transient=float(rng.uniform(1e-6, 1e-4)),
                        permanent=float(rng.uniform(0, 5e-5)), epsilon=0.01,
                        sigma=float(rng.uniform(0.01, 1.0)), risk_aversion=lam)
    times = np.sort(rng.uniform(0, t_end, int(rng.integers(3, 14))))
    s = propagator_optimal(p, times)
    num = _scipy_optimum(p, times)
    np.testing.assert_allclose(s.trade_list, num, rtol=1e-8, atol=1e-8 * p.size)
    assert s.expected_cost + lam * s.variance == pytest.approx(
        _direct_cost(p, times, num), rel=1e-8)
    assert s.expected_cost == pytest.approx(transient_cost(p, times, s.trade_list), rel=1e-12)


def test_exponential_kernel_is_obizhaeva_wang():
    p = OWParams(size=5e4, horizon=10.0, periods=20, depth=2e4, resilience=0.7,
                 permanent=1e-5, epsilon=0.02, sigma=0.3)
    ow = ow_optimal(p)
    pr = propagator_optimal(p.transient_params(), trade_grid(10.0, 20))
    np.testing.assert_allclose(pr.trade_list, ow.trade_list, rtol=1e-12)
    assert pr.expected_cost == pytest.approx(ow.expected_cost, rel=1e-13)
    assert pr.variance == pytest.approx(ow.variance, rel=1e-12)
    assert pr.monotone


def test_ow_limits_rho_to_infinity_and_to_zero():
    base = dict(size=3e4, horizon=8.0, periods=12, depth=1e4, permanent=2e-5, epsilon=0.01)
    x, q, n = 3e4, 1e4, 12
    kappa = 1 / q - 2e-5
    # rho -> infinity: the book refills between trades: N+1 equal trades, the AC cost with
    # eta/tau = 1/(2q) on N+1 periods
    fast = ow_optimal(OWParams(resilience=1e4, **base))
    np.testing.assert_allclose(fast.trade_list, x / (n + 1), rtol=1e-12)
    assert fast.expected_cost == pytest.approx(
        0.01 * x + 0.5 * 2e-5 * x**2 + kappa * x**2 / (2 * (n + 1)), rel=1e-12)
    tau = 1.0
    ac = optimal_execution(ACParams(size=x, horizon=(n + 1) * tau, periods=n + 1, sigma=0.0,
                                    epsilon=0.01, eta=tau / (2 * q), gamma=2e-5))
    assert fast.expected_cost == pytest.approx(ac.expected_cost, rel=1e-12)
    # rho -> 0: nothing refills: X/2 at each end, and every schedule costs X^2/(2q) + eps X
    slow = ow_optimal(OWParams(resilience=1e-12, **base))
    np.testing.assert_allclose(slow.trade_list[[0, -1]], x / 2, rtol=1e-9)
    assert np.all(slow.trade_list[1:-1] < 1e-9 * x)
    assert slow.expected_cost == pytest.approx(0.01 * x + x**2 / (2 * q), rel=1e-9)
    twap = np.full(n + 1, x / (n + 1))
    tp = OWParams(resilience=1e-12, **base).transient_params()
    assert transient_cost(tp, trade_grid(8.0, n), twap) == pytest.approx(
        0.01 * x + x**2 / (2 * q), rel=1e-9)
    # in between, the optimum beats TWAP strictly
    mid = OWParams(resilience=0.5, **base)
    assert ow_optimal(mid).expected_cost < transient_cost(mid.transient_params(),
                                                          trade_grid(8.0, n), twap)


def test_ow_discrete_converges_to_continuous():
    p = OWParams(size=1e4, horizon=5.0, periods=1, depth=5e3, resilience=0.8,
                 permanent=5e-5, epsilon=0.0, sigma=0.2)
    c = ow_continuous(p)
    assert c.initial_block == pytest.approx(1e4 / (0.8 * 5 + 2))
    assert c.rate == pytest.approx(0.8 * c.initial_block)
    assert c.initial_block + c.final_block + c.rate * 5.0 == pytest.approx(1e4, rel=1e-14)
    errs = []
    for n in (10, 100, 1000, 10000):
        d = ow_optimal(OWParams(size=1e4, horizon=5.0, periods=n, depth=5e3, resilience=0.8,
                                permanent=5e-5, sigma=0.2))
        errs.append(abs(d.expected_cost - c.expected_cost) / c.expected_cost)
        # first-order convergence of the blocks too: error ~ (rho T) / N relative
        assert abs(d.initial_block / c.initial_block - 1) < 0.8 * 4.0 / n
    assert errs[-1] < 1e-4
    assert all(b < a / 5 for a, b in itertools.pairwise(errs))  # O(1/N)
    fine = ow_optimal(OWParams(size=1e4, horizon=5.0, periods=20000, depth=5e3,
                               resilience=0.8, permanent=5e-5, sigma=0.2))
    assert fine.variance == pytest.approx(c.variance, rel=1e-3)
    assert float(c.holdings(5.0)) == 0.0


def test_manipulation_check_flags_bad_kernels_and_passes_good_ones():
    grid = trade_grid(10.0, 10)
    # box kernel: impact whole for 2.5 s then gone -- not positive definite
    box = manipulation_check(BoxKernel(2.5), grid)
    assert not box.positive_definite and not box.ok
    assert box.round_trip is not None and abs(float(box.round_trip.sum())) < 1e-12
    assert box.round_trip_cost < 0
    # the round trip really has negative expected cost in the model
    tp = TransientParams(size=1.0, horizon=10.0, kernel=BoxKernel(2.5), transient=1.0,
                         permanent=0.3)
    assert transient_cost(tp, grid, box.round_trip) == pytest.approx(box.round_trip_cost,
                                                                     rel=1e-10)
    with pytest.raises(ValueError, match="not positive definite"):
        propagator_optimal(tp, grid)
    assert "price manipulation" in box.message
    # Gaussian kernel: positive definite, yet the optimal sale buys at times (ASS 2012)
    gauss = manipulation_check(GaussianKernel(2.0), grid)
    assert gauss.positive_definite and gauss.transaction_triggered and not gauss.ok
    assert not gauss.convex_nonincreasing
    assert gauss.optimum is not None and gauss.optimum.min() < 0
    assert "transaction-triggered" in gauss.message
    # exponential and power-law kernels pass, on regular and irregular grids
    rng = np.random.default_rng(7)
    for _ in range(10):
        times = np.sort(rng.uniform(0, 20, int(rng.integers(3, 40))))
        for k in (ExponentialKernel(float(rng.uniform(0.01, 10))),
                  PowerLawKernel(float(rng.uniform(0.05, 5)), float(rng.uniform(0.05, 3)))):
            r = manipulation_check(k, times)
            assert r.ok and r.positive_definite and not r.transaction_triggered, k
            assert r.convex_nonincreasing and r.round_trip is None and r.round_trip_cost > 0
            assert r.optimum is not None and r.optimum.min() >= 0
            assert r.to_dict()["ok"] is True


def test_validation_names_the_parameter():
    with pytest.raises(ValueError, match="permanent"):
        OWParams(size=1.0, horizon=1.0, periods=2, depth=10.0, resilience=1.0, permanent=0.1)
    with pytest.raises(ValueError, match="resilience"):
        OWParams(size=1.0, horizon=1.0, periods=2, depth=10.0, resilience=0.0)
    with pytest.raises(ValueError, match="periods"):
        OWParams(size=1.0, horizon=1.0, periods=0, depth=10.0, resilience=1.0)
    with pytest.raises(ValueError, match="rate"):
        ExponentialKernel(-1.0)
    with pytest.raises(ValueError, match="exponent"):
        PowerLawKernel(1.0, 0.0)
    with pytest.raises(ValueError, match="kernel"):
        TransientParams(size=1.0, horizon=1.0, kernel="exp", transient=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        propagator_optimal(TransientParams(1.0, 1.0, ExponentialKernel(1.0), 1.0), [0.0, 0.0])
    with pytest.raises(ValueError, match="times"):
        transient_cost(TransientParams(1.0, 1.0, ExponentialKernel(1.0), 1.0), [0.0, 2.0],
                       [0.5, 0.5])
    p = TransientParams(1.0, 1.0, ExponentialKernel(1.0), 1.0)
    assert p.depth == pytest.approx(1.0)
    assert math.isclose(TransientParams(1.0, 1.0, ExponentialKernel(1.0), 1.0, 1.0).depth, 0.5)
