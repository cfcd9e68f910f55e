"""The model file: validated on load; a bad cache is replaced, a bad user file is refused.

Each bad-cache case ends with a warning naming the file and a correct estimate (the same as
with freshly trained models); each bad user file gets an error naming the file and the field.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from tradesim_nb import models as M
from tradesim_nb.book import OrderBook
from tradesim_nb.datasets import binance_spot_files
from tradesim_nb.instruments import get_instrument
from tradesim_nb.models import ModelFile, ModelFileError, ModelFileWarning, load_models
from tradesim_nb.recording import read_frames
from tradesim_nb.simulator import (
    ImpactSettings,
    SimulatorModels,
    TradeSimulator,
    default_model_file,
    default_model_path,
)
from tradesim_nb.venues import get_feed

BINANCE = get_instrument("binance", "BTCUSDT")


@pytest.fixture(scope="module")
def trained() -> SimulatorModels:
    return SimulatorModels.train()


@pytest.fixture(scope="module")
def book() -> OrderBook:
    """The real Binance book after its first 3,000 frames."""
    feed = get_feed("binance")
    for i, (t, f) in enumerate(read_frames(*binance_spot_files())):
        feed.on_frame(f, t)
        if i >= 3000:
            break
    b = feed.books["BTCUSDT"]
    assert b.valid
    return b


def _untimed(m: SimulatorModels) -> dict[str, Any]:
    d = copy.deepcopy(m.to_dict())
    for k in ("slippage", "maker"):
        d[k]["metrics"].pop("fit_s")
    return d


def _estimate(models: Any, book: OrderBook) -> Any:
    sim = TradeSimulator(BINANCE, "buy", 250_000.0, models=models, volatility_bps=1.0,
                         fee_rates=(0.0, 0.001),
                         impact_settings=ImpactSettings(daily_volume_base=20_000.0))
    return sim.estimate(book, 1)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trained: SimulatorModels) -> Path:
    """An empty model cache; training returns the module's trained models (the training
    itself is tested by test_default_models_are_trained_and_read_back)."""
    monkeypatch.setenv("TRADESIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(SimulatorModels, "train", classmethod(lambda cls, *a, **k: trained))
    return tmp_path / "cache"


def test_default_models_are_trained_and_read_back(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  trained: SimulatorModels) -> None:
    monkeypatch.setenv("TRADESIM_CACHE", str(tmp_path / "c"))
    first = default_model_file()
    assert first.path == default_model_path() and first.path.exists()
    assert _untimed(first.models) == _untimed(trained)  # training is deterministic
    assert first.impact is None and first.fitted_on() == "binance:BTCUSDT"
    assert [f["name"] for f in first.files] == [p.name for p in binance_spot_files()]
    again = load_models(first.path)
    assert again == first and again.holdout["slippage"]["r2"] == trained.slippage.metrics["r2"]


def _corrupt(case: str, d: dict[str, Any]) -> str:
    """Damage a model file's dict; returns the field the error must name."""
    s = d["models"]["slippage"]
    if case == "wrong type":
        s["coef"] = "0.9, 0.1"  # a string where numbers belong: today a TypeError
        return "models.slippage.coef"
    if case == "nan":
        s["quantile_coef"][1][0] = math.nan
        return "models.slippage.quantile_coef[1][0]"
    if case == "huge":
        s["coef"][0] = 1e300  # finite, but absurd costs marked valid
        return "models.slippage.coef"
    if case == "infinite range":
        s["feature_range"][1][1] = math.inf  # the extrapolation flag would never fire
        return "models.slippage.feature_range[1][1]"
    if case == "missing":
        del d["models"]["maker"]["intercept"]
        return "models.maker.intercept"
    if case == "features":
        d["models"]["maker"]["feature_names"][0] = "log_notional"
        return "models.maker.feature_names"
    raise AssertionError(case)


