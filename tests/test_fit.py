"""tradesim fit on real data: the packaged Binance recording, whole and cut into files.

* on the packaged recording, the model file holds exactly today's default models (their
  hold-out figures, coefficients and training ranges) and the impact fit of ``tradesim
  calibrate``, and the simulator prices with it;
* cut into self-contained files, each file is a segment whose decisions and labels equal the
  continuous replay's up to the cut (the last labels come from the next file), and a local
  Dask cluster gives the same model file as the serial run;
* too little data, or no trades, is a clear error saying what is needed.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tradesim_nb.bench.fit import same_result, split_recording
from tradesim_nb.cli import main
from tradesim_nb.datasets import binance_spot_files
from tradesim_nb.fitting import (
    FitSettings,
    SegmentTask,
    build_segment,
    fit_files,
    plan_segments,
)
from tradesim_nb.impact import LinearImpact, fit_market_data, market_series_from_recording
from tradesim_nb.instruments import get_instrument
from tradesim_nb.models import ModelFile, load_models
from tradesim_nb.simulator import ImpactSettings, SimulatorModels, TradeSimulator
from tradesim_nb.training import load_binance_dataset

pytestmark = pytest.mark.slow

BINANCE = get_instrument("binance", "BTCUSDT")
#: a quicker fit for the tests that compare two runs (still every model, on real data)
QUICK = FitSettings(bootstrap=30, max_quantile_rows=2_000)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelFile, dict]:
    """``tradesim fit`` of the packaged recording, through the command line."""
    out = tmp_path_factory.mktemp("fit") / "binance.json"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["fit", *map(str, binance_spot_files()), "--venue", "binance", "--symbol",
                   "BTCUSDT", "--out", str(out), "--json"])
    assert rc == 0
    return load_models(out), json.loads(buf.getvalue())


@pytest.fixture(scope="module")
def pieces(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return split_recording(binance_spot_files(), tmp_path_factory.mktemp("split"), 3)


def test_the_packaged_recording_gives_todays_default_models(fitted) -> None:
    mf, rep = fitted
    ref = SimulatorModels.train()
    s, m = mf.models.slippage, mf.models.maker
    assert s.coef == ref.slippage.coef and s.quantile_coef == ref.slippage.quantile_coef
    assert s.feature_range == ref.slippage.feature_range and m.coef == ref.maker.coef
    for k in ("r2", "r2_walk_only", "n_test"):
        assert rep["slippage"][k] == ref.slippage.metrics[k]
    for k in ("auc", "log_loss", "log_loss_base"):
        assert rep["maker_taker"][k] == ref.maker.metrics[k]
    assert rep["slippage"]["coverage"]["q90"] == ref.slippage.metrics["q90"]["coverage"]
    assert rep["n_decisions"] == load_binance_dataset().n
    # the impact fit is tradesim calibrate's on the same files
    cal = fit_market_data(market_series_from_recording(binance_spot_files()))
    for name in ("eta", "gamma"):
        got = rep["impact"][name]
        assert got["estimate"] == pytest.approx(cal[name].estimate, rel=1e-9)
        assert 0 < got["ci_low"] < got["estimate"] < got["ci_high"]
    assert rep["impact"]["usable"] and rep["impact"]["problem"] is None
    # what the file says about its data
    assert [f["name"] for f in rep["files"]] == [p.name for p in binance_spot_files()]
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in rep["files"])
    assert 640 < rep["time_span"]["seconds"] < 660 and mf.fitted_on() == "binance:BTCUSDT"
    assert rep["out"].endswith("binance.json") and rep["segments"][0]["trades"] > 10_000


def test_the_simulator_prices_impact_with_the_fit(fitted) -> None:
    mf, _ = fitted
    from tradesim_nb.book import book_from_levels

    book = book_from_levels([(61_000.0, 5.0), (60_999.0, 5.0)],
                            [(61_001.0, 5.0), (61_002.0, 5.0)], BINANCE)
    sim = TradeSimulator(BINANCE, "buy", 500_000.0, models=mf, volatility_bps=1.0,
                         impact_settings=ImpactSettings(horizon_s=120.0, periods=4))
    e = sim.estimate(book, 1)
    assert e.impact_source == "model_file" and "model file binance.json" in e.impact_model
    # the same notional on the fitted market (mean mid S): E = x^2 (eta/T + gamma/2 (1-1/N))
    eta, gamma, s_bar = mf.impact.eta.estimate, mf.impact.gamma.estimate, mf.impact_mid
    x = 500_000.0 / s_bar
    assert_allclose(e.impact_usd, x * x * (eta / 120.0 + 0.5 * gamma * (1 - 1 / 4)),
                    rtol=1e-12)
    assert e.net_usd == e.slippage_usd + e.fee_usd + e.impact_usd and e.impact_usd > 0
    # typed parameters still win over the file's fit
    typed = TradeSimulator(BINANCE, "buy", 500_000.0, models=mf, volatility_bps=1.0,
                           impact=LinearImpact(eta=10.0, gamma=0.1))
    t = typed.estimate(book, 1)
    assert t.impact_source == "given" and t.impact_model == "almgren-chriss"


def test_each_file_is_a_segment_labelled_across_the_cut(pieces) -> None:
    segs = plan_segments(pieces, "binance", "BTCUSDT")
    assert [len(s) for s in segs] == [1, 1, 1]  # each file starts its own book
    # the packaged recording's second day continues the first day's book: one segment
    assert [len(s) for s in plan_segments(binance_spot_files(), "binance", "BTCUSDT")] == [2]
    first = build_segment(SegmentTask(0, segs[0], segs[1] + segs[2], "binance", "BTCUSDT",
                                      FitSettings())).dataset
    cont = load_binance_dataset()  # one replay of the whole recording
    n = first.n
    assert 300 < n < cont.n and np.array_equal(first.t_ns, cont.t_ns[:n])
    for f in ("market", "walk_bps", "realised_bps", "passive_frac"):
        assert np.array_equal(getattr(first, f), getattr(cont, f)[:n], equal_nan=True), f
    # the last decisions' labels needed the next file: without it they are missing
    alone = build_segment(SegmentTask(0, segs[0], (), "binance", "BTCUSDT",
                                      FitSettings())).dataset
    assert np.isnan(alone.passive_frac[-1]).all() and np.isfinite(first.passive_frac[-1]).all()


def test_dask_gives_the_serial_model_file(pieces) -> None:
    from dask.distributed import LocalCluster

    serial = fit_files(pieces, "binance", "BTCUSDT", settings=QUICK)
    # --workers 2: a local cluster of two processes, started and closed by the fit
    own = fit_files(pieces, "binance", "BTCUSDT", settings=QUICK, workers=2)
    assert same_result(serial, own)
    assert own.holdout["workers"] == 2 and len(own.holdout["segments"]) == 3
    # --scheduler ADDRESS: a cluster that is already running, left running
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        theirs = fit_files(pieces, "binance", "BTCUSDT", settings=QUICK,
                           scheduler=cluster.scheduler_address)
        assert cluster.status.name == "running"
    assert same_result(serial, theirs)
    assert serial.models.slippage.metrics["r2"] == theirs.models.slippage.metrics["r2"]
    # three segments, each warming up again: not the one-segment fit (the test is not vacuous)
    whole = load_binance_dataset()
    assert serial.holdout["n_decisions"] < whole.n


def test_too_little_data_says_how_much_is_needed(pieces, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    short = split_recording(pieces[:1], tmp_path / "short", 4)[0]  # about 40 s
    rc = main(["fit", str(short), "--venue", "binance", "--symbol", "BTCUSDT", "--json"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "too little data for a fit" in err and "at least 480" in err and "s of data" in err
    # no trades: the maker/taker model and the impact fit need them
    no_trades = tmp_path / "no_trades.gz"
    with gzip.open(pieces[0], "rt") as src, gzip.open(no_trades, "wt") as dst:
        for line in src:
            if "@trade" not in line:
                dst.write(line)
    with pytest.raises(ValueError, match=r"no trades.*trade stream"):
        fit_files([no_trades], "binance", "BTCUSDT", settings=QUICK)
    assert main(["fit", str(pieces[0]), "--venue", "binance", "--symbol", "ETHUSDT"]) == 2
    assert "no decisions sampled for symbol='ETHUSDT'" in capsys.readouterr().err


def test_cost_uses_the_model_file(fitted, capsys: pytest.CaptureFixture[str]) -> None:
    _, rep = fitted
    rc = main(["cost", "--source", str(binance_spot_files()[0]), "--usd", "200000",
               "--models", rep["out"], "--json"])
    assert rc == 0
    r = json.loads(capsys.readouterr().out)
    e = r["estimate"]
    assert e["impact_source"] == "model_file" and e["impact_usd"] > 0
    assert r["impact"]["source"] == "model_file" and r["models"]["matches_instrument"]
    assert r["models"]["fitted_on"] == "binance:BTCUSDT" and r["models"]["file"] == rep["out"]
    assert not e["extrapolated"] or e["walk_bps"] > 0
    assert math.isclose(e["net_usd"], e["slippage_usd"] + e["fee_usd"] + e["impact_usd"])
    assert r["summary"]["impact_sources"] == {"model_file": r["summary"]["estimates"]}
