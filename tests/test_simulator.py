"""TradeSimulator on real replays: finite, consistent numbers on every tick."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tradesim_nb.book import OrderBook, book_from_levels
from tradesim_nb.costs.almgren_chriss import ACParams, optimal_execution
from tradesim_nb.costs.fees import get_fee_schedule
from tradesim_nb.datasets import binance_spot_files, okx_books_file
from tradesim_nb.instruments import get_instrument
from tradesim_nb.recording import read_frames
from tradesim_nb.simulator import (
    CostEstimate,
    ImpactParams,
    SimulatorModels,
    TradeSimulator,
    model_cache_dir,
)
from tradesim_nb.venues import get_feed

BINANCE = get_instrument("binance", "BTCUSDT")
N_FRAMES = 15_000  # about 1.5 minutes of the Binance recording


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> SimulatorModels:
    return SimulatorModels.train()


def _check(e: CostEstimate) -> None:
    assert e.valid
    impact = ("impact_usd", "impact_bps")
    vals = [getattr(e, k) for k in e._fields
            if isinstance(getattr(e, k), float) and k not in impact]
    assert all(math.isfinite(v) for v in vals), e
    k = 1e4 / e.notional_usd
    if e.impact_source == "none":  # not estimated: NaN, said why, and left out of the net
        assert math.isnan(e.impact_usd) and math.isnan(e.impact_bps)
        assert e.impact_model.startswith("none: ")
        assert e.net_usd == e.slippage_usd + e.fee_usd
        assert_allclose(e.net_bps, e.slippage_bps + e.fee_bps, rtol=1e-9, atol=1e-9)
    else:
        assert e.impact_source in ("model_file", "given", "ticker_24h", "trades"), e
        assert math.isfinite(e.impact_usd) and e.impact_usd >= 0.0
        assert e.net_usd == e.slippage_usd + e.fee_usd + e.impact_usd
        assert_allclose(e.net_bps, e.slippage_bps + e.fee_bps + e.impact_bps, rtol=1e-9,
                        atol=1e-9)
    assert_allclose(e.slippage_usd * k, e.slippage_bps, rtol=1e-9, atol=1e-12)
    assert e.slippage_p50_bps <= e.slippage_p90_bps <= e.slippage_p95_bps
    assert 0.0 <= e.maker_share <= 1.0 and e.maker_share + e.taker_share == 1.0
    assert e.latency_ns > 0


def test_every_tick_of_a_binance_replay(models: SimulatorModels) -> None:
    sched = get_fee_schedule("binance", "spot")
    tier = sched.tier_names[0]
    sims = [
        TradeSimulator(BINANCE, "buy", 100.0, models=models, fee_tier=tier),
        TradeSimulator(BINANCE, "sell", 1e6, order_type="passive_then_aggressive",
                       models=models, history=500),
        TradeSimulator(BINANCE, "buy", 2.0, unit="base", models=models,
                       impact=ImpactParams(eta=0.05, gamma=1e-3, horizon_s=60, periods=6)),
    ]
    feed = get_feed("binance")
    n_est = 0
    for recv_ns, frame in itertools.islice(read_frames(*binance_spot_files()), N_FRAMES):
        events = feed.on_frame(frame, recv_ns)
        book = feed.books.get("BTCUSDT")
        if book is None:
            continue
        for s in sims:
            before = s.latest
            s.on_update(book, events, recv_ns)
            if book.valid:
                assert s.latest is not before
                _check(s.latest)
                n_est += 1
    assert n_est > 0.9 * 3 * N_FRAMES
    mkt, pas, base = sims
    assert len(pas.history) == 500 and len(mkt.history) == 10_000
    # a market order pays the taker fee of its tier, exactly
    e = mkt.latest
    assert_allclose(e.fee_bps, sched.tier(tier).taker_bps, rtol=1e-12)
    # the passive order pays the maker/taker mix of fees and a positive share fills passively
    ep = pas.latest
    t = sched.tier(pas.fee_tier)
    assert_allclose(ep.fee_bps, ep.maker_share * t.maker_bps + ep.taker_share * t.taker_bps,
                    rtol=1e-9)
    assert np.mean([h.maker_share for h in pas.history]) > 0.05
    # the base-sized order: 2 BTC at the mid, impact = Almgren-Chriss expected cost
    eb = base.latest
    assert_allclose(eb.qty_base, 2.0)
    ref = optimal_execution(ACParams(size=2.0, horizon=60, periods=6, sigma=0.0, epsilon=0.0,
                                     eta=0.05, gamma=1e-3)).expected_cost
    assert_allclose(eb.impact_usd, ref, rtol=1e-9)
    # live volatility estimate is positive once the mid has moved
    assert e.volatility_bps > 0
    df = mkt.history_frame()
    assert list(df.columns) == list(CostEstimate._fields) and len(df) == len(mkt.history)
    # the slippage models were trained on $1k-$1M orders of this recording: a $100 order is
    # an extrapolation on every tick, a $1M one only where the market left the training range
    assert all(h.extrapolated for h in mkt.history)
    assert np.mean([h.extrapolated for h in pas.history]) < 0.05


def test_okx_replay_all_instruments(models: SimulatorModels) -> None:
    feed = get_feed("okx")
    sims = {
        "BTC-USDT": TradeSimulator(get_instrument("okx", "BTC-USDT"), "buy", 5e4, models=models),
        "UNI-USD-SWAP": TradeSimulator(get_instrument("okx", "UNI-USD-SWAP"), "sell", 100.0,
                                       unit="contracts", models=models,
                                       order_type="passive_then_aggressive"),
    }
    for recv_ns, frame in read_frames(okx_books_file()):
        events = feed.on_frame(frame, recv_ns)
        for book in feed.books.values():
            for s in sims.values():
                s.on_update(book, events, recv_ns)
    for sym, s in sims.items():
        assert s.latest is not None and len(s.history) > 20, sym
        for e in s.history:
            _check(e)
    # 100 inverse contracts of 10 USD each are 1000 USD of notional
    assert_allclose(sims["UNI-USD-SWAP"].latest.notional_usd, 1000.0, rtol=1e-9)


def test_given_volatility_and_rule_of_thumb_impact(models: SimulatorModels) -> None:
    book = book_from_levels([(100.0, 5.0), (99.9, 50.0)], [(100.1, 5.0), (100.2, 50.0)], BINANCE)
    s = TradeSimulator(BINANCE, "buy", 1000.0, models=models, volatility_bps=2.5,
                       impact=ImpactParams(daily_volume_base=1e4, horizon_s=30.0),
                       fee_rates=(0.0, 0.001))
    s.on_update(book, [], 10**18)
    e = s.latest
    assert e is not None
    _check(e)
    assert e.volatility_bps == 2.5 and e.fee_usd == pytest.approx(1.0)
    spread, v, x = 0.1, 1e4, 1000.0 / book.mid
    eta, gamma = spread / (0.01 * v) * 86400.0, spread / (0.1 * v)
    ref = optimal_execution(ACParams(size=x, horizon=30.0, periods=1, sigma=0.0, epsilon=0.0,
                                     eta=eta, gamma=gamma)).expected_cost
    assert_allclose(e.impact_usd, ref, rtol=1e-9)


def test_invalid_book_and_other_symbols(models: SimulatorModels) -> None:
    s = TradeSimulator(BINANCE, "buy", 1000.0, models=models, fee_rates=(0.0, 0.001))
    stale = OrderBook(BINANCE)
    e = s.estimate(stale)
    assert not e.valid and math.isnan(e.net_usd)
    s.on_update(stale, [], 1)
    assert s.latest is None and s.skipped == 1
    other = book_from_levels([(1.0, 1.0)], [(1.1, 1.0)], get_instrument("okx", "BTC-USDT"))
    s.on_update(other, [], 2)
    assert s.ticks == 1
    s(book_from_levels([(100.0, 1.0)], [(100.1, 1.0)], BINANCE), [], 3)
    assert s.latest is not None and s.latest.valid and not s.latest.complete


def test_validation(models: SimulatorModels) -> None:
    with pytest.raises(ValueError, match="side='hold'"):
        TradeSimulator(BINANCE, "hold", 1.0, models=models)
    with pytest.raises(ValueError, match="quantity=-1"):
        TradeSimulator(BINANCE, "buy", -1.0, models=models)
    with pytest.raises(ValueError, match="order_type"):
        TradeSimulator(BINANCE, "buy", 1.0, models=models, order_type="iceberg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eta_tilde"):
        TradeSimulator(BINANCE, "buy", 1.0, models=models,
                       impact=ImpactParams(eta=1e-3, gamma=1.0, horizon_s=60.0))
    with pytest.raises(ValueError, match="tier="):
        TradeSimulator(BINANCE, "buy", 1.0, models=models, fee_tier="no such tier")
    with pytest.raises(ValueError, match="periods=0"):
        ImpactParams(periods=0)


def test_models_json_round_trip_and_cache(models: SimulatorModels, tmp_path,
                                          monkeypatch) -> None:
    p = tmp_path / "m.json"
    models.save(p)
    assert SimulatorModels.load(p) == models
    monkeypatch.setenv("TRADESIM_CACHE", str(tmp_path / "cache"))
    assert model_cache_dir() == tmp_path / "cache"
    first = TradeSimulator.default_models()  # trains from the recording, writes JSON
    files = list((tmp_path / "cache").glob("models-v*.json"))
    assert len(files) == 1
    again = TradeSimulator.default_models()  # reads the JSON back
    assert again == first
    assert first.slippage.coef == models.slippage.coef  # deterministic training


def test_rule_of_thumb_waits_for_a_daily_volume(models: SimulatorModels) -> None:
    book = book_from_levels([(100.0, 5.0)], [(100.1, 5.0)], BINANCE)
    s = TradeSimulator(BINANCE, "buy", 1000.0, models=models, fee_rates=(0.0, 0.001))
    s.on_update(book, [], 10**18)
    assert s.latest is not None and math.isnan(s.latest.impact_usd)  # unknown is not 0
    assert s.latest.impact_source == "none"
    assert s.latest.impact_model.startswith("none: no daily volume yet")
    assert s.latest.net_usd == s.latest.slippage_usd + s.latest.fee_usd  # excl. impact
    given = TradeSimulator(BINANCE, "buy", 1000.0, models=models, fee_rates=(0.0, 0.001),
                           impact=ImpactParams(eta=0.01, gamma=1e-4))
    given.on_update(book, [], 10**18)
    assert given.latest is not None and given.latest.impact_model == "almgren-chriss"
    assert given.latest.impact_usd > 0 and given.latest.impact_source == "given"


def test_cli_cost_replays_a_recording(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tradesim_nb.cli import main

    rc = main(["cost", "--source", str(okx_books_file()), "-i", "BTC-USDT", "--usd", "5000",
               "--side", "sell", "--order-type", "passive_then_aggressive", "--json"])
    assert rc == 0
    r = json.loads(capsys.readouterr().out)
    assert r["venue"] == "okx" and r["instrument"] == "BTC-USDT" and r["frames"] == 410
    e = r["estimate"]
    assert e["valid"] and e["notional_usd"] == 5000.0
    assert e["net_usd"] == pytest.approx(e["slippage_usd"] + e["fee_usd"] + e["impact_usd"])
    assert r["summary"]["estimates"] > 100
    assert main(["cost", "--source", "no/such/file.gz"]) == 2
    capsys.readouterr()


def test_cli_cost_on_the_local_live_venue(capsys: pytest.CaptureFixture[str]) -> None:
    """The live path: the client starts a venue on 127.0.0.1 and stops it at the end."""
    import json

    from tradesim_nb.cli import main

    rc = main(["cost", "--source", "local", "--usd", "1000", "--duration", "2", "--json"])
    assert rc == 0
    r = json.loads(capsys.readouterr().out)
    assert r["source"].startswith("local:ws://127.0.0.1")
    assert r["estimate"]["valid"] and r["summary"]["estimates"] > 10
    # impact: a positive number with its source named (the local venue's 24-hour ticker)
    e = r["estimate"]
    assert e["impact_source"] == "ticker_24h" and e["impact_usd"] > 0
    assert r["impact"] == {"source": "ticker_24h", "model": e["impact_model"], "estimated": True,
                           "usd": e["impact_usd"], "bps": e["impact_bps"]}
    assert e["net_usd"] == pytest.approx(e["slippage_usd"] + e["fee_usd"] + e["impact_usd"])
