from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tradesim_nb import datasets
from tradesim_nb.recording import RecordingWriter, read_frames, read_header


def test_roundtrip_own_format(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl.gz"
    frames = ['{"a":1}', "pong", '{"b":"x\\ny"}', "unicode \u00e9"]
    with RecordingWriter(p, venue="okx", url="ws://127.0.0.1:1/x", symbols=["BTC-USDT"]) as w:
        for i, f in enumerate(frames):
            w.write(1_000 + i, f)
    assert read_header(p)["venue"] == "okx"
    assert list(read_frames(p)) == [(1_000 + i, f) for i, f in enumerate(frames)]


def test_reads_both_recorded_layouts() -> None:
    okx = list(read_frames(datasets.okx_books_file()))
    # the URL-prefixed lines are the client's own requests and are skipped
    raw = datasets.okx_books_file().read_text().splitlines()
    received = [ln for ln in raw if ln[:1].isdigit()]
    assert len(okx) == len(received)
    # "<epoch_s>:" is converted digit by digit, exactly (a float would round to 256 ns)
    whole, frac = received[0].split(":")[0].split(".")
    assert okx[0][0] == int(whole) * 10**9 + int(frac.ljust(9, "0"))
    b = datasets.binance_spot_files()[0]
    first = next(read_frames(b))
    with gzip.open(b, "rt") as fh:
        line = fh.readline()
    assert first == (int(line.split(" ", 1)[0]), line.split(" ", 1)[1].rstrip("\n"))


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"recv_ns": 1, "frame": "x"}\n{"recv_ns": \n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        list(read_frames(p))


def test_missing_data_dir_says_where_it_looked(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("TRADESIM_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        datasets.data_dir()


def test_datasets_are_packaged_with_their_licenses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADESIM_DATA", raising=False)
    root = datasets.packaged_dir()
    assert root.is_relative_to(Path(datasets.__file__).parent)
    for d in datasets.DATASETS.values():
        assert (root / d.name / d.license_file).read_text().strip()
        for p in d.paths():
            assert p.parent == root / d.name and p.stat().st_size > 0
    assert len(datasets.goquant_samples()) == 6
    assert "kraken-ws-v1-20210417" in datasets.describe()


def test_user_data_folder_overrides_a_packaged_file(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    own = tmp_path / "okx-v5-public-20220513" / "okx_ws_v5_public.log"
    own.parent.mkdir()
    own.write_text("1652459225.1: {}\n")
    monkeypatch.setenv("TRADESIM_DATA", str(tmp_path))
    assert datasets.okx_books_file() == own
    # files the user folder lacks still come from the package
    assert datasets.binance_spot_files()[0].parent == (
        datasets.packaged_dir() / "binance-btcusdt-spot-20240808")
