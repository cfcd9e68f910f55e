"""The one Schedule type: TWAP, VWAP from a volume profile, POV and the model optima."""

from __future__ import annotations

import numpy as np
import pytest

from tradesim_nb.costs.almgren_chriss import ACParams, optimal_execution, variance_of
from tradesim_nb.execution import Schedule, volume_profile
from tradesim_nb.impact.transient import OWParams, ow_optimal


def test_twap_and_ac_share_the_grid_and_the_variance():
    p = ACParams(size=1e6, horizon=5.0, periods=5, sigma=0.95, epsilon=0.0625, eta=2.5e-6,
                 gamma=2.5e-7, risk_aversion=1e-6)
    ac = Schedule.from_ac(p)
    tw = Schedule.twap(1e6, 5.0, 5)
    np.testing.assert_allclose(ac.times, [0, 1, 2, 3, 4])
    np.testing.assert_allclose(tw.times, ac.times)
    np.testing.assert_allclose(tw.sizes, 2e5)
    sol = optimal_execution(p)
    np.testing.assert_allclose(ac.holdings, sol.holdings, rtol=1e-12, atol=1e-6)
    assert ac.variance(0.95) == pytest.approx(sol.variance, rel=1e-12)
    assert tw.variance(0.95) == pytest.approx(variance_of(p, tw.holdings), rel=1e-12)
    assert ac.size == pytest.approx(1e6) and ac.monotone and ac.kind == "ac"
    assert list(ac.to_frame().columns) == ["time", "size", "holdings_after"]
    assert Schedule.immediate(1e6, 5.0).variance(0.95) == 0.0


def test_ow_schedule_has_both_blocks():
    p = OWParams(size=1e4, horizon=10.0, periods=10, depth=5e3, resilience=0.5)
    s = Schedule.from_ow(p)
    assert s.children == 11 and s.times[-1] == 10.0
    np.testing.assert_allclose(s.sizes, ow_optimal(p).trade_list)


def test_volume_profile_uses_only_earlier_windows():
    # volume 1 in the first half of every 10 s window, 3 in the second half
    t = np.arange(0.0, 100.0, 0.5)
    q = np.where((t % 10) < 5, 1.0, 3.0)
    w = volume_profile(t, q, 50.0, 10.0, 2)
    np.testing.assert_allclose(w, [10.0, 30.0])
    # trades at or after the start never enter
    q2 = q.copy()
    q2[t >= 50] = 1e9
    np.testing.assert_allclose(volume_profile(t, q2, 50.0, 10.0, 2), w)
    np.testing.assert_allclose(volume_profile(t, q, 50.0, 10.0, 2, lookback=1), [10.0, 30.0])
    v = Schedule.vwap(8.0, 10.0, w)
    np.testing.assert_allclose(v.sizes, [2.0, 6.0])
    with pytest.raises(ValueError, match="start"):
        volume_profile(t, q, 5.0, 10.0, 2)
    with pytest.raises(ValueError, match="profile"):
        Schedule.vwap(8.0, 10.0, [0.0, 0.0])


def test_pov_follows_volume_and_completes():
    s = Schedule.pov(10.0, 4.0, [4.0, 8.0, 0.0, 2.0], rate=0.2)
    # r/(1-r) = 0.25 of the previous period's volume, the last child the remainder
    np.testing.assert_allclose(s.sizes, [1.0, 2.0, 0.0, 7.0])
    assert s.size == pytest.approx(10.0)
    big = Schedule.pov(1.0, 4.0, [40.0, 8.0, 8.0, 8.0], rate=0.5)
    np.testing.assert_allclose(big.sizes, [1.0, 0.0, 0.0, 0.0])  # capped at what remains
    with pytest.raises(ValueError, match="rate"):
        Schedule.pov(1.0, 4.0, [1.0, 1.0], rate=1.0)


def test_validation():
    with pytest.raises(ValueError, match="times"):
        Schedule("x", np.array([0.0, 0.0]), np.array([1.0, 1.0]), 1.0)
    with pytest.raises(ValueError, match="times"):
        Schedule("x", np.array([0.0, 2.0]), np.array([1.0, 1.0]), 1.0)
    with pytest.raises(ValueError, match="sizes"):
        Schedule("x", np.array([0.0, 0.5]), np.array([1.0, -1.0]), 1.0)
    with pytest.raises(ValueError, match="periods"):
        Schedule.twap(1.0, 1.0, 0)
    s = Schedule("x", np.array([0.0, 0.5]), np.array([2.0, -1.0]), 1.0)
    assert not s.monotone and s.size == 1.0
    assert s.scaled(3.0).sizes.tolist() == [6.0, -3.0]
