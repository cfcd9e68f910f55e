"""``tradesim bench book`` on a small slice of the real recordings: structure and agreement
of the three books (no timing assertions)."""

from __future__ import annotations

import json

import orjson
import pytest

from tradesim_nb.bench import book as bench_book
from tradesim_nb.cli import main


def test_okx_slice_all_books_agree() -> None:
    frames = bench_book.okx_frames(80)
    assert len(frames) == 80
    res = bench_book.bench_venue("okx", frames, passes=2)
    n_cks = sum(1 for _, f in frames if orjson.loads(f)["data"][0].get("checksum"))
    assert res["frames"] == 80 and res["updates"] + res["snapshots"] == 80
    assert res["snapshots"] == sum('"snapshot"' in f for _, f in frames) >= 1
    engines = [r["engine"] for r in res["rows"]]
    assert any(e.startswith("tradesim") for e in engines)
    assert any(e.startswith("order-book") for e in engines)
    assert any(e.startswith("SortedDict") for e in engines)
    for r in res["rows"]:
        assert r["median_us"] > 0 and r["p99_us"] >= r["median_us"]
        if r["checksum"]:
            assert (r["checksums_ok"], r["checksums_failed"]) == (n_cks, 0), r["engine"]
        ref = next(x for x in res["rows"] if x["engine"] == r["vs"])
        assert r["ratio_median"] == pytest.approx(r["median_us"] / ref["median_us"])
    # every engine ends with the same top 25 levels of every instrument
    tops = res["top25"]
    first = next(iter(tops.values()))
    assert first and all(len(b) == 25 and len(a) == 25 for b, a in first.values())
    for lab, t in tops.items():
        assert t == first, lab
    assert res["same_top25"]


def test_binance_slice_all_books_agree() -> None:
    frames = bench_book.binance_frames(60)
    assert frames[0][1].startswith('{"lastUpdateId"')
    res = bench_book.bench_venue("binance", frames, passes=1, checksum_rows=False)
    assert res["snapshots"] == 1 and res["updates"] == 59
    assert not any(r["checksum"] for r in res["rows"])
    tops = list(res["top25"].values())
    assert tops[0]["BTCUSDT"][0] and all(t == tops[0] for t in tops)


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["bench", "book", "--json", "--passes", "1", "--frames", "30", "--venue", "okx"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    okx = out["venues"]["okx"]
    assert okx["frames"] == 30 and okx["same_top25"] is True
    assert {"engine", "median_us", "p99_us", "ratio_median", "vs"} <= set(okx["rows"][0])
    assert "top25" not in okx
    assert main(["bench", "book", "--passes", "0"]) == 2


def test_goquant_frames_are_the_six_messages_in_scaled_variants() -> None:
    from tradesim_nb.datasets import goquant_samples

    frames = bench_book.goquant_frames(3)
    raw = [orjson.loads(p.read_bytes()) for p in goquant_samples()]
    assert len(frames) == 3 * len(raw) == 18
    assert frames == bench_book.goquant_frames(3)  # seeded: the same frames every run
    for i, (_, fr) in enumerate(frames):
        m, src = orjson.loads(fr), raw[i % len(raw)]
        assert m["symbol"] == src["symbol"]
        for side in ("bids", "asks"):
            assert [p for p, _ in m[side]] == [p for p, _ in src[side]]
            for (_, s), (_, s0) in zip(m[side], src[side]):
                assert 0.99 * float(s0) - 1e-6 <= float(s) <= 1.01 * float(s0) + 1e-6
                assert len(s.partition(".")[2]) <= 6 and not (("." in s) and s.endswith("0"))


def test_goquant_section_rows_and_ratios() -> None:
    res = bench_book.bench_goquant(bench_book.goquant_frames(2), passes=1)
    assert res["frames"] == 12 and res["levels_per_frame"] == 100
    engines = [r["engine"] for r in res["rows"]]
    assert engines[0].startswith("tradesim") and any(e.startswith("order-book") for e in engines)
    ref = next(r for r in res["rows"] if r["engine"] == r["vs"])
    for r in res["rows"]:
        assert r["median_us"] > 0 and r["p99_us"] >= r["median_us"]
        assert r["ratio_median"] == pytest.approx(r["median_us"] / ref["median_us"])


def test_limits_section_sanitizes_alike_in_both_books() -> None:
    res = bench_book.bench_limits(passes=1, crossed_levels=2_000, valid_levels=4_000)
    assert res["compiled"] is True
    assert res["removed"] == {"tradesim": [0, 1_000], "Python twin": [0, 1_000]}
    for case, d in res["ms"].items():
        assert all(v > 0 for v in d.values()), case
    assert set(res["ms"]["crossed snapshot: remove_crossed"]) == {"tradesim", "Python twin"}
