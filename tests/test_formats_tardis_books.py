"""``TardisReader.replay_books``: the column-wise replay builds the event path's books, level for
level and string for string, after every chunk and at the end, and keeps its memory flat."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from formats_helpers import L2_HEADER, SYMBOL, levels, native, write_tardis_l2

from tradesim_nb import formats, get_feed
from tradesim_nb.formats import FormatError
from tradesim_nb.formats.tardis import TardisReader


@pytest.fixture(scope="module")
def l2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("tardis_books") / "binance_incremental_book_L2.csv.gz"
    write_tardis_l2(p, repeat=2)
    return p


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text(",".join(L2_HEADER) + "\n" + "\n".join(rows) + "\n")
    return path


def _book_state(b: Any) -> tuple[Any, ...]:
    return (levels(b), b.seq, b.updates, b.stale, b.valid, b.last_exch_ts_ns,
            b.last_recv_ts_ns)


def test_every_chunk_ends_on_the_event_paths_book(l2: Path) -> None:
    # the event path, in lockstep: after each chunk of the columnar replay, the feed is run to
    # the same update (book.seq numbers them) and the two books compared at every level
    events = iter(formats.open_source(l2))
    feed = get_feed("binance")
    checked: list[int] = []

    def compare(book: Any) -> None:
        ref = feed.books.get(SYMBOL)
        while ref is None or ref.seq != book.seq:
            _, item = next(events)
            for ev in item:
                feed.on_event(ev)
            ref = feed.books[SYMBOL]
        assert _book_state(book) == _book_state(ref), book.seq
        checked.append(book.seq)

    reader = TardisReader(l2, chunk_rows=5000)
    books = reader.replay_books(on_chunk=compare)
    assert list(books) == [SYMBOL] and len(checked) > 50
    assert next(events, None) is None  # the last chunk ended on the last update
    st = feed.summary()["instruments"][SYMBOL]
    assert reader.stats["snapshots"] == st["snapshots"] == 2
    assert reader.stats["deltas"] == st["deltas"]
    assert reader.stats["crossed_updates"] == st["crossed"] == 0
    assert (reader.stats["refused_updates"], reader.stats["deltas_skipped_stale"]) == (0, 0)
    assert levels(books[SYMBOL]) == native().final  # and that is the native replay's book
    assert books[SYMBOL].valid
    # a second pass counts one pass
    rows = reader.stats["rows"]
    reader.replay_books()
    assert reader.stats["rows"] == rows


def test_rows_before_the_first_snapshot_are_skipped(tmp_path: Path) -> None:
    p = _csv(tmp_path / "t.csv", [
        "binance,BTCUSDT,1,1,false,bid,99,5",  # buffered before a reconnect's snapshot
        "binance,BTCUSDT,2,2,true,bid,99,1", "binance,BTCUSDT,2,2,true,ask,101,1",
        "binance,BTCUSDT,3,3,false,ask,100.5,2"])
    r = TardisReader(p)
    b = r.replay_books()[SYMBOL]
    assert r.stats["rows_before_first_snapshot"] == 1
    assert levels(b) == ([("99", "1")], [("100.5", "2"), ("101", "1")])
    feed = get_feed("binance")
    formats.consume(formats.open_source(p), feed)
    assert levels(feed.books[SYMBOL]) == levels(b) and feed.books[SYMBOL].seq == b.seq == 2


def test_a_level_the_book_refuses_as_the_feed_does(tmp_path: Path) -> None:
    # a price of 0 reads as a number but no book takes it: the book turns stale and the deltas
    # up to the next snapshot are not applied, in the feed and in the columnar replay (the OKX
    # feed is the reference: its on_event counts a refusal, where Binance's lets it raise)
    p = _csv(tmp_path / "t.csv", [
        "binance,BTCUSDT,1,1,true,bid,99,1", "binance,BTCUSDT,1,1,true,ask,101,1",
        "binance,BTCUSDT,2,2,false,bid,98,1",
        "binance,BTCUSDT,3,3,false,bid,0,1",
        "binance,BTCUSDT,4,4,false,ask,102,1",
        "binance,BTCUSDT,5,5,true,bid,97,1", "binance,BTCUSDT,5,5,true,ask,103,1",
        "binance,BTCUSDT,6,6,false,ask,102.5,3"])
    for chunk_rows in (1, 3, 100):
        r = TardisReader(p, chunk_rows=chunk_rows)
        b = r.replay_books()[SYMBOL]
        assert (r.stats["refused_updates"], r.stats["deltas_skipped_stale"]) == (1, 1)
        feed = get_feed("okx")
        formats.consume(formats.open_source(p, venue="okx"), feed)
        ref = feed.books[SYMBOL]
        assert feed.malformed["bad_price"] == 1  # counted by the book's reason
        assert levels(b) == levels(ref) == ([("97", "1")], [("102.5", "3"), ("103", "1")])
        assert (b.valid, b.stale, b.updates) == (ref.valid, ref.stale, ref.updates)


def test_a_crossed_book_is_counted_and_uncrossed_as_the_feed_does(tmp_path: Path) -> None:
    p = _csv(tmp_path / "t.csv", [
        "binance,BTCUSDT,1,1,true,bid,99,1", "binance,BTCUSDT,1,1,true,bid,98,1",
        "binance,BTCUSDT,1,1,true,ask,101,1",
        "binance,BTCUSDT,2,2,false,ask,98.5,2",  # under the best bid: crossed
        "binance,BTCUSDT,3,3,false,ask,100,1"])
    for sanitize in (False, True):
        r = TardisReader(p)
        b = r.replay_books(uncross=sanitize)[SYMBOL]
        feed = get_feed("binance", sanitize_crossed=sanitize)
        formats.consume(formats.open_source(p), feed)
        st = feed.summary()["instruments"][SYMBOL]
        assert levels(b) == levels(feed.books[SYMBOL])
        assert r.stats["crossed_updates"] == st["crossed"] == (1 if sanitize else 2)
        assert r.stats["crossed_removed_levels"] == st["crossed_removed_levels"]
        assert b.valid == sanitize


@pytest.mark.parametrize(("rows", "match"), [
    (["binance,BTCUSDT,1,1,true,bid,abc,1"], r"t\.csv:2: price='abc' is not a number"),
    (["binance,BTCUSDT,1,1,true,bid,1,1", "binance,BTCUSDT,2,2,false,ask,1,"],
     r"t\.csv:3: empty amount"),
    (["binance,BTCUSDT,1,1,true,bid,1,1", "binance,BTCUSDT,2,2,false,ask,1,-3"],
     r":3: amount='-3' is neg"),
    (["binance,BTCUSDT,1,1,true,bid,1,inf"], r":2: amount='inf' is not a finite number"),
    (["binance,BTCUSDT,1,5,true,bid,1,1", "binance,BTCUSDT,2,4,false,bid,1,1"],
     r":3: local_timestamp 4 < previous 5"),
])
def test_bad_files_fail_as_the_event_path_fails(tmp_path: Path, rows: list[str],
                                                match: str) -> None:
    p = _csv(tmp_path / "t.csv", rows)
    with pytest.raises(FormatError, match=match) as ev:
        formats.consume(formats.open_source(p), get_feed("binance"))
    with pytest.raises(FormatError, match=match) as col:
        TardisReader(p).replay_books()
    assert str(ev.value) == str(col.value)


def test_other_data_types(tmp_path: Path, l2: Path) -> None:
    snaps = tmp_path / "binance_book_snapshot_5.csv"
    head = ["exchange", "symbol", "timestamp", "local_timestamp"]
    for i in range(5):
        head += [f"asks[{i}].price", f"asks[{i}].amount", f"bids[{i}].price",
                 f"bids[{i}].amount"]
    snaps.write_text(",".join(head) + "\n" + ",".join(["binance", SYMBOL, "1", "1"]
                                                      + ["101", "1", "99", "1"] * 5) + "\n")
    with pytest.raises(ValueError, match="book_snapshot file: replay_books applies"):
        TardisReader(snaps).replay_books()
    with pytest.raises(ValueError, match="overlaps in time an earlier file"):
        TardisReader([l2, l2]).replay_books()


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
            books = reader.replay_books()
            _, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert reader.stats["rows"] in (n1, n4) and books[SYMBOL].valid
        return top

    peak(short)  # the first read imports pyarrow and fills caches: not the reader's memory
    p1, p4 = peak(short), peak(long)
    assert p4 < 1.25 * p1 + 256 * 1024, (p1, p4)


def test_a_snapshot_after_deltas_is_held_only_where_the_venues_feed_holds_it(tmp_path: Path) -> None:
    # Binance's feed keeps a snapshot that follows diffs not valid until a diff joins it; OKX's
    # takes it at once: the column-wise replay ends each file as that venue's event path does
    p = _csv(tmp_path / "t.csv", [
        "binance,BTCUSDT,1,1,true,bid,99,1", "binance,BTCUSDT,1,1,true,ask,101,1",
        "binance,BTCUSDT,2,2,false,bid,98,1",
        "binance,BTCUSDT,3,3,true,bid,97,1", "binance,BTCUSDT,3,3,true,ask,103,1"])
    for venue, held in (("binance", True), ("okx", False)):
        b = TardisReader(p, venue=venue).replay_books()[SYMBOL]
        feed = get_feed(venue)
        formats.consume(formats.open_source(p, venue=venue), feed)
        ref = feed.books[SYMBOL]
        assert levels(b) == levels(ref) == ([("97", "1")], [("103", "1")])
        assert (b.stale, b.valid) == (ref.stale, ref.valid) == (held, not held), venue
