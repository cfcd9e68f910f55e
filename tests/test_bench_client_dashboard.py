"""tradesim bench client --dashboard: the dashboard's own readout on its offline default, and
the same feed work back to back and spaced out."""

from __future__ import annotations

import asyncio
import math

from tradesim_nb.bench import client


def test_dashboard_readout_on_the_offline_default() -> None:
    from tradesim_nb.simulator import TradeSimulator

    d = asyncio.run(client._dashboard(100.0, 2.0, TradeSimulator.default_models()))
    assert d["rate"] == 100.0 and 120 <= d["frames"] <= 260  # about 100 frames a second
    assert 0 < d["applied_p50_us"] < d["estimate_p50_us"] <= d["estimate_p99_us"]
    assert d["ui_flushes"] >= 5  # the UI drew at its own rate meanwhile


def test_spacing() -> None:
    out = client._spacing((0.0, 0.001))
    assert [x["gap_s"] for x in out] == [0.0, 0.001]
    assert all(x["frames"] > 250 and math.isfinite(x["on_frame_p50_us"]) for x in out)


def test_machine_check() -> None:
    assert client._plain_work() == sum((100 + i / 10) * 1.5 for i in range(50))
    m = client._machine(n=20, gap_s=0.002)
    assert m["gap_s"] == 0.002
    for k in ("back_to_back", "after_sleep", "after_spin"):
        assert 0 < m[f"{k}_p50_us"] < 10_000
    assert m["spin_slowdown"] == m["after_spin_p50_us"] / m["back_to_back_p50_us"]
    assert "spinning" in client.format_table({
        "paced": [], "ceiling": {"frames_per_s": 1.0, "gaps_detected": 0,
                                 "checksum_failures": 0, "book_valid": True},
        "dashboard": [], "spacing": [], "machine_check": m, "load_avg_1m": 0.0})
