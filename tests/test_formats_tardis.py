"""Tardis.dev CSVs: the Binance recording converted to Tardis files replays to the same books."""

from __future__ import annotations

import gzip
import itertools
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from formats_helpers import (
    L2_HEADER,
    SYMBOL,
    book_updates,
    levels,
    native,
    write_tardis_l2,
    write_tardis_snapshots,
    write_tardis_trades,
)

from tradesim_nb import formats, get_feed
from tradesim_nb.events import BookDelta, BookSnapshot, Trade
from tradesim_nb.formats import FormatError
from tradesim_nb.formats.tardis import L2Chunk, TardisReader

#: updates in the shorter files of the tests that do not need the whole recording
SHORT = 1500


@pytest.fixture(scope="module")
def tardis_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tardis")
    write_tardis_l2(d / "binance_incremental_book_L2_2024-08-08_BTCUSDT.csv.gz")
    write_tardis_trades(d / "binance_trades_2024-08-08_BTCUSDT.csv.gz")
    write_tardis_l2(d / "short.csv.gz", limit=SHORT)
    return d


def _short_final() -> tuple:
    """Top 500 levels a side after the last update of the short file."""
    return native().after[book_updates()[SHORT - 1][2]]


def _l2(d: Path) -> Path:
    return d / "binance_incremental_book_L2_2024-08-08_BTCUSDT.csv.gz"


def _trades(d: Path) -> Path:
    return d / "binance_trades_2024-08-08_BTCUSDT.csv.gz"


def test_l2_replays_to_the_native_book_at_every_level(tardis_dir: Path) -> None:
    ups = book_updates()
    nat = native()
    reader = formats.open_source([_l2(tardis_dir), _trades(tardis_dir)])
    assert reader.format == "tardis" and reader.venue == "binance"
    assert reader.symbols == (SYMBOL,)
    feed = get_feed("binance")
    j = 0
    checked = 0
    for _, item in reader:
        for ev in item:
            feed.on_event(ev)
            if type(ev) is Trade:
                continue
            _, want, i_applied = ups[j]
            # one Tardis update per applied Binance event, levels as the venue sent them
            assert type(ev) is type(want)
            assert [tuple(x) for x in ev.bids] == [tuple(x[:2]) for x in want.bids]
            assert [tuple(x) for x in ev.asks] == [tuple(x[:2]) for x in want.asks]
            if i_applied in nat.full:
                assert levels(feed.books[SYMBOL]) == nat.full[i_applied], i_applied
                checked += 1
            j += 1
    assert j == len(ups) and checked >= 6
    st = feed.summary()["instruments"][SYMBOL]
    assert (st["gaps"], st["stale_dropped"], st["snapshots"]) == (0, 0, 1)
    assert st["deltas"] == len(ups) - 1 and st["trades"] == len(nat.trades)
    assert st["book_valid"] and not st["stale"]
    assert levels(feed.books[SYMBOL]) == nat.final


def test_every_venue_sequencing_rule_accepts_the_numbered_chain(tardis_dir: Path) -> None:
    # Binance futures bridges U <= L <= u and chains pu; Bybit needs u = u_prev + 1; OKX
    # prevSeqId = the previous seqId: the reader's numbering satisfies all of them
    for venue in ("binance-futures", "bybit", "okx"):
        reader = formats.open_source(tardis_dir / "short.csv.gz", venue=venue)
        feed = get_feed(venue)
        formats.consume(reader, feed)
        st = feed.summary()["instruments"][SYMBOL]
        assert (st["gaps"], st["stale_dropped"], st["stale"]) == (0, 0, False), venue
        assert st["deltas"] == SHORT - 1, venue
        assert levels(feed.books[SYMBOL], 500) == _short_final(), venue
        assert any("venue 'binance' but venue=" in w for w in reader.warnings)


def test_chunks_never_split_an_update(tardis_dir: Path) -> None:
    small = TardisReader(tardis_dir / "short.csv.gz", chunk_rows=997)
    big = TardisReader(tardis_dir / "short.csv.gz")

    def events(r: TardisReader) -> list[tuple]:
        return [(t, type(e).__name__, tuple(map(tuple, e.bids)), tuple(map(tuple, e.asks)),
                 e.seq) for t, item in r for e in item]

    assert events(small) == events(big)
    n = 0
    for ch in small.iter_chunks():
        assert isinstance(ch, L2Chunk) and len(ch) <= 2 * 997 + 2000
        starts = ch.update_starts
        assert starts[0] == 0 and np.all(np.diff(starts) > 0)
        # the row after a chunk's last update starts a new update: check inside the chunk
        for a, b in itertools.pairwise(starts):
            s = ch.is_snapshot[a:b]
            assert s.all() or (~s).all()
            if not s[0]:
                assert len(set(ch.local_timestamp_us[a:b].tolist())) == 1
        assert ch.price.dtype == object and isinstance(ch.price[0], str)
        np.testing.assert_array_equal(ch.price_f, ch.price.astype(float))
        n += len(ch)
    assert n == small.stats["rows"] == big.stats["rows"]