CASES = ["wrong type", "nan", "huge", "infinite range", "missing", "features"]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_cache_is_named_moved_aside_and_retrained(case: str, cache: Path,
                                                        book: OrderBook,
                                                        trained: SimulatorModels) -> None:
    good = default_model_file()
    path = default_model_path()
    d = json.loads(path.read_text())
    field = _corrupt(case, d)
    path.write_text(json.dumps(d, allow_nan=True))  # as an old writer could have
    with pytest.warns(ModelFileWarning, match=path.name) as rec:
        models = TradeSimulator.default_models()
    assert field in str(rec[0].message)
    assert (path.parent / (path.name + ".bad")).exists()  # kept for a look, out of the way
    assert load_models(path) == good  # a fresh, valid cache
    e, ref = _estimate(models, book), _estimate(trained, book)
    assert e.valid and math.isfinite(e.net_bps) and e.net_bps > 0 and not e.extrapolated
    assert e.impact_source == "given" and e.impact_usd > 0
    assert e == ref._replace(latency_ns=e.latency_ns)


@pytest.mark.parametrize("case", CASES)
def test_a_bad_user_file_names_the_file_and_field(case: str, cache: Path,
                                                  tmp_path: Path) -> None:
    d = json.loads(default_model_file().path.read_text())
    field = _corrupt(case, d)
    bad = tmp_path / "mine.json"
    bad.write_text(json.dumps(d, allow_nan=True))
    with pytest.raises(ModelFileError, match=field.replace("[", r"\[").replace("]", r"\]")) as ei:
        load_models(bad)
    assert str(bad) in str(ei.value) and ei.value.field == field
    with pytest.raises(ModelFileError, match=r"mine\.json"):
        TradeSimulator(BINANCE, "buy", 1e4, models=bad)  # a path is loaded the same way


def test_other_file_problems(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    from tradesim_nb.cli import main

    p = tmp_path / "m.json"
    p.write_text("{not json")
    with pytest.raises(ModelFileError, match=r"m\.json: \(file\): not valid JSON"):
        load_models(p)
    good = default_model_file().path.read_bytes()
    p.write_bytes(good)
    monkeypatch.setattr(M, "MAX_MODEL_FILE_BYTES", len(good) - 1)
    with pytest.raises(ModelFileError, match="a model file may have"):
        load_models(p)
    monkeypatch.setattr(M, "MAX_MODEL_FILE_BYTES", 16 * 1024 * 1024)
    d = json.loads(good)
    d["version"] = 99
    p.write_text(json.dumps(d))
    with pytest.raises(ModelFileError, match="version: 99"):
        load_models(p)
    d["version"] = 1
    d["files"][0]["sha256"] = "abc"
    p.write_text(json.dumps(d))
    with pytest.raises(ModelFileError, match=r"files\[0\]\.sha256"):
        load_models(p)
    # the command line says it in one line, exit status 2
    assert main(["cost", "--source", str(binance_spot_files()[0]), "--models", str(p)]) == 2
    err = capsys.readouterr().err
    assert "m.json" in err and "files[0].sha256" in err and "Traceback" not in err


def test_round_trip_and_other_instrument(cache: Path, tmp_path: Path, book: OrderBook) -> None:
    mf = default_model_file()
    p = M.save_models(mf, tmp_path / "copy.json")
    back = load_models(p)
    assert back == mf and back.path == p and back.name == "copy.json"
    okx = get_instrument("okx", "BTC-USDT-SWAP")
    with pytest.warns(ModelFileWarning, match=r"fitted on binance:BTCUSDT, not on "
                                              r"okx:BTC-USDT-SWAP"):
        sim = TradeSimulator(okx, "buy", 1e5, models=back, volatility_bps=1.0)
    assert sim.foreign_models and sim.model_file is back
    # on its own instrument no warning and no flag
    own = TradeSimulator(BINANCE, "buy", 250_000.0, models=back, volatility_bps=1.0)
    assert not own.foreign_models and not own.estimate(book, 1).extrapolated
    assert isinstance(back, ModelFile) and back.impact_problem() == ("the model file holds no "
                                                                     "impact fit")
