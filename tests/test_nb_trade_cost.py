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


def test_impact_is_a_number_with_its_source_or_said_to_be_missing():
    async def main() -> dict:
        out = {}
        for venue in ("okx", "goquant"):
            dash = await trade_cost_dashboard(venue, "BTC-USDT-SWAP", source="local",
                                              local_rate_hz=100)
            try:
                await asyncio.sleep(1.5)
                dash.throttle.flush_now()
                out[venue] = (dash.simulator.latest, dash.numbers.value)
            finally:
                await dash.stop()
        return out

    o = asyncio.run(main())
    est, html = o["okx"]  # the offline default: the local venue's 24-hour ticker
    assert est.impact_source == "ticker_24h" and est.impact_usd > 0 and est.impact_bps > 0
    assert "source: <span class='ts-tc-impact-source'>rule of thumb on the 24-hour volume" in html
    assert "not estimated" not in html and "excl. impact" not in html
    est, html = o["goquant"]  # the relay: no trades, no ticker
    assert est.impact_source == "none" and np.isnan(est.impact_usd)
    assert "impact: not estimated (no daily volume (goquant sends no 24-hour ticker" in html
    assert "needs a calibration" in html and "net cost</b> (excl. impact)" in html
    assert "$0.00" not in html.split("market impact")[1].split("</tr>")[0]


@pytest.fixture
def cache_with_a_fit(tmp_path, monkeypatch):
    """A model cache holding the default models and one model file with an impact fit (the
    market-data fit of the packaged Binance recording)."""
    import dataclasses

    from tradesim_nb.datasets import binance_spot_files
    from tradesim_nb.impact import fit_market_data, market_series_from_recording
    from tradesim_nb.models import save_models
    from tradesim_nb.simulator import default_model_file

    default = default_model_file()
    monkeypatch.setenv("TRADESIM_CACHE", str(tmp_path / "cache"))
    save_models(default, tmp_path / "cache" / default.path.name)
    fit = fit_market_data(market_series_from_recording(binance_spot_files()), bootstrap=20)
    mf = dataclasses.replace(default, impact=fit, config={"test": True})
    return save_models(mf, tmp_path / "cache" / "fit-binance-BTCUSDT-test.json")


def test_models_selector_lists_the_cache_and_the_model_file_prices_impact(cache_with_a_fit):
    path = cache_with_a_fit
    label = "binance:BTCUSDT"

    async def main() -> dict:
        out = {}
        dash = await trade_cost_dashboard("okx", "BTC-USDT-SWAP", source="local")
        try:
            out["options"] = list(dash.w_models.options)
            out["default_value"] = dash.w_models.value
            dash.w_models.value = label  # another instrument's file: used, and flagged
            await asyncio.sleep(0.5)
            out["okx"] = (dash.simulator.latest, dash.w_models_info.value)
        finally:
            await dash.stop()
        dash = await trade_cost_dashboard("binance", "BTCUSDT", source="local", models=path)
        try:
            await asyncio.sleep(0.5)
            out["binance"] = (dash.w_models.value, dash.simulator.latest,
                              dash.w_models_info.value, dash.numbers.value)
        finally:
            await dash.stop()
        return out

    o = asyncio.run(main())
    assert o["options"][0].startswith("bundled default") and label in o["options"]
    assert len(o["options"]) == 2 and o["default_value"].startswith("bundled default")
    est, info = o["okx"]
    assert est.impact_source == "model_file" and est.extrapolated and est.impact_usd > 0
    assert "fitted on binance:BTCUSDT, not on this instrument" in info
    value, est, info, html = o["binance"]
    assert value == label and est.impact_source == "model_file"
    assert "not on this instrument" not in info and "hold-out R²" in info
    assert "fit-binance-BTCUSDT-test.json" in info
    assert "source: <span class='ts-tc-impact-source'>model file" in html