def test_snapshot_after_deltas_starts_a_new_book(tmp_path: Path) -> None:
    p = tmp_path / "l2.csv"
    write_tardis_l2(p, repeat=2, limit=SHORT)
    reader = formats.open_source(p)
    feed = get_feed("binance")
    formats.consume(reader, feed)
    assert reader.stats["snapshots"] == 2
    st = feed.summary()["instruments"][SYMBOL]
    assert st["gaps"] == 0 and st["snapshots"] == 2 and st["deltas"] == 2 * (SHORT - 1)
    assert levels(feed.books[SYMBOL], 500) == _short_final()


def _csv(path: Path, rows: list[str], header: list[str] | None = None) -> Path:
    head = ",".join(L2_HEADER if header is None else header)
    path.write_text(head + "\n" + "\n".join(rows) + "\n")
    return path


def test_the_rules_on_a_book_whose_truth_is_known(tmp_path: Path) -> None:
    rows = [
        # updates buffered before the first snapshot: skipped, counted
        "binance,BTCUSDT,90,95,false,bid,1.00,5",
        # a snapshot spanning two local_timestamps is one book
        "binance,BTCUSDT,100,100,true,bid,10.00,1",
        "binance,BTCUSDT,100,100,true,bid,9.00,2",
        "binance,BTCUSDT,100,101,true,ask,11.00,3",
        "binance,BTCUSDT,100,101,true,ask,12.00,4",
        # one message: shares timestamp and local_timestamp
        "binance,BTCUSDT,200,205,false,bid,10.00,0",
        "binance,BTCUSDT,200,205,false,ask,11.50,7",
        # same local time, other venue time: another message
        "binance,BTCUSDT,201,205,false,bid,9.50,1.5",
        # a new snapshot after deltas discards the book
        "binance,BTCUSDT,300,300,true,bid,8.00,1",
        "binance,BTCUSDT,300,300,true,ask,13.00,1",
        "binance,BTCUSDT,310,310,false,ask,13.00,0",
        "binance,BTCUSDT,310,310,false,ask,12.50,2",
    ]
    reader = formats.open_source(_csv(tmp_path / "t.csv", rows))
    items = list(reader)
    evs = [e for _, item in items for e in item]
    assert [type(e).__name__ for e in evs] == ["BookSnapshot", "BookDelta", "BookDelta",
                                              "BookSnapshot", "BookDelta"]
    assert reader.stats["rows_before_first_snapshot"] == 1
    snap = evs[0]
    assert isinstance(snap, BookSnapshot)
    assert snap.bids == [("10.00", "1"), ("9.00", "2")]
    assert snap.asks == [("11.00", "3"), ("12.00", "4")]
    assert (snap.recv_ts_ns, snap.exch_ts_ns) == (100_000, 100_000)
    d1 = evs[1]
    assert isinstance(d1, BookDelta)
    assert d1.bids == [("10.00", "0")] and d1.asks == [("11.50", "7")]
    assert (d1.seq, d1.prev_seq, d1.first_seq) == (2, 1, 1)
    assert (evs[2].seq, evs[2].first_seq) == (3, 3)
    feed = get_feed("binance")
    for e in evs[:3]:
        feed.on_event(e)
    b = feed.books[SYMBOL]
    assert levels(b) == ([("9.50", "1.5"), ("9.00", "2")], [("11.00", "3"), ("11.50", "7"),
                                                            ("12.00", "4")])
    for e in evs[3:]:
        feed.on_event(e)
    assert levels(b) == ([("8.00", "1")], [("12.50", "2")])
    assert feed.summary()["instruments"][SYMBOL]["gaps"] == 0


