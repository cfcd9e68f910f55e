"""The notebook-06 explorer: its state follows the sliders, comes from the package's models,
and its Bokeh widget is created with the data already in it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tradesim_nb.execution import ExecutionModels, Schedule
from tradesim_nb.nb.transient import TransientExplorer, compute_state, replay_starts
from tradesim_nb.resilient_market import ResilientMarket, ResilientMarketParams

P = ResilientMarketParams()


@pytest.fixture(scope="module")
def tape():
    return ResilientMarket(P, seed=1, duration_s=120.0).tape(dt_s=0.5)


@pytest.fixture(scope="module")
def base():
    return ExecutionModels.from_params(size=60.0, horizon=20.0, periods=10, depth=P.depth,
                                       resilience=P.resilience, permanent_share=0.25,
                                       sigma=P.sigma, kernel_exponent=0.4, tau0=0.5,
                                       risk_aversion=1e-3)


def test_state_is_the_models(tape, base):
    mid = float(np.nanmean(tape.mid))
    st = compute_state(base, mid=mid, notional=60.0 * mid, horizon=20.0, periods=10,
                       resilience=0.5, impact_exponent=0.8, kernel_exponent=0.4,
                       risk_aversion=1.0, profile=lambda t, n: np.ones(n))
    assert list(st.schedules) == ["TWAP", "VWAP", "AC optimal", "OW optimal",
                                  "propagator optimal", "nonlinear AC optimal"]
    m = st.models
    assert m.size == pytest.approx(60.0) and m.nonlinear.beta == 0.8
    # each optimum is the cheapest under its own (risk-neutral) model or beats TWAP's E+lambda V
    e = st.expected
    assert e["OW optimal"]["OW"] == min(v["OW"] for v in e.values())
    np.testing.assert_allclose(st.schedules["VWAP"].sizes, st.schedules["TWAP"].sizes)
    assert st.manipulation.ok
    assert st.family is not None and np.all(np.diff(st.family["sqrtV"]) <= 1e-9)
    assert st.bps(st.notional) == 1e4


def test_explorer_widget_is_born_with_its_data(tape, base):
    ex = TransientExplorer(tape, base, notional=60.0 * float(np.nanmean(tape.mid)),
                           every_s=10.0)
    # the render bundle (what a late front end such as Voila draws first) holds the data
    bundle = json.dumps(ex.plot.render_bundle["docs_json"])
    held = ex.state.schedules["OW optimal"].holdings
    assert repr(float(held[1])) in bundle and repr(float(held[2])) in bundle
    assert ex.comparison is not None and ex.replays == 1
    assert len(ex.src_real.data["cost"]) == ex.comparison.starts_s.size * len(ex.comparison.names)
    assert "replayed 6 schedules" in ex.replay_text.value
    # sliders drive the state
    n0 = ex.updates
    ex.sliders["periods"].value = 5
    assert ex.updates == n0 + 1 and ex.state.schedules["TWAP"].children == 5
    assert len(ex.src_kids["OW optimal"].data["n"]) == 6
    e0 = ex.state.expected["AC optimal"]["AC"]
    ex.sliders["risk_aversion"].value = 1e-2
    assert ex.state.expected["AC optimal"]["AC"] > e0
    # a nonlinear model that is not convex: said on screen, the others stay
    ex.sliders["impact_exponent"].value = 0.3
    if ex.state.nonlinear_error:
        assert "nonlinear AC left out" in ex.message.value
        assert "nonlinear AC optimal" not in ex.state.schedules
        assert math.isnan(ex.state.expected["TWAP"]["nonlinear"])
    cmp = ex.run_replay(every_s=20.0)
    assert cmp.starts_s.size == replay_starts(tape, ex.state.models.horizon, 20.0).size
    assert ex.replays == 2


def test_invalid_parameters_are_reported_not_raised(tape, base):
    ex = TransientExplorer(tape, base, notional=60.0 * float(np.nanmean(tape.mid)),
                           replay_on_start=False)
    assert ex.comparison is None
    ex.sliders["horizon"].value = 300.0  # longer than the 120 s tape allows for a replay
    ex._on_replay(None)
    assert "cannot replay" in ex.replay_text.value
    s = Schedule.twap(60.0, 300.0, 10)
    assert s.horizon == 300.0
