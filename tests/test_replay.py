"""``replay()`` and ``tradesim replay`` on the real OKX recording and GoQuant samples."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import orjson
import pytest

from tradesim_nb import datasets
from tradesim_nb.cli import main
from tradesim_nb.recording import read_frames
from tradesim_nb.replay import iter_frames, replay

KEYS = {"frames", "checksum_ok", "checksum_failed", "gaps", "resyncs", "crossed", "top_match",
        "top_mismatch", "best_bid", "best_bid_size", "best_ask", "best_ask_size"}


def _okx_books_counts() -> Counter[str]:
    c: Counter[str] = Counter()
    for _, f in read_frames(datasets.okx_books_file()):
        m = orjson.loads(f)
        if m.get("arg", {}).get("channel") == "books" and "data" in m:
            c[m["arg"]["instId"]] += 1
    return c


def test_replay_okx_report() -> None:
    rep = replay(datasets.okx_books_file(), "okx")
    counts = _okx_books_counts()
    assert set(rep["instruments"]) == set(counts)
    for sym, n in counts.items():
        d = rep["instruments"][sym]
        assert set(d) >= KEYS
        assert d["frames"] == n == d["checksum_ok"]
        assert d["checksum_failed"] == d["gaps"] == d["resyncs"] == d["crossed"] == 0
        assert d["best_bid"] < d["best_ask"] and d["book_valid"]
    assert rep["frames"] == sum(1 for _ in read_frames(datasets.okx_books_file()))
    assert rep["malformed"] == {} and rep["needs_resync"] == []
    assert rep["us_per_frame"] > 0


def test_replay_goquant_documents() -> None:
    files = datasets.goquant_samples()
    assert [f for _, f in iter_frames(files)] == [p.read_text().lstrip() for p in files]
    rep = replay(files, "goquant")
    btc = rep["instruments"]["BTC-USDT-SWAP"]
    assert rep["frames"] == 6 and btc["frames"] == 4 and btc["crossed"] == 3
    assert rep["instruments"]["ETH-USDT-SWAP"]["crossed"] == 0
    assert btc["crossed_removed_levels"] == 6  # two stale asks in each crossed sample


def test_replay_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="venue"):
        replay(datasets.okx_books_file(), "nasdaq")
    with pytest.raises(FileNotFoundError):
        replay(tmp_path / "nope.log", "okx")
    with pytest.raises(ValueError, match="paths"):
        replay([], "okx")


def test_cli_json_okx(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["replay", str(datasets.okx_books_file()), "--venue", "okx", "--json"])
    assert rc == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object
    rep = json.loads(out)
    counts = _okx_books_counts()
    assert {s: d["checksum_ok"] for s, d in rep["instruments"].items()} == dict(counts)
    assert isinstance(rep["us_per_frame"], float)


def test_cli_json_goquant_sanitize_switch(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in datasets.goquant_samples()]
    btc1 = [f for f in files if f.endswith("btc_response_1.json")]
    assert main(["replay", *btc1, "--venue", "goquant", "--json"]) == 0
    on = json.loads(capsys.readouterr().out)["instruments"]["BTC-USDT-SWAP"]
    assert main(["replay", *btc1, "--venue", "goquant", "--json", "--no-sanitize"]) == 0
    off = json.loads(capsys.readouterr().out)["instruments"]["BTC-USDT-SWAP"]
    assert on["crossed"] == off["crossed"] == 1
    assert on["book_valid"] and not off["book_valid"]
    assert off["best_ask"] < off["best_bid"] < on["best_ask"]


def test_cli_table_and_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["replay", str(datasets.okx_books_file()), "--venue", "okx"]) == 0
    out = capsys.readouterr().out
    for sym in _okx_books_counts():
        assert sym in out
    assert "us/frame" in out
    assert main(["replay", str(tmp_path / "missing.log"), "--venue", "okx"]) == 2
    assert "missing.log" in capsys.readouterr().err


def test_cli_counts_malformed_in_a_damaged_copy(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    lines = datasets.okx_books_file().read_text().splitlines()
    k = next(i for i, ln in enumerate(lines) if '"action":"update"' in ln)
    lines[k] = lines[k][: len(lines[k]) // 2]
    p = tmp_path / "damaged.log"
    p.write_text("\n".join(lines) + "\n")
    assert main(["replay", str(p), "--venue", "okx", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["malformed"] == {"invalid_json": 1}
    # the truncated update's book (named by the frame's head) is stale from there on
    inst = lines[k].split('"instId":"', 1)[1].split('"', 1)[0]
    assert rep["needs_resync"] == [inst] and not rep["instruments"][inst]["book_valid"]


def test_cli_json_binance_uses_the_venue_feed(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in datasets.binance_spot_files()]
    diffs = sum('"depthUpdate"' in f for _, f in read_frames(*files))
    assert main(["replay", *files, "--venue", "binance", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    d = rep["instruments"]["BTCUSDT"]
    assert set(d) >= KEYS
    assert rep["frames"] == sum(1 for _ in read_frames(*files))
    assert 0 < d["frames"] <= diffs + 1 and d["gaps"] == 0 and d["book_valid"]
    assert d["best_bid"] < d["best_ask"]