def test_book_snapshot_25_reads_back_the_same_top_25(tmp_path: Path) -> None:
    p = tmp_path / "binance_book_snapshot_25_2024-08-08_BTCUSDT.csv.gz"
    written = write_tardis_snapshots(p, depth=25)
    d = formats.detect(p)
    assert d.format == "tardis" and "book_snapshot_25" in d.detail
    reader = formats.open_source(p)
    feed = get_feed("binance")
    k = 0
    for _, item in reader:
        (ev,) = item
        assert isinstance(ev, BookSnapshot)
        feed.on_event(ev)
        want = written[k]
        assert levels(feed.books[SYMBOL], 25) == (want[0], want[1])
        assert len(ev.bids) == len(ev.asks) == 25
        k += 1
    assert k == len(written) > 100
    st = feed.summary()["instruments"][SYMBOL]
    assert st["snapshots"] == k and st["stale_dropped"] == 0 and st["book_valid"]


def test_book_snapshot_with_empty_levels(tmp_path: Path) -> None:
    header = ["exchange", "symbol", "timestamp", "local_timestamp"]
    for i in range(3):
        header += [f"asks[{i}].price", f"asks[{i}].amount", f"bids[{i}].price",
                   f"bids[{i}].amount"]
    rows = ["binance,BTCUSDT,1,2,11.0,1,10.0,2,12.0,3,9.0,4,,,8.0,5"]
    reader = formats.open_source(_csv(tmp_path / "s.csv", rows, header))
    ((_, (ev,)),) = list(reader)
    assert ev.asks == [("11.0", "1"), ("12.0", "3")]
    assert ev.bids == [("10.0", "2"), ("9.0", "4"), ("8.0", "5")]


def test_trades_round_trip(tardis_dir: Path) -> None:
    reader = formats.open_source(_trades(tardis_dir))
    got = [e for _, item in reader for e in item]
    want = native().trades
    assert len(got) == len(want) == reader.stats["trades"]
    for g, w in zip(got, want):
        assert (g.symbol, g.price, g.qty, g.side, g.trade_id) == (w.symbol, w.price, w.qty,
                                                                 w.side, w.trade_id)
        assert g.exch_ts_ns == w.exch_ts_ns  # milliseconds, exact in microseconds
        assert g.recv_ts_ns // 1000 >= w.recv_ts_ns // 1000  # µs, never going back
    assert sum(1 for t in got if t.side == "sell") == sum(1 for t in want if t.side == "sell")


def test_detection_names_the_tardis_data_type(tardis_dir: Path) -> None:
    d = formats.detect(_l2(tardis_dir))
    assert (d.format, d.detail) == ("tardis", "Tardis incremental_book_L2 CSV (gzip)")
    d = formats.detect(_trades(tardis_dir))
    assert (d.format, d.detail) == ("tardis", "Tardis trades CSV (gzip)")
    kinds = [tf.kind for tf in TardisReader([_l2(tardis_dir), _trades(tardis_dir)]).files]
    assert kinds == ["incremental_book_L2", "trades"]


def test_files_are_merged_by_local_timestamp(tardis_dir: Path) -> None:
    a = [(t, type(e).__name__) for t, item in formats.open_source(
        [_l2(tardis_dir), _trades(tardis_dir)]) for e in item]
    b = [(t, type(e).__name__) for t, item in formats.open_source(
        [_trades(tardis_dir), _l2(tardis_dir)]) for e in item]
    times = [t for t, _ in a]
    assert times == sorted(times)
    assert sorted(a) == sorted(b) and len(a) == len(book_updates()) + len(native().trades)


def test_memory_stays_flat_in_the_file_length(tmp_path: Path) -> None:
    short = tmp_path / "short.csv.gz"
    long = tmp_path / "long.csv.gz"
    n1 = write_tardis_l2(short, repeat=1, limit=600)
    n4 = write_tardis_l2(long, repeat=4, limit=600)
    assert n4 == 4 * n1

    def peak(p: Path) -> int:
        reader = TardisReader(p, chunk_rows=2048)
        tracemalloc.start()
        try:
            n = 0
            for _, item in reader:
                n += len(item)
            _, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert n > 0
        return top

    peak(short)  # the first read imports pandas and fills caches: not the reader's memory
    p1, p4 = peak(short), peak(long)
    assert p4 < 1.25 * p1 + 256 * 1024, (p1, p4)


def test_exchange_names_map_to_venue_keys(tmp_path: Path) -> None:
    rows = ["okex-swap,BTC-USDT-SWAP,1,1,true,bid,100.1,5",
            "okex-swap,BTC-USDT-SWAP,1,1,true,ask,100.2,5"]
    r = formats.open_source(_csv(tmp_path / "o.csv", rows))
    assert r.venue == "okx" and r.symbols == ("BTC-USDT-SWAP",)
    ((_, (ev,)),) = list(r)
    assert ev.venue == "okx"


