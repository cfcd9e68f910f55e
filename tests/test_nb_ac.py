"""The Almgren-Chriss explorer: its state follows the sliders and matches the core module."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from nb_helpers import bundled_data

from tradesim_nb.costs.almgren_chriss import frontier, optimal_execution
from tradesim_nb.nb.ac import DEFAULTS, ac_explorer, benchmarks, compute_state, frontier_grid


def test_benchmarks_bracket_the_optimum():
    p = DEFAULTS
    b = benchmarks(p)
    sol = optimal_execution(p)
    e_twap, s_twap = b["twap"]
    e_imm, s_imm = b["immediate"]
    assert s_imm == 0.0
    # TWAP: the least expected cost, the most risk; immediate: the reverse
    assert e_twap < sol.expected_cost < e_imm
    assert s_imm < sol.std < s_twap
    # immediate execution in closed form: 1/2 gamma X^2 + eps X + eta_tilde X^2 / tau
    expect = 0.5 * p.gamma * p.size**2 + p.epsilon * p.size + p.eta_tilde * p.size**2 / p.tau
    assert math.isclose(e_imm, expect, rel_tol=1e-12)
    # TWAP equals the lambda = 0 optimum
    s0 = optimal_execution(replace(p, risk_aversion=0.0))
    assert math.isclose(e_twap, s0.expected_cost, rel_tol=1e-9)


def test_frontier_grid_spans_twap_to_near_immediate_and_is_monotone():
    p = DEFAULTS
    lam = frontier_grid(p, 80)
    assert lam[0] == 0.0 and p.risk_aversion in lam
    e, v = frontier(p, lam)
    assert np.all(np.diff(e) >= -1e-6 * e[-1]) and np.all(np.diff(v) <= 1e-6 * v[0])
    b = benchmarks(p)
    assert math.isclose(e[0], b["twap"][0], rel_tol=1e-9)
    assert e[-1] > 0.5 * b["immediate"][0]  # the far end is close to selling at once
    with pytest.raises(ValueError, match="n="):
        frontier_grid(p, 1)


def test_explorer_follows_its_sliders():
    ex = ac_explorer()
    e0 = ex.state.solution.expected_cost
    assert f"${e0:,.0f}" in ex.numbers.value
    ex.sliders["risk_aversion"].value = 1e-5
    assert ex.updates == 2 and ex.state.params.risk_aversion == pytest.approx(1e-5)
    assert ex.state.solution.expected_cost > e0  # more risk-averse: faster, dearer
    # the plots carry the new schedule (the kernel-side sources, no browser here)
    np.testing.assert_allclose(ex.src_opt.data["x"], ex.state.solution.holdings)
    assert len(ex.src_trades.data["n"]) == ex.state.params.periods
    ex.sliders["periods"].value = 10
    assert len(ex.src_trades.data["n"]) == 10


def test_explorer_reports_invalid_parameters_on_screen():
    ex = ac_explorer()
    good = ex.state
    ex.sliders["eta"].value = 1e-8
    ex.sliders["gamma"].value = 1e-5  # eta_tilde = eta - gamma*tau/2 < 0
    assert "eta_tilde" in ex.error and "invalid" in ex.message.value
    assert ex.state is good  # the last valid state stays on screen


def test_compute_state_matches_core():
    p = replace(DEFAULTS, periods=7, risk_aversion=3e-6)
    st = compute_state(p)
    sol = optimal_execution(p)
    assert st.solution.expected_cost == sol.expected_cost
    np.testing.assert_allclose(st.frontier_std**2, frontier(p, st.frontier_lambda)[1])


def test_explorer_plots_carry_their_data_to_the_first_view():
    """The widget's first picture (``render_bundle``) already holds the schedule: a front
    end that builds its view from it draws lines at once (they were blank, issue 10)."""
    ex = ac_explorer()
    sol = ex.state.solution
    np.testing.assert_allclose(bundled_data(ex.plot, ex.src_opt)["x"], sol.holdings)
    np.testing.assert_allclose(bundled_data(ex.plot, ex.src_trades)["n"], sol.trade_list)
    assert len(bundled_data(ex.plot, ex.src_front)["E"]) == len(ex.state.frontier_cost) > 100
    assert ex.plot.resends == 0
