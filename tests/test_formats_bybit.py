"""Bybit's order-book archive and trade dumps, built from Bybit-shaped frames of the real replay."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest
from formats_helpers import (
    SYMBOL,
    bybit_messages,
    levels,
    native,
    write_bybit_archive,
    write_bybit_trades,
)

from tradesim_nb import formats, get_feed
from tradesim_nb.events import Trade
from tradesim_nb.formats import FormatError
from tradesim_nb.formats.bybit_archive import BybitArchiveReader
from tradesim_nb.recording import read_frames

LIMIT = 2500  # book states converted (of about 6,500): enough, and fast


@pytest.fixture(scope="module")
def messages() -> tuple[list[bytes], list]:
    return bybit_messages(depth=500, limit=LIMIT)


@pytest.mark.parametrize("zipped", [False, True])
def test_archive_replays_with_no_gap(tmp_path: Path, messages: tuple, zipped: bool) -> None:
    lines, tops = messages
    name = "2024-08-08_BTCUSDT_ob500.data" + (".zip" if zipped else "")
    p = write_bybit_archive(tmp_path / name, lines, zipped)
    d = formats.detect(p)
    assert d.format == "bybit-archive" and "orderbook.500.BTCUSDT" in d.detail
    assert ("zip member 2024-08-08_BTCUSDT_ob500.data" in d.detail) == zipped
    reader = formats.open_source(p)
    assert (reader.venue, reader.symbols) == ("bybit", (SYMBOL,))
    feed = get_feed("bybit")
    k = 0
    for recv_ns, item in reader:
        assert isinstance(item, str)
        assert recv_ns == orjson.loads(item)["ts"] * 1_000_000  # no local time: ts is it
        feed.on_frame(item, recv_ns)
        if k % 500 == 0 or k == len(lines) - 1:
            assert levels(feed.books[SYMBOL]) == tops[k], k
        k += 1
    assert k == len(lines) == reader.stats["frames"]
    st = feed.summary()["instruments"][SYMBOL]
    assert (st["gaps"], st["stale_dropped"], st["snapshots"]) == (0, 0, 1)
    assert st["deltas"] == len(lines) - 1 and not st["stale"] and st["book_valid"]
    assert feed.summary()["malformed"] == {}
    # the book kept by the 500-level window is the top 500 of the native (full) book
    assert levels(feed.books[SYMBOL]) == native().after[LIMIT - 1]


def test_a_missing_message_is_a_gap_the_feed_sees(tmp_path: Path, messages: tuple) -> None:
    lines = list(messages[0])
    del lines[300]
    p = write_bybit_archive(tmp_path / "x_ob500.data", lines, zipped=False)
    feed = get_feed("bybit")
    formats.consume(formats.open_source(p), feed)
    assert feed.summary()["instruments"][SYMBOL]["gaps"] == 1


def test_todays_recording_reader_refused_these_files(tmp_path: Path, messages: tuple) -> None:
    p = write_bybit_archive(tmp_path / "x_ob500.data", messages[0][:5], zipped=False)
    with pytest.raises(ValueError, match="not a recording line"):
        list(read_frames(p))  # the project's recording reader: not its format
    assert len(list(formats.open_source(p))) == 5


def test_several_members_and_trades_are_merged_by_time(tmp_path: Path, messages: tuple) -> None:
    lines = messages[0][:800]
    z = tmp_path / "2024-08-08_BTCUSDT_ob500.data.zip"
    with zipfile.ZipFile(z, "w") as zf:  # one day cut in two members, read by name
        zf.writestr("b_part2.data", b"\n".join(lines[400:]) + b"\n")
        zf.writestr("a_part1.data", b"\n".join(lines[:400]) + b"\n")
        zf.writestr("readme.txt", b"not data")
    t = tmp_path / "BTCUSDT2024-08-08.csv.gz"
    write_bybit_trades(t)
    reader = formats.open_source([z, t])
    assert reader.format == "bybit-archive"
    feed = get_feed("bybit")
    times = []
    for recv_ns, _ in formats.iter_events(reader, feed):
        times.append(recv_ns)
    assert times == sorted(times)
    st = feed.summary()["instruments"][SYMBOL]
    assert st["gaps"] == 0 and st["deltas"] == 799 and st["trades"] == len(native().trades)


def test_trade_dump_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "BTCUSDT2024-08-08.csv.gz"
    want = write_bybit_trades(p)
    d = formats.detect(p)
    assert d.format == "bybit-archive" and "trade dump" in d.detail
    got = [e for _, item in formats.open_source(p) for e in item]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert isinstance(g, Trade)
        assert (g.venue, g.symbol, g.price, g.qty, g.side) == ("bybit", w.symbol, w.price,
                                                               w.qty, w.side)
        assert g.trade_id == f"m-{w.trade_id}"
        assert g.exch_ts_ns == g.recv_ts_ns == w.exch_ts_ns  # ms, exact in microseconds


def test_a_dump_that_runs_backwards_is_reversed(tmp_path: Path) -> None:
    p = tmp_path / "fwd.csv"
    want = write_bybit_trades(p)
    head, *rows = p.read_text().splitlines()
    back = tmp_path / "back.csv"
    back.write_text("\n".join([head, *reversed(rows)]) + "\n")
    reader = BybitArchiveReader(back, chunk_rows=3000)
    got = [e for _, item in reader for e in item]
    # rows with one timestamp come back in reverse among themselves: compare as multisets
    key = [(t.exch_ts_ns, t.trade_id) for t in got]
    assert key == sorted(key, key=lambda k: k[0])
    assert sorted(key) == sorted((t.exch_ts_ns, f"m-{t.trade_id}") for t in want)
    assert reader.stats["trade_files_reversed"] == 1 and "backwards" in reader.warnings[0]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("\n".join([head, *rows[:50], *reversed(rows[50:100])]) + "\n")
    with pytest.raises(FormatError, match=r"mixed\.csv:\d+: timestamps change direction"):
        list(BybitArchiveReader(mixed))


def test_bad_archives_are_named(tmp_path: Path, messages: tuple) -> None:
    z = tmp_path / "no_data.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("BTCUSDT.csv", b"a,b\n")
    with pytest.raises(FormatError, match=r"no_data\.zip: zip archive holds no \.data member.*"
                                          r"\(members: BTCUSDT\.csv\)"):
        formats.open_source(z)
    with pytest.raises(FormatError, match=r"zip archive holds no \.data member"):
        formats.open_source(z, format="bybit-archive")
    p = tmp_path / "x_ob500.data"
    p.write_text('{"topic":"publicTrade.BTCUSDT","ts":1,"data":[]}\n')
    with pytest.raises(FormatError, match=r"x_ob500\.data:1: not a Bybit order-book archive"):
        formats.open_source(p, format="bybit-archive")
    q = tmp_path / "y.csv"
    q.write_text("timestamp,symbol,side,size,price\n1723161255.5,BTCUSDT,Up,1,2\n")
    with pytest.raises(FormatError, match=r"y\.csv:2: side='Up' is not Buy or Sell"):
        list(formats.open_source(q))
    q.write_text("timestamp,symbol,side,size,price,colour\n1.5,BTCUSDT,Buy,1,2,red\n")
    with pytest.raises(FormatError, match=r"y\.csv:1: .*unknown column\(s\) colour"):
        formats.open_source(q, format="bybit-archive")
    q.write_text("timestamp,symbol,side,size,price\n1723161255.5,BTCUSDT,Buy,x,2\n")
    with pytest.raises(FormatError, match=r"y\.csv:2: size='x' is not a number"):
        list(formats.open_source(q))
    # a damaged line later in an archive: the feed counts it, the stream goes on
    lines = [*messages[0][:3], b'{"topic":"orderbook.500.BTCUSDT","ts":', *messages[0][3:6]]
    r = formats.open_source(write_bybit_archive(tmp_path / "d_ob500.data", lines, False))
    feed = get_feed("bybit")
    formats.consume(r, feed)
    assert r.stats["lines_without_ts"] == 1 and sum(feed.malformed.values()) == 1
    assert feed.summary()["instruments"][SYMBOL]["deltas"] == 5
