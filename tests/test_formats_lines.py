"""Our recordings and the line layouts, format detection, and files that are not what they say."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesim_nb import datasets, formats, get_feed
from tradesim_nb.formats import (
    EmptyFile,
    FormatError,
    LineTooLong,
    TruncatedFile,
    UnknownFormat,
)
from tradesim_nb.formats.jsonl import JsonlReader, LinesReader
from tradesim_nb.recording import RecordingWriter, read_frames


def test_okx_through_the_lines_reader_verifies_every_checksum() -> None:
    reader = formats.open_source(datasets.okx_books_file(), format="lines")
    assert isinstance(reader, LinesReader) and reader.venue == "okx"
    feed = get_feed("okx")
    formats.consume(reader, feed)
    s = feed.summary()
    assert sum(v["checksum_ok"] for v in s["instruments"].values()) == 290
    assert sum(v["checksum_failed"] + v["gaps"] for v in s["instruments"].values()) == 0
    assert reader.stats["client_lines"] == 4  # the connect and the three subscriptions
    # the same frames as the cryptofeed reader gives
    assert list(formats.open_source(datasets.okx_books_file(), format="lines")) == list(
        formats.open_source(datasets.okx_books_file(), format="cryptofeed"))


def test_kraken_frames_come_with_their_receive_times() -> None:
    book = datasets.kraken_book_file()
    items = list(formats.open_source(book, format="lines"))
    raw = [ln for ln in book.read_text().splitlines() if ln[:1].isdigit()]
    assert len(items) == len(raw) > 4000
    for (t, frame), line in zip(items, raw):
        head, msg = line.split(": ", 1)
        whole, frac = head.split(".")
        assert t == int(whole) * 10**9 + int(frac.ljust(9, "0")) and frame == msg
    times = [t for t, _ in items]
    assert times == sorted(times)


def test_binance_recording_reads_as_lines_like_read_frames() -> None:
    files = datasets.binance_spot_files()
    reader = formats.open_source(files)
    assert reader.format == "lines" and reader.venue == "binance"
    frames = list(reader)
    assert frames == list(read_frames(*files))
    assert reader.stats["frames"] == len(frames) == 99_574


def test_our_recording_round_trips_with_its_header(tmp_path: Path) -> None:
    p = tmp_path / "rec.jsonl.gz"
    frames = list(read_frames(datasets.okx_books_file()))[:50]
    with RecordingWriter(p, venue="okx", url="wss://x", symbols=["BTC-USDT"]) as w:
        for t, f in frames:
            w.write(t, f)
    d = formats.detect(p)
    assert (d.format, d.compression) == ("jsonl", "gzip")
    reader = formats.open_source(p)
    assert isinstance(reader, JsonlReader)
    assert (reader.venue, reader.symbols) == ("okx", ("BTC-USDT",))
    assert list(reader) == frames and reader.stats["header_lines"] == 1


def test_files_of_frame_formats_chain_in_the_order_given(tmp_path: Path) -> None:
    first, second = datasets.binance_spot_files()
    head = list(read_frames(first))
    p = tmp_path / "rec.jsonl.gz"  # the first file re-recorded in our own format
    with RecordingWriter(p, venue="binance", symbols=["BTCUSDT"]) as w:
        for t, f in head:
            w.write(t, f)
    reader = formats.open_source([p, second])
    assert reader.describe()["formats"] == ["jsonl", "lines"]
    assert reader.venue == "binance" and reader.symbols == ("BTCUSDT",)
    assert list(reader) == list(read_frames(first, second))


def test_a_document_is_one_frame() -> None:
    p = datasets.goquant_samples()[3]
    assert formats.detect(p).format == "document"
    reader = formats.open_source(p)
    ((t, frame),) = list(reader)
    assert t == 0 and frame == p.read_text()
    feed = get_feed("goquant")
    ((_, evs),) = list(formats.iter_events(formats.open_source(p), feed))
    assert any(type(e).__name__ == "BookSnapshot" for e in evs)


def test_detection_names_each_format(tmp_path: Path) -> None:
    got = {p.name: formats.detect(p) for p in (
        datasets.binance_spot_files()[0], datasets.okx_books_file(),
        datasets.kraken_assetpairs_file(), datasets.goquant_samples()[0])}
    assert got["spot_btcusdt_20240808.gz"].format == "lines"
    assert "gzip" in got["spot_btcusdt_20240808.gz"].detail
    assert got["okx_ws_v5_public.log"].format == "cryptofeed"
    assert "REST companion" in got["kraken_rest_assetpairs.log"].detail
    assert got["btc_response_1.json"].format == "document"
    epoch = tmp_path / "plain.log"
    epoch.write_text('1652459225.5: {"a": 1}\n')
    assert formats.detect(epoch).format == "lines"
    cf = tmp_path / "OKX.ws.1.0"
    cf.write_text('1652459225.5: {"a": 1}\n')
    assert formats.detect(cf).format == "cryptofeed"


# -- bad files ---------------------------------------------------------------------------------
def test_empty_files(tmp_path: Path) -> None:
    e = tmp_path / "e.jsonl"
    e.write_bytes(b"")
    with pytest.raises(EmptyFile, match=r"e\.jsonl: empty file \(0 bytes\)"):
        formats.open_source(e)
    g = tmp_path / "g.csv.gz"
    g.write_bytes(gzip.compress(b""))
    with pytest.raises(EmptyFile, match=r"g\.csv\.gz: no data after decompression"):
        formats.detect(g)
    b = tmp_path / "b.log"
    b.write_text("\n  \n\n")
    with pytest.raises(EmptyFile, match="no data after blank lines"):
        formats.open_source(b)


def test_a_truncated_gzip_gives_what_it_read_then_the_error(tmp_path: Path) -> None:
    src = datasets.binance_spot_files()[0]
    data = src.read_bytes()
    p = tmp_path / "cut.gz"
    p.write_bytes(data[: len(data) // 3])
    reader = formats.open_source(p)
    got = []
    with pytest.raises(TruncatedFile) as ei:
        for item in reader:
            got.append(item)
    e = ei.value
    assert "cut.gz: truncated or damaged gzip data after" in str(e)
    assert len(got) > 1000 and got == list(read_frames(src))[: len(got)]
    assert e.lines_read >= len(got)
    tiny = tmp_path / "tiny.gz"
    tiny.write_bytes(data[:20])
    with pytest.raises(TruncatedFile, match=r"tiny\.gz"):
        formats.detect(tiny)


def test_a_line_too_long(tmp_path: Path) -> None:
    p = tmp_path / "long.log"
    p.write_text('1652459225.5: {"a": 1}\n1652459226.5: {"a": "' + "x" * 5000 + '"}\n')
    with pytest.raises(LineTooLong, match=r"long\.log:2: line longer than max_line_bytes=1000"):
        list(formats.open_source(p, max_line_bytes=1000))
    one = tmp_path / "one.bin"
    one.write_bytes(b"{" + b"7" * 4000)
    with pytest.raises(LineTooLong, match=r"one\.bin:1: "):
        formats.detect(one, max_line_bytes=1000)
    z = tmp_path / "huge.csv.gz"
    z.write_bytes(gzip.compress(b"exchange,symbol,timestamp,local_timestamp," + b"y" * 3000))
    with pytest.raises(LineTooLong, match=r"huge\.csv\.gz:1: "):
        formats.open_source(z, format="tardis", max_line_bytes=1000)


def test_a_file_of_no_format_lists_the_formats(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("dear diary\n")
    with pytest.raises(UnknownFormat) as ei:
        formats.open_source(p)
    msg = str(ei.value)
    assert "notes.txt: fits no known format (first line 'dear diary')" in msg
    assert "jsonl, lines, tardis, bybit-archive, cryptofeed" in msg
    binary = tmp_path / "x.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnknownFormat):
        formats.detect(binary)
    z = tmp_path / "x.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.csv", "a,b\n")
    with pytest.raises(FormatError, match=r"x\.zip: zip archive holds no \.data member"):
        formats.detect(z)
    csv = tmp_path / "noheader.csv"
    csv.write_text("binance,BTCUSDT,1723161254206000,1723161254206000,true,bid,1,1\n")
    with pytest.raises(FormatError, match=r"noheader\.csv:1: a CSV without its header line"):
        formats.open_source(csv)


def test_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"header": {"venue": "okx"}}\n{"recv_ns": 1, "frame": "x"}\n{"recv_ns": \n')
    reader = formats.open_source(p)
    with pytest.raises(FormatError, match=r"bad\.jsonl:3: not a recording line"):
        list(reader)
    q = tmp_path / "bad.log"
    q.write_text('1652459225.5: {"a": 1}\n12ab {"a": 2}\n')
    with pytest.raises(FormatError, match=r"bad\.log:2: not a recording line"):
        list(formats.open_source(q))
    r = tmp_path / "skip.log"
    r.write_text('1652459225.5: {"a": 1}\nhello\n1652459226.5: {"a": 2}\n')
    reader = formats.open_source(r)
    assert len(list(reader)) == 2 and reader.stats["unrecognized_lines"] == 1
    assert any("skip.log:2" in w for w in reader.warnings)


def test_formats_that_do_not_go_together(tmp_path: Path) -> None:
    t = tmp_path / "t.csv"
    t.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n")
    with pytest.raises(FormatError, match=r"t\.csv is tardis .* okx_ws_v5_public\.log is "
                                           r"cryptofeed"):
        formats.open_source([t, datasets.okx_books_file()])
    with pytest.raises(ValueError, match="format='parquet' is not one of auto, jsonl"):
        formats.open_source(t, format="parquet")


def test_open_feed_needs_a_venue_when_the_files_do_not_say(tmp_path: Path) -> None:
    p = tmp_path / "x.log"
    p.write_text('1652459225.5: {"hello": 1}\n')
    reader = formats.open_source(p)
    assert reader.venue is None
    with pytest.raises(ValueError, match=r"do not say which venue .* pass venue="):
        formats.open_feed(reader)
    assert formats.open_feed(reader, "okx").venue == "okx"


@settings(max_examples=150, deadline=None)
@given(lengths=st.lists(st.integers(0, 60), min_size=1, max_size=25),
       bound=st.integers(1, 40), block=st.integers(1, 64), final_newline=st.booleans())
def test_the_line_bound_matches_a_brute_force(tmp_path_factory: pytest.TempPathFactory,
                                              lengths: list[int], bound: int, block: int,
                                              final_newline: bool) -> None:
    import tradesim_nb.formats._io as fio

    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if final_newline else b"")
    if not data:
        return
    p = tmp_path_factory.mktemp("bound") / "f"
    p.write_bytes(data)
    want = next((i + 1 for i, n in enumerate(lengths) if n > bound), None)
    old = fio._BLOCK
    fio._BLOCK = block  # small blocks: lines cross block boundaries
    try:
        with fio.open_stream(p, max_line_bytes=bound) as f:
            got_lines = list(f)
        got = None
    except LineTooLong as e:
        got = e.line
        got_lines = []
    finally:
        fio._BLOCK = old
    assert got == want
    if want is None:
        assert b"".join(got_lines) == data


def test_an_explicit_format_that_does_not_fit_is_an_error(tmp_path: Path) -> None:
    t = tmp_path / "t.csv"
    t.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
                 "binance,BTCUSDT,1,1,x,buy,1,1\n")
    with pytest.raises(FormatError, match=r"t\.csv:1: not a lines recording: the first line"):
        list(formats.open_source(t, format="lines"))
    with pytest.raises(FormatError, match=r"okx_ws_v5_public\.log:1: not a Tardis CSV header: "
                                          r"missing column"):
        formats.open_source(datasets.okx_books_file(), format="tardis")
    with pytest.raises(FormatError, match=r"spot_btcusdt_20240808\.gz:1: a line starting with a "
                                          r"digit that is not '<epoch_s>: <message>'"):
        list(formats.open_source(datasets.binance_spot_files()[0], format="cryptofeed"))
    with pytest.raises(FormatError, match=r"not a Bybit history file"):
        formats.open_source(t, format="bybit-archive")


def test_counts_describe_one_pass() -> None:
    reader = formats.open_source(datasets.okx_books_file())
    first = (list(reader), dict(reader.stats))
    second = (list(reader), dict(reader.stats))
    assert first == second and first[1]["frames"] == len(first[0]) == reader.items
