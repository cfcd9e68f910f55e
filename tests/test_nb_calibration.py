"""The calibration explorer and the Monte Carlo panel of the AC explorer (no browser)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from nb_helpers import bundled_data

from tradesim_nb.nb.ac import DEFAULTS, ac_explorer, ac_monte_carlo
from tradesim_nb.nb.calibration import calibration_explorer


def test_calibration_explorer_fits_what_it_simulated():
    cal = calibration_explorer(n_orders=400, seed=3)
    assert cal.fits == 1
    assert cal.truth["eta"] == pytest.approx(2.5e-6)
    est = cal.fit.eta.estimate
    # 400 orders: the estimate is within a few standard errors of the truth
    assert abs(est - 2.5e-6) < 5 * cal.fit.eta.std_error
    assert "ts-cal-eta" in cal.table.value and f"{est:.4g}" in cal.table.value
    cal.w_eta.value = 1e-5  # a new truth: a new simulation and fit
    assert cal.fits == 2 and cal.truth["eta"] == pytest.approx(1e-5, rel=1e-9)
    assert abs(cal.fit.eta.estimate - 1e-5) < 5 * cal.fit.eta.std_error
    ratios = list(cal.src.data["ratio"])
    assert len(ratios) == 3 and all(0.5 < r < 1.5 for r in ratios[:2])


def test_ac_monte_carlo_agrees_with_the_model_within_its_errors():
    p = replace(DEFAULTS, periods=5)
    res = ac_monte_carlo(p, n_runs=120, seed=1)
    assert res.n == 120
    assert abs(res.z_mean) < 4  # realised mean vs E in standard errors
    assert abs(res.variance_ratio - 1) < 4 * res.std_error_variance / res.model_variance
    with pytest.raises(ValueError, match="n_runs"):
        ac_monte_carlo(p, n_runs=1)


def test_explorer_monte_carlo_button_reports_numbers():
    ex = ac_explorer(periods=5)
    res = ex.run_monte_carlo(n_runs=40, seed=0)
    assert ex.mc_result is res and "realised mean" in ex.mc_text.value
    assert f"${res.mean:,.0f}" in ex.mc_text.value
    assert math.isfinite(res.expected_cost)


def test_calibration_plot_carries_the_fit_to_the_first_view():
    """The widget's first picture already holds the ratios and intervals (it was blank)."""
    cal = calibration_explorer(n_orders=100)
    data = bundled_data(cal.plot, cal.src)
    assert data["param"] == ["eta", "gamma", "epsilon"]
    assert [round(r, 9) for r in data["ratio"]] == [
        round(cal.fit[k].estimate / cal.truth[k], 9) for k in data["param"]]
    assert all(lo <= r <= hi for lo, r, hi in zip(data["lo"], data["ratio"], data["hi"]))
