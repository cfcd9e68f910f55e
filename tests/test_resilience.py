"""Fits of resilience, kernel exponent and book depth, on data whose truth is known: the
resilient synthetic market and a simulated propagator series."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

from tradesim_nb.impact.resilience import fit_book_depth, fit_resilience, kernel_from_series
from tradesim_nb.resilient_market import ResilientMarket, ResilientMarketParams

P = ResilientMarketParams()  # rho = 0.5/s, q = 500, gamma = 5e-4, 2 orders/s of mean 2 units


def test_resilience_interval_covers_the_truth_in_90_percent_of_seeds():
    seeds = range(40)
    covered = 0
    est = []
    for s in seeds:
        tape = ResilientMarket(P, seed=s, duration_s=600.0).tape(levels=2)
        f = fit_resilience(tape, band_bps=5.0, quantile=0.9, bootstrap=60, seed=s)
        e = f["resilience"]
        assert e.ci_low < e.estimate < e.ci_high
        covered += e.covers(P.resilience)
        est.append(e.estimate)
    assert covered >= 0.9 * len(seeds), f"covered {covered} of {len(seeds)}"
    assert np.mean(est) == pytest.approx(P.resilience, rel=0.1)


def test_resilience_fit_reports_its_curve_and_amplitude():
    tape = ResilientMarket(P, seed=99, duration_s=600.0).tape(levels=2)
    f = fit_resilience(tape, band_bps=5.0, quantile=0.9, bootstrap=40)
    info = dict(f.info)
    assert info["events"] > 50 and len(info["deficit_per_unit"]) == len(info["lags_s"])
    # the deficit of the depth around the book's mid is half the side's taken liquidity:
    # amplitude (1 - gamma q)/2
    assert f["amplitude"].estimate == pytest.approx(0.5 * P.taken_share, rel=0.2)
    assert f["half_life"].estimate == pytest.approx(np.log(2) / f["resilience"].estimate)
    assert "resilience fit" in f.summary()
    with pytest.raises(ValueError, match="quantile"):
        fit_resilience(tape, quantile=1.5)
    with pytest.raises(ValueError, match="bps"):
        fit_resilience(tape, band_bps=3.0)


def _propagator_series(seed: int, n: int = 3000, dt: float = 0.5, beta: float = 0.4):
    """Mid = sum of G(lag) * signed volume + Brownian noise, G = 2 (1 + l/0.5)^-beta."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(n) * rng.exponential(1.0, n)
    lag = (np.arange(n) + 0.5) * dt
    g = 2.0 * (1 + lag / 0.5) ** (-beta)
    mid = 100 + fftconvolve(q, g)[:n] + np.cumsum(rng.standard_normal(n)) * np.sqrt(dt)
    t = np.arange(n) * dt
    return t, mid, t[1:] - 0.25 * dt, q[1:]


def test_kernel_exponent_interval_covers_the_truth():
    covered = 0
    for s in range(16):
        t, mid, tt, q = _propagator_series(s, n=2400)
        f = kernel_from_series(t, mid, tt, q, dt_s=0.5, max_lag_s=15.0, bootstrap=50,
                               block_s=30.0, seed=s)
        covered += f["exponent"].covers(0.4)
        assert f["amplitude"].estimate == pytest.approx(2.0, rel=0.15)
        assert f["tau0"].fixed
    assert covered >= 14, covered  # of 16


def test_book_depth_recovers_the_density():
    tape = ResilientMarket(P, seed=3, duration_s=60.0).tape(dt_s=0.5)
    f = fit_book_depth(tape, 20.0, bootstrap=40)
    assert f["depth"].estimate == pytest.approx(P.depth, rel=0.02)
    assert f["power_exponent"].estimate == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError, match="max_size"):
        fit_book_depth(tape, -1.0)
