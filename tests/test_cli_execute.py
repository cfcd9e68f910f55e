"""``tradesim schedule`` and ``tradesim execute``."""

from __future__ import annotations

import json

import pytest

from tradesim_nb.cli import main

SCHED = ["schedule", "--size", "16.2", "--horizon", "60", "--periods", "12", "--depth", "0.6",
         "--resilience", "0.9", "--permanent-share", "0.43", "--sigma", "7.6",
         "--kernel-exponent", "0.18", "--tau0", "0.5", "--impact-exponent", "0.96",
         "--risk-aversion", "5e-5"]


def test_schedule_each_optimum_wins_under_its_own_model(capsys):
    assert main([*SCHED, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    exp = out["expected"]
    # risk-neutral OW optimum is the cheapest in expectation under OW; the risk-averse optima
    # buy a lower sqrt(V) with a higher E
    assert exp["OW optimal"]["OW"] == min(e["OW"] for e in exp.values())
    assert exp["AC optimal"]["sqrtV"] < exp["TWAP"]["sqrtV"]
    assert exp["AC optimal"]["AC"] > exp["TWAP"]["AC"]
    assert out["manipulation_check"]["ok"] is True
    sizes = out["schedules"]["OW optimal"]["sizes"]
    assert len(sizes) == 13 and sum(sizes) == pytest.approx(16.2)
    assert main(SCHED) == 0
    text = capsys.readouterr().out
    assert "no price manipulation" in text and "propagator optimal" in text


def test_schedule_rejects_bad_parameters(capsys):
    bad = [a if a != "0.43" else "1.2" for a in SCHED]
    assert main(bad) == 2
    assert "permanent_share" in capsys.readouterr().err


def test_execute_on_the_shipped_recording(capsys):
    assert main(["execute", "--bootstrap", "20", "--every", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["schedule"]: r for r in out["table"]}
    assert {"TWAP", "VWAP", "POV", "AC optimal", "OW optimal", "immediate"} <= set(rows)
    assert all(r["starts"] == len(out["starts"]) >= 5 for r in rows.values())
    assert out["fee_bps"] == 10.0 and out["source"] == "binance:BTCUSDT"
    assert rows["TWAP"]["impact"] > rows["TWAP"]["impact_untouched"]
    assert out["fits"]["resilience"]["resilience"]["estimate"] > 0