def test_progress_bar_counts_the_bytes(tardis_dir: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    reader = formats.open_source(_trades(tardis_dir), progress=True)
    n = sum(1 for _ in reader)
    err = capsys.readouterr().err
    assert n > 0 and "100%" in err and "tardis" in err


# -- bad files -------------------------------------------------------------------------------
def _err(path: Path, **kw: object) -> str:
    with pytest.raises(FormatError) as ei:
        list(formats.open_source(path, format="tardis", **kw))  # type: ignore[arg-type]
    return str(ei.value)


BASE = "binance,BTCUSDT,"


@pytest.mark.parametrize(("rows", "header", "match"), [
    ([BASE + "1,1,true,bid,abc,1"], None, r"t\.csv:2: price='abc' is not a number"),
    ([BASE + "1,1,true,bid,1,1", BASE + "2,2,false,ask,1,"], None, r"t\.csv:3: empty amount"),
    ([BASE + "1,1,true,bid,1,1", BASE + "2,2,false,ask,1,-3"], None, r":3: amount='-3' is neg"),
    ([BASE + "1,1,true,buy,1,1"], None, r":2: side='buy' is not bid or ask"),
    ([BASE + "1,1,maybe,bid,1,1"], None, r":2: is_snapshot='maybe' is not true or false"),
    ([BASE + "1,5,true,bid,1,1", BASE + "2,4,false,bid,1,1"], None,
     r":3: local_timestamp 4 < previous 5: timestamps go backwards"),
    ([BASE + "1,1,true,bid,1,1", "binance,ETHUSDT,2,2,false,bid,1,1"], None,
     r":3: more than one symbol in one file \('BTCUSDT', then 'ETHUSDT'\)"),
    ([BASE + "1,1,true,bid,1,1", BASE + "x2,2,false,bid,1,1"], None,
     r":3: timestamp='x2' is not an integer"),
    ([BASE + "1,1,true,bid,1,1", BASE + "2,2,false,bid,1"], None, r":3: 7 fields where the "
                                                                  r"header has 8"),
    ([BASE + "1,1,true,bid,1,1"], [*L2_HEADER, "extra"], r":1: incremental_book_L2 header: "
                                                         r"unknown column\(s\) extra"),
    ([BASE + "1,1,true,bid,1,1"], ["exchange", "symbol", "timestamp", "local_timestamp",
                                   "is_snapshot", "side", "price"],
     r"missing column\(s\) amount"),
    ([BASE + "1,1,true,bid,1,1"], ["binance", "BTCUSDT", "1", "1", "true", "bid", "1", "1"],
     r":1: no header line"),
    (["binance,BTCUSDT,1,1,1,1,2,2"], ["exchange", "symbol", "timestamp", "local_timestamp",
                                       "bid_price", "bid_amount", "ask_price", "ask_amount"],
     r"a Tardis quotes / book_ticker file"),
])
def test_bad_rows_are_named(tmp_path: Path, rows: list[str], header: list[str] | None,
                            match: str) -> None:
    import re

    msg = _err(_csv(tmp_path / "t.csv", rows, header))
    assert re.search(match, msg), msg


def test_a_symbol_other_than_the_one_asked_for(tmp_path: Path) -> None:
    p = _csv(tmp_path / "t.csv", [BASE + "1,1,true,bid,1,1"])
    assert "holds symbol 'BTCUSDT' but symbol='ETHUSDT'" in _err(p, symbol="ETHUSDT")


def test_liquidations_are_not_taken_for_trades(tmp_path: Path) -> None:
    p = _csv(tmp_path / "binance-futures_liquidations_2024-08-08_BTCUSDT.csv",
             [BASE + "1,1,x1,buy,1,1"],
             ["exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price",
              "amount"])
    assert "liquidations file" in _err(p)


def test_a_truncated_gzip_reports_what_was_read(tardis_dir: Path, tmp_path: Path) -> None:
    data = _l2(tardis_dir).read_bytes()
    p = tmp_path / "cut.csv.gz"
    p.write_bytes(data[: len(data) // 2])
    reader = TardisReader(p)
    n = 0
    with pytest.raises(formats.TruncatedFile) as ei:
        for _, item in reader:
            n += len(item)
    e = ei.value
    assert n > 1000 and e.lines_read > 10_000
    assert "cut.csv.gz" in str(e) and "truncated or damaged gzip data after" in str(e)
    assert gzip.decompress(data).count(b"\n") > e.lines_read
