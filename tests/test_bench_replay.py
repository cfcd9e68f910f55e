"""tradesim bench replay: the Tardis file of the Binance recording into books, three engines."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import pytest
from bench_helpers import bench_args

from tradesim_nb.bench import replay
from tradesim_nb.formats.tardis import TardisReader


def _args(**kw: object) -> argparse.Namespace:
    return bench_args(replay, **kw)


def test_the_file_is_the_recording_as_tardis_rows(tmp_path: Path) -> None:
    p = tmp_path / "l2.csv.gz"
    n = replay.write_tardis_l2(p, repeat=2)
    lines = gzip.decompress(p.read_bytes()).decode().splitlines()
    assert lines[0] == ",".join(replay._HEADER) and len(lines) == n + 1
    assert n > 500_000 and n % 2 == 0
    r = TardisReader(p)
    books = r.replay_books()
    assert r.stats["rows"] == n and r.stats["snapshots"] == 2 and books["BTCUSDT"].valid
    with pytest.raises(ValueError, match="repeat=0"):
        replay.write_tardis_l2(p, repeat=0)


def test_engines_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    res = replay.run(_args(repeat=1, runs=1, long=2))
    by = {r["engine"]: r for r in res["engines"]}
    assert set(by) == set(replay.ENGINES) and res["peer"] == replay.PEER
    for r in by.values():
        assert r["rows"] == res["rows"] and r["same_book"], r["engine"]
        assert r["rows_per_s"] > 0 and r["peak_mb"] >= 0
    assert by[replay.PEER]["ratio_rows_per_s"] == 1.0
    col = by["tradesim columnar"]
    assert res["long_rows"] == 2 * res["rows"] and col["long_peak_mb"] >= 0
    # memory flat in the file's length: twice the rows, about the same peak (a wide margin)
    assert col["long_peak_mb"] < 1.5 * col["peak_mb"] + 50, col
    text = replay.format_table(res)
    assert "pandas chunks + dict book" in text and "load average" in text
    assert json.loads(json.dumps(res)) == res


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from tradesim_nb.cli import main

    assert main(["bench", "replay", "--json", "--repeat", "1", "--runs", "1", "--long", "0",
                 "--no-events"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["engine"] for r in out["engines"]] == ["tradesim columnar", replay.PEER]
    assert out["long_rows"] == 0
