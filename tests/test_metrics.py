"""The latency ring: quantiles against numpy, wrap-around, skipped stages, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from tradesim_nb.metrics import STAGES, LatencyRing


def _fill(ring: LatencyRing, n: int, rng: np.random.Generator) -> np.ndarray:
    rows = []
    t = 1_000_000
    for _ in range(n):
        t += int(rng.integers(500_000, 1_500_000))  # ~1 ms apart
        p = t + int(rng.integers(1_000, 10_000))
        a = p + int(rng.integers(1_000, 50_000))
        e = a + int(rng.integers(1_000, 5_000))
        ring.record(t, p, a, e)
        rows.append((t, p, a, e))
    return np.array(rows, dtype=np.int64)


def test_quantiles_match_numpy_on_the_last_capacity_frames() -> None:
    rng = np.random.default_rng(3)
    ring = LatencyRing(1000)
    rows = _fill(ring, 2500, rng)
    assert len(ring) == 1000 and ring.total == 2500
    kept = rows[-1000:]
    np.testing.assert_array_equal(ring.stamps(), kept)
    s = ring.summary()
    for k, st in enumerate(STAGES, start=1):
        lat = (kept[:, k] - kept[:, 0]) / 1e3
        np.testing.assert_allclose(
            [s[f"{st}_p50_us"], s[f"{st}_p90_us"], s[f"{st}_p99_us"], s[f"{st}_max_us"]],
            [*np.percentile(lat, [50, 90, 99]), lat.max()])
    span_s = (kept[-1, 0] - kept[0, 0]) / 1e9
    assert s["frames_per_s"] == pytest.approx(999 / span_s)
    # latencies grow along the pipeline
    assert s["parsed_p50_us"] < s["applied_p50_us"] < s["estimate_p50_us"]


def test_stage_that_did_not_run_is_left_out() -> None:
    ring = LatencyRing(16)
    ring.record(1000, 2000, 5000, 0)
    ring.record(10_000, 11_000, 13_000, 20_000)
    assert ring.latencies_us("estimate").tolist() == [10.0]
    assert ring.latencies_us("applied").tolist() == [4.0, 3.0]
    empty = LatencyRing(4).summary()
    assert empty["frames_in_ring"] == 0 and np.isnan(empty["applied_p99_us"])


def test_memory_is_fixed_and_bad_input_is_named() -> None:
    ring = LatencyRing(64)
    arr_id = id(ring._stamps)
    _fill(ring, 10_000, np.random.default_rng(0))
    assert id(ring._stamps) == arr_id and ring._stamps.shape == (64, 4)
    with pytest.raises(ValueError, match="capacity"):
        LatencyRing(1)
    with pytest.raises(ValueError, match="stage"):
        ring.latencies_us("nope")


def test_the_last_seconds_only() -> None:
    ring = LatencyRing(8)
    for i in range(12):  # received 1 s apart; the ring keeps the last 8 (t = 4 ... 11 s)
        t = i * 1_000_000_000
        ring.record(t, t + 1000, t + 2000, t + 3000 + i * 1000)
    assert sorted(ring.latencies_us("estimate", last_s=2.5)) == [12.0, 13.0, 14.0]  # 9-11 s
    assert len(ring.latencies_us("estimate")) == 8
    with pytest.raises(ValueError, match="last_s"):
        ring.latencies_us("estimate", last_s=0)
