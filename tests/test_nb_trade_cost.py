"""The trade-cost dashboard against the local venue (loopback), without a browser."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tradesim_nb.nb.trade_cost import TradeCostDashboard, default_source, trade_cost_dashboard

pytestmark = pytest.mark.slow


def test_dashboard_streams_estimates_at_ui_rate_and_follows_inputs():
    async def main() -> dict:
        dash = await trade_cost_dashboard("okx", "BTC-USDT-SWAP", source="local",
                                          quantity_usd=100_000, local_rate_hz=100, rate_hz=10)
        try:
            await asyncio.sleep(2.0)
            out = {
                "banner": dash.banner.value, "source": dash.client.source,
                "frames": dash.client.frames, "flushes": dash.throttle.flushes,
                "requests": dash.throttle.requests, "drawn": dash.estimates_drawn,
                "rows": dash.series.buffer.total,
                "net_before": dash.simulator.latest.net_usd,
                "notional_before": dash.simulator.latest.notional_usd,
                "depth_points": len(dash.depth.view.data["ax"]),
                "hist_total": float(np.sum(dash.hist.data["count"])),
                "numbers": dash.numbers.value,
            }
            dash.w_qty.value = 1_000_000  # a slider change re-estimates at once
            out["net_after"] = dash.simulator.latest.net_usd
            out["notional_after"] = dash.simulator.latest.notional_usd
            dash.w_side.value = "sell"
            out["side_after"] = dash.simulator.latest.side
        finally:
            await dash.stop()
        out["tasks_left"] = len(dash.client.tasks)
        return out

    o = asyncio.run(main())
    assert "LOCAL VENUE" in o["banner"] and o["source"].startswith("local:ws://127.0.0.1")
    assert o["frames"] > 100  # ~100 frames/s for 2 s
    # many ticks, few UI updates: about 10 a second (+ the immediate ones on connect)
    assert o["requests"] > 100 and o["flushes"] <= 2.0 * 10 + 5
    assert o["drawn"] >= 10 and o["rows"] == o["drawn"]
    assert o["depth_points"] > 10 and o["hist_total"] > 50
    assert "net cost" in o["numbers"] and "internal latency" in o["numbers"]
    assert o["notional_before"] == pytest.approx(100_000)
    assert o["notional_after"] == pytest.approx(1_000_000)
    assert o["net_after"] > 5 * o["net_before"]
    assert o["side_after"] == "sell"
    assert o["tasks_left"] == 0


def test_source_is_validated(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRADESIM_LIVE_SOURCE", "local")
    assert default_source() == "local"
    monkeypatch.setenv("TRADESIM_LIVE_SOURCE", "ws://127.0.0.1:9/ws/v5/public")
    assert default_source() == "ws://127.0.0.1:9/ws/v5/public"  # e.g. `tradesim venue`
    monkeypatch.setenv("TRADESIM_LIVE_SOURCE", "moon")
    with pytest.raises(ValueError, match="TRADESIM_LIVE_SOURCE"):
        default_source()
    with pytest.raises(ValueError, match="symbol"):
        TradeCostDashboard("okx", "NOPE-USDT", source="local")
    with pytest.raises(ValueError, match="quantity_usd"):
        TradeCostDashboard("okx", "BTC-USDT-SWAP", source="local", quantity_usd=0)
