"""Kraken WebSocket v1 book feed on the real 2021 recording: checksums, an independent reference
book, injected faults, depth truncation; instruments and fees from the recorded AssetPairs answer.

The reference book here is plain dicts keyed by ``Decimal`` prices with its own checksum code
(``int()`` strips the leading zeros), independent of :class:`tradesim_nb.book.OrderBook`.
"""

from __future__ import annotations

import heapq
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from tradesim_nb import datasets, replay
from tradesim_nb.cli import main
from tradesim_nb.cli.replay import VENUE_CHOICES
from tradesim_nb.costs.fees import FeeSchedule
from tradesim_nb.events import BookDelta, BookSnapshot, FeedStatus
from tradesim_nb.feed import MalformedFrame
from tradesim_nb.instruments import INSTRUMENTS, get_instrument
from tradesim_nb.recording import read_frames
from tradesim_nb.venues import VENUES, get_feed
from tradesim_nb.venues.kraken import (
    BOOK_DEPTHS,
    PUBLIC_URL,
    AssetPairsAnswer,
    KrakenBook,
    KrakenFeed,
    checksum_string,
    fee_schedule,
    fee_tiers,
    instruments_from_assetpairs,
    kraken_checksum,
    packaged_assetpairs,
    packaged_pairs,
    pairs_from_assetpairs,
    read_assetpairs,
    register_pairs,
    resync_messages,
    subscribe_message,
    tier_for_volume,
    unsubscribe_message,
)
from tradesim_nb.venues.kraken.fees import fee_schedule as fee_schedule_fn

Frames = list[tuple[int, str]]

PAIRS = {"WAVES/EUR", "XMR/USD", "KSM/XBT", "GRT/ETH", "SC/EUR", "ETH/CHF", "OCEAN/XBT",
         "OMG/USD", "XBT/CHF", "ADA/XBT"}
N_CHECKSUMS = 4269  # as tradesim_nb/data/README.md states


@pytest.fixture(autouse=True, scope="module")
def _instrument_registry_restored() -> Iterator[None]:
    """The feed registers Kraken's pairs in the global registry: leave it as it was found."""
    saved = dict(INSTRUMENTS)
    yield
    INSTRUMENTS.clear()
    INSTRUMENTS.update(saved)


# -- the independent reference ------------------------------------------------------------------
def _fmt(s: str) -> str:
    return str(int(s.replace(".", "")))


class RefBook:
    """Plain-dict book: ``{Decimal price: [price_str, volume_str, ts_str]}`` a side."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.asks: dict[Decimal, list[str]] = {}
        self.bids: dict[Decimal, list[str]] = {}
        self.trimmed = 0

    def snapshot(self, d: dict[str, Any]) -> None:
        self.asks = {Decimal(lv[0]): lv[:3] for lv in d.get("as", [])}
        self.bids = {Decimal(lv[0]): lv[:3] for lv in d.get("bs", [])}
        self.trim()

    def update(self, side: str, levels: Iterable[list[str]]) -> None:
        book = self.asks if side == "a" else self.bids
        for lv in levels:
            p = Decimal(lv[0])
            if Decimal(lv[1]) == 0:
                book.pop(p, None)
            else:
                book[p] = lv[:3]

    def trim(self) -> None:
        for book, rev in ((self.asks, False), (self.bids, True)):
            if len(book) > self.depth:
                for p in sorted(book, reverse=rev)[self.depth:]:
                    del book[p]
                    self.trimmed += 1

    def best(self, side: str, n: int | None = None) -> list[tuple[str, str]]:
        book = self.asks if side == "ask" else self.bids
        if n is None:
            keys = sorted(book, reverse=side == "bid")
        else:
            keys = (heapq.nsmallest if side == "ask" else heapq.nlargest)(n, book)
        return [(book[p][0], book[p][1]) for p in keys]

    def checksum(self) -> int:
        s = "".join(_fmt(p) + _fmt(v) for p, v in self.best("ask", 10))
        s += "".join(_fmt(p) + _fmt(v) for p, v in self.best("bid", 10))
        return zlib.crc32(s.encode())

    def apply_message(self, m: list[Any]) -> int | None:
        """Apply one book message; return its ``c`` (None for a snapshot)."""
        c = None
        for d in m[1:-2]:
            if "as" in d or "bs" in d:
                self.snapshot(d)
                continue
            for side in ("a", "b"):
                if side in d:
                    self.update(side, d[side])
            if "c" in d:
                c = int(d["c"])
        self.trim()
        return c

    def snapshot_frame(self, channel_id: int, pair: str, channel: str = "book-1000") -> str:
        asks = [self.asks[p] for p in sorted(self.asks)]
        bids = [self.bids[p] for p in sorted(self.bids, reverse=True)]
        return orjson.dumps([channel_id, {"as": asks, "bs": bids}, channel, pair]).decode()


def _ref_run(frames: Iterable[tuple[int, str]], depth: int = 1000
             ) -> tuple[dict[str, RefBook], int, int]:
    """The reference over ``frames``: final books, checksums matched, checksums missed."""
    books: dict[str, RefBook] = {}
    ok = bad = 0
    for _, f in frames:
        m = orjson.loads(f)
        if not (isinstance(m, list) and m[-2].startswith("book-")):
            continue
        b = books.setdefault(m[-1], RefBook(depth))
        c = b.apply_message(m)
        if c is not None:
            if c == b.checksum():
                ok += 1
            else:
                bad += 1
    return books, ok, bad


# -- helpers -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def frames() -> Frames:
    return list(read_frames(datasets.kraken_book_file()))


@pytest.fixture(scope="module")
def reference(frames: Frames) -> tuple[dict[str, RefBook], int, int]:
    return _ref_run(frames)


def _msg(frame: str) -> Any:
    try:
        return orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None


def _is_update(frame: str, pair: str | None = None) -> bool:
    m = _msg(frame)
    return (isinstance(m, list) and "c" in m[-3] and (pair is None or m[-1] == pair))


def _updates(frames: Frames, pair: str) -> list[int]:
    return [i for i, (_, f) in enumerate(frames) if _is_update(f, pair)]


def _run(frames: Iterable[tuple[int, str]], **kw: Any) -> tuple[KrakenFeed, list[Any]]:
    feed = KrakenFeed(**kw)
    out: list[Any] = []
    for recv, fr in frames:
        out.extend(feed.on_frame(fr, recv))
    return feed, out


def _statuses(events: list[Any], kind: str, symbol: str | None = None) -> list[FeedStatus]:
    return [e for e in events if isinstance(e, FeedStatus) and e.kind == kind
            and (symbol is None or e.symbol == symbol)]


def _book_levels(book: Any, side: str) -> list[tuple[str, str]]:
    n = book.n_bids if side == "bid" else book.n_asks
    return book.level_strings(side, n)


def _pair_frames(frames: Frames, pair: str) -> Frames:
    """The frames of one pair's book (plus nothing else)."""
    out = []
    for r, f in frames:
        m = _msg(f)
        if isinstance(m, list) and m[-1] == pair:
            out.append((r, f))
    return out


# -- the real recording, untouched ---------------------------------------------------------------
def test_recording_content(frames: Frames) -> None:
    kinds: Counter[str] = Counter()
    for _, f in frames:
        m = orjson.loads(f)
        if isinstance(m, dict):
            kinds[m["event"]] += 1
        elif "c" in m[-3]:
            kinds["update"] += 1
        else:
            kinds["snapshot"] += 1
    assert kinds == Counter(update=N_CHECKSUMS, snapshot=10, subscriptionStatus=10,
                            heartbeat=31, systemStatus=1)


def test_reference_reproduces_every_checksum(
        reference: tuple[dict[str, RefBook], int, int]) -> None:
    books, ok, bad = reference
    assert (ok, bad) == (N_CHECKSUMS, 0)  # the reference itself is right, independently
    assert set(books) == PAIRS


def test_every_checksum_verifies(frames: Frames) -> None:
    feed, events = _run(frames)
    assert feed.frames == len(frames)
    assert feed.malformed == Counter()
    assert feed.acks == 10 and feed.errors == []
    assert feed.heartbeats == 31 and feed.system_status == "online"
    assert set(feed.books) == PAIRS
    assert sum(feed.stats[p].checksum_ok for p in PAIRS) == N_CHECKSUMS
    n_updates = Counter(orjson.loads(f)[-1] for _, f in frames if _is_update(f))
    for p in PAIRS:
        st = feed.stats[p]
        assert st.checksum_ok == st.deltas == n_updates[p], p
        assert st.snapshots == 1 and st.checksum_failed == 0 and st.stale_dropped == 0
        assert st.resyncs == 0 and st.crossed == 0
        book = feed.books[p]
        assert isinstance(book, KrakenBook) and book.max_depth == 1000
        assert book.valid and not book.stale, p
        assert book.best_bid < book.best_ask
    assert feed.needs_resync == set()
    assert _statuses(events, "checksum_failed") == []
    assert len(_statuses(events, "heartbeat")) == 31


def test_final_books_equal_reference_at_every_level(
        frames: Frames, reference: tuple[dict[str, RefBook], int, int]) -> None:
    ref, _, _ = reference
    feed, _ = _run(frames)
    for p in PAIRS:
        book = feed.books[p]
        for side in ("bid", "ask"):
            mine = _book_levels(book, side)
            assert mine == ref[p].best(side), (p, side)
            assert len(mine) > 10
        # the book's cached checksum text equals the plain function's and the reference's
        assert book.kraken_checksum() == kraken_checksum(
            book.level_strings("ask", 10), book.level_strings("bid", 10)) == ref[p].checksum()


def test_books_equal_reference_along_the_way(frames: Frames) -> None:
    feed = KrakenFeed()
    ref: dict[str, RefBook] = {}
    checked = 0
    for i, (r, f) in enumerate(frames):
        feed.on_frame(f, r)
        m = orjson.loads(f)
        if isinstance(m, list):
            ref.setdefault(m[-1], RefBook(1000)).apply_message(m)
        if i % 400 == 399:
            for p, rb in ref.items():
                assert _book_levels(feed.books[p], "bid") == rb.best("bid"), (i, p)
                assert _book_levels(feed.books[p], "ask") == rb.best("ask"), (i, p)
                checked += 1
    assert checked >= 90


def test_timestamps_and_events(frames: Frames) -> None:
    feed = KrakenFeed()
    snap_frame = next(f for _, f in frames if isinstance(_msg(f), list) and not _is_update(f))
    upd_frame = next(f for _, f in frames if _is_update(f))
    (snap,) = feed.parse(snap_frame, 7)
    (upd,) = feed.parse(upd_frame, 8)
    assert feed.books == {}  # parse never touches a book
    assert feed.parse(upd_frame, 8) == [upd]  # and gives the same events again
    m_s = orjson.loads(snap_frame)
    m_u = orjson.loads(upd_frame)
    ts = max(Decimal(lv[2]) for lv in m_s[1]["as"] + m_s[1]["bs"])
    assert isinstance(snap, BookSnapshot) and snap.exch_ts_ns == int(ts * 10**9)
    assert snap.symbol == m_s[-1] and snap.recv_ts_ns == 7 and snap.seq is None
    assert [tuple(x) for x in snap.asks] == [tuple(x) for x in m_s[1]["as"]]
    d = m_u[1]
    levels = d.get("a", []) + d.get("b", [])
    assert isinstance(upd, BookDelta) and upd.exch_ts_ns == int(
        max(Decimal(lv[2]) for lv in levels) * 10**9)
    assert upd.checksum == int(d["c"])
    # the one message of the recording that changes both sides: one delta with both
    two = next(f for _, f in frames if f.count("},{") == 1 and _is_update(f))
    (both,) = feed.parse(two, 0)
    assert isinstance(both, BookDelta) and both.asks and both.bids and both.checksum
    assert feed.depths == {m_s[-1]: 1000}


def test_replay_and_cli_report_every_checksum(capsys: pytest.CaptureFixture[str]) -> None:
    assert "kraken" in VENUES and "kraken" in VENUE_CHOICES
    assert type(get_feed("kraken")) is KrakenFeed
    rep = replay(datasets.kraken_book_file(), "kraken")
    assert rep["malformed"] == {} and rep["needs_resync"] == []
    assert sum(d["checksum_ok"] for d in rep["instruments"].values()) == N_CHECKSUMS
    assert all(d["checksum_failed"] == 0 and d["book_valid"] and d["depth"] == 1000
               for d in rep["instruments"].values())
    assert main(["replay", str(datasets.kraken_book_file()), "--venue", "kraken", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    cli = json.loads(out)
    assert set(cli["instruments"]) == PAIRS
    assert sum(d["checksum_ok"] for d in cli["instruments"].values()) == N_CHECKSUMS
    assert sum(d["checksum_failed"] for d in cli["instruments"].values()) == 0
    assert cli["heartbeats"] == 31


# -- injected faults on the real frames ------------------------------------------------------------
def _top_changing_updates(frames: Frames, pair: str) -> list[int]:
    """Updates of ``pair`` whose checksum differs from the previous one (they change the top 10)
    and that are followed by another update of the pair."""
    idx = _updates(frames, pair)
    cs = [int(orjson.loads(frames[i][1])[-3]["c"]) for i in idx]
    return [idx[k] for k in range(1, len(idx) - 1) if cs[k] != cs[k - 1]]


def test_dropped_update_is_caught_by_the_next_checksum(frames: Frames) -> None:
    harmful = harmless = 0
    for pair in sorted(PAIRS):
        pf = _pair_frames(frames, pair)
        for drop in _top_changing_updates(pf, pair)[:3]:
            nxt = next(i for i in _updates(pf, pair) if i > drop)
            kept = pf[:drop] + pf[drop + 1:nxt + 1]
            ref, _, _ = _ref_run(pf[:drop] + pf[drop + 1:nxt])
            ref_after = ref[pair]
            c_next = ref_after.apply_message(orjson.loads(pf[nxt][1]))
            wrong = ref_after.checksum() != c_next  # is the book without the drop wrong?
            feed, events = _run(kept)
            st = feed.stats[pair]
            if wrong:
                harmful += 1
                assert st.checksum_failed == 1 and feed.books[pair].stale, (pair, drop)
                assert not feed.books[pair].valid and feed.needs_resync == {pair}
                (fail,) = _statuses(events, "checksum_failed", pair)
                assert fail.recv_ts_ns == pf[nxt][0]
            else:  # the next update overwrote what was lost: the book is right and stays valid
                harmless += 1
                assert st.checksum_failed == 0 and feed.books[pair].valid
    assert harmful >= 20  # nearly every dropped top-of-book update is caught


def test_dropped_update_then_stale_until_snapshot(frames: Frames) -> None:
    pair = "XMR/USD"
    drop = _top_changing_updates(frames, pair)[0]
    feed, events = _run(frames[:drop] + frames[drop + 1:])
    st = feed.stats[pair]
    n = len(_updates(frames, pair))
    assert st.checksum_failed == 1 and st.checksum_ok + 1 + st.stale_dropped == n - 1
    assert st.stale_dropped > 0 and len(_statuses(events, "stale", pair)) == st.stale_dropped
    assert feed.books[pair].stale and feed.needs_resync == {pair}
    for p in PAIRS - {pair}:  # the other pairs are untouched
        assert feed.stats[p].checksum_failed == 0 and feed.books[p].valid


def _with_checksum(frame: str, c: int) -> str:
    m = orjson.loads(frame)
    m[-3]["c"] = str(c)
    return orjson.dumps(m).decode()


def test_corrupted_checksum_fails(frames: Frames) -> None:
    pair = "SC/EUR"
    i = _updates(frames, pair)[10]
    c = int(orjson.loads(frames[i][1])[-3]["c"])
    bad = [*frames[:i], (frames[i][0], _with_checksum(frames[i][1], (c + 1) % 2**32)),
           *frames[i + 1:]]
    feed, events = _run(bad)
    assert feed.stats[pair].checksum_failed == 1
    (fail,) = _statuses(events, "checksum_failed", pair)
    assert str((c + 1) % 2**32) in fail.detail and fail.recv_ts_ns == frames[i][0]
    assert feed.books[pair].stale and feed.needs_resync == {pair}
    assert sum(feed.stats[p].checksum_ok for p in PAIRS - {pair}) == N_CHECKSUMS - len(
        _updates(frames, pair))


def test_truncated_frame_is_counted_and_the_stream_goes_on(frames: Frames) -> None:
    hb = next(i for i, (_, f) in enumerate(frames) if "heartbeat" in f)
    pair = "ETH/CHF"
    upd = _top_changing_updates(frames, pair)[2]
    bad = list(frames)
    bad[hb] = (bad[hb][0], bad[hb][1][:9])
    bad[upd] = (bad[upd][0], bad[upd][1][: len(bad[upd][1]) // 2])
    feed, events = _run(bad)
    assert feed.malformed == Counter(invalid_json=2)
    # each frame counted once; the truncated heartbeat is an event (``{...``) and touches no
    # book; the truncated update names its channelID: ETH/CHF is stale from that frame on (a
    # lost update beyond the checksum's 10 levels would go unseen)
    assert [e.symbol for e in _statuses(events, "malformed")] == ["", "", pair]
    assert feed.frames == len(frames) and feed.heartbeats == 30
    assert feed.stats[pair].checksum_failed == 0 and feed.books[pair].stale
    assert pair in feed.needs_resync
    for p in PAIRS - {pair}:
        assert feed.stats[p].checksum_ok == len(_updates(frames, p)) and feed.books[p].valid


def test_duplicated_update(frames: Frames, reference: tuple[dict[str, RefBook], int, int]
                           ) -> None:
    pair = "OMG/USD"
    idx = _updates(frames, pair)
    # an immediate duplicate re-sets the same volumes: harmless, and the book stays right
    i = idx[5]
    dup_now = [*frames[:i + 1], frames[i], *frames[i + 1:]]
    feed, _ = _run(dup_now)
    assert feed.stats[pair].checksum_ok == len(idx) + 1 and feed.stats[pair].checksum_failed == 0
    ref, _, _ = reference
    assert _book_levels(feed.books[pair], "bid") == ref[pair].best("bid")
    assert _book_levels(feed.books[pair], "ask") == ref[pair].best("ask")
    # a late duplicate (after a later update of the same level) restores an old volume: caught
    levels = [{lv[0] for d in orjson.loads(frames[j][1])[1:-2] for k in "ab" for lv in d.get(k, [])}
              for j in idx]
    tops = set(_top_changing_updates(frames, pair))
    k = next(k for k in range(len(idx) - 1)
             if idx[k] in tops and idx[k + 1] in tops and levels[k] & levels[k + 1])
    dup_recv = frames[idx[k + 1]][0] + 1
    late = [*frames[:idx[k + 1] + 1], (dup_recv, frames[idx[k]][1]), *frames[idx[k + 1] + 1:]]
    feed, events = _run(late)
    # at the duplicate itself, by its levels' time stamps (older than the book's): the
    # checksum alone could miss it where the duplicate brought back exactly the book its own
    # checksum describes (update k+1 touched only levels k set)
    assert feed.stats[pair].time_backwards == 1 and feed.books[pair].stale
    (fail,) = _statuses(events, "time_backwards", pair)
    assert fail.recv_ts_ns == dup_recv and feed.stats[pair].checksum_failed == 0


def test_fresh_snapshot_after_failure_makes_the_book_valid_again(frames: Frames) -> None:
    pair = "WAVES/EUR"
    idx = _updates(frames, pair)
    bad_at, snap_at = idx[20], idx[40]
    c = int(orjson.loads(frames[bad_at][1])[-3]["c"])
    chan = orjson.loads(frames[bad_at][1])[0]
    ref, _, _ = _ref_run(frames[:snap_at])  # the true book just before update 40
    snap = ref[pair].snapshot_frame(chan, pair)
    new = [*frames[:bad_at], (frames[bad_at][0], _with_checksum(frames[bad_at][1], c ^ 1)),
           *frames[bad_at + 1:snap_at], (frames[snap_at][0] - 1, snap), *frames[snap_at:]]
    feed, events = _run(new)
    st = feed.stats[pair]
    assert st.checksum_failed == 1 and st.resyncs == 1 and st.snapshots == 2
    assert st.stale_dropped == 19  # updates 21..39 waited for the snapshot
    assert st.checksum_ok == len(idx) - 20  # 0..19, then 40.. again
    assert len(_statuses(events, "resync", pair)) == 1
    assert feed.books[pair].valid and feed.needs_resync == set()
    full, _, _ = _ref_run(frames)
    assert _book_levels(feed.books[pair], "bid") == full[pair].best("bid")
    assert _book_levels(feed.books[pair], "ask") == full[pair].best("ask")


def _at_depth(frames: Frames, depth: int) -> Frames:
    """The recording as if subscribed at ``depth``: channel ``book-<depth>`` and snapshots of
    ``depth`` levels a side (updates beyond the depth still arrive and must be dropped)."""
    out = []
    for r, f in frames:
        m = _msg(f)
        if isinstance(m, list):
            m[-2] = f"book-{depth}"
            if "as" in m[1]:
                m[1]["as"] = m[1]["as"][:depth]
                m[1]["bs"] = m[1]["bs"][:depth]
            f = orjson.dumps(m).decode()
        out.append((r, f))
    return out


def test_book_kept_at_the_subscribed_depth(frames: Frames,
                                           reference: tuple[dict[str, RefBook], int, int]
                                           ) -> None:
    shallow = _at_depth(frames, 100)
    feed = KrakenFeed()
    for r, f in shallow:
        feed.on_frame(f, r)
        for b in feed.books.values():
            assert b.n_bids <= 100 and b.n_asks <= 100
    assert feed.depths == dict.fromkeys(PAIRS, 100)
    assert sum(feed.stats[p].checksum_ok for p in PAIRS) == N_CHECKSUMS
    ref, _, _ = reference
    ref100, ok, _ = _ref_run(shallow, depth=100)
    assert ok == N_CHECKSUMS
    for p in PAIRS:
        b = feed.books[p]
        assert isinstance(b, KrakenBook) and b.max_depth == 100 and b.valid
        assert b.truncated == ref100[p].trimmed, p  # inserts pushed levels out: dropped
        for side in ("bid", "ask"):
            mine = _book_levels(b, side)
            assert mine == ref100[p].best(side), (p, side)
            assert 10 < len(mine) <= 100
            assert mine == ref[p].best(side)[: len(mine)], (p, side)  # a prefix of the full book
    assert sum(feed.books[p].truncated for p in PAIRS) > 0
    # depth=25 forces the depth whatever the channel says. Kraken (subscribed at 1000) then
    # never republishes the levels this book dropped, so once deletions bring a dropped level
    # back into the top 10 the book is wrong: the checksum must catch it exactly there
    forced, events = _run(frames, depth=25)
    assert all(b.n_bids <= 25 and b.n_asks <= 25 for b in forced.books.values())
    first_wrong: dict[str, int] = {}
    ref25: dict[str, RefBook] = {}
    for r, f in frames:
        m = orjson.loads(f)
        if isinstance(m, list) and m[-1] not in first_wrong:
            rb = ref25.setdefault(m[-1], RefBook(25))
            c = rb.apply_message(m)
            if c is not None and c != rb.checksum():
                first_wrong[m[-1]] = r
    first_fail: dict[str, int] = {}
    for e in _statuses(events, "checksum_failed"):
        first_fail.setdefault(e.symbol, e.recv_ts_ns)
    assert first_fail == first_wrong and first_fail  # some pairs lose levels within 31 s
    assert all(forced.stats[p].checksum_failed == 1 for p in first_fail)
    assert forced.needs_resync == set(first_fail)


def test_depth_truncation_and_republish_known_truth() -> None:
    # a depth-10 book: asks 100.10 .. 101.00, bids 99.90 .. 99.00
    asks = [[f"{100.1 + i / 10:.2f}", "1.00000000", "1618678100.000001"] for i in range(10)]
    bids = [[f"{99.9 - i / 10:.2f}", "2.00000000", "1618678100.000002"] for i in range(10)]
    ref = RefBook(10)
    feed = KrakenFeed()
    events: list[Any] = []
    sub = {"channelID": 7, "channelName": "book-10", "event": "subscriptionStatus",
           "pair": "XBT/USD", "status": "subscribed", "subscription": {"depth": 10, "name": "book"}}
    events += feed.on_frame(orjson.dumps(sub), 1)
    snap = [7, {"as": asks, "bs": bids}, "book-10", "XBT/USD"]
    ref.apply_message(snap)
    events += feed.on_frame(orjson.dumps(snap), 2)

    def send(*payload: dict[str, Any]) -> None:
        m = [7, *payload, "book-10", "XBT/USD"]
        ref.apply_message(m)
        m[-3]["c"] = str(ref.checksum())
        events.extend(feed.on_frame(orjson.dumps(m), 3))

    send({"b": [["99.95", "5.00000000", "1618678101.5"]]})  # 11 bids: 99.00 drops out
    book = feed.books["XBT/USD"]
    assert book.n_bids == 10 and book.level_strings("bid", 10)[-1] == ("99.10", "2.00000000")
    send({"b": [["99.95", "0.00000000", "1618678102.5"],
                ["99.00", "2.00000000", "1618678102.6", "r"]]})  # delete; 99.00 republished
    assert book.level_strings("bid", 10) == [(b[0], b[1]) for b in bids]
    send({"a": [["100.05", "3.00000000", "1618678103.5"]]},
         {"b": [["99.95", "1.00000000", "1618678103.6"]]})  # both sides: both worst drop out
    assert book.level_strings("ask", 11) == ref.best("ask") and book.n_asks == 10
    assert book.level_strings("bid", 11) == ref.best("bid") and book.n_bids == 10
    assert book.truncated == 3 and feed.stats["XBT/USD"].checksum_ok == 3
    assert book.valid and _statuses(events, "checksum_failed") == []
    assert book.instrument is get_instrument("kraken", "XBT/USD")
    assert book.last_exch_ts_ns == 1618678103_600000000


def test_crossed_book_is_flagged(frames: Frames) -> None:
    pair = "KSM/XBT"
    i = _updates(frames, pair)[8]
    ref, _, _ = _ref_run(frames[: i + 1])
    rb = ref[pair]
    chan = orjson.loads(frames[i][1])[0]
    best_ask = rb.best("ask", 1)[0][0]
    tick = Decimal(1).scaleb(-get_instrument("kraken", pair).price_decimals)
    cross_px = str(Decimal(best_ask) + tick)
    msgs = []
    for vol in ("1.00000000", "0.00000000"):  # a bid above the best ask, then its removal
        m = [chan, {"b": [[cross_px, vol, "1618678150.000000"]]}, "book-1000", pair]
        rb.apply_message(m)
        m[1]["c"] = str(rb.checksum())  # a right checksum: only the crossing is wrong
        msgs.append(orjson.dumps(m).decode())
    r = frames[i][0]
    feed, events = _run([*frames[: i + 1], (r + 1, msgs[0])])
    book = feed.books[pair]
    assert book.crossed and not book.valid and not book.stale
    assert feed.stats[pair].crossed == 1 and feed.stats[pair].checksum_failed == 0
    (x,) = _statuses(events, "crossed", pair)
    assert cross_px in x.detail or str(float(cross_px)) in x.detail
    feed, events = _run([*frames[: i + 1], (r + 1, msgs[0]), (r + 2, msgs[1]),
                         *frames[i + 1:]])
    assert len(_statuses(events, "uncrossed", pair)) == 1
    assert feed.books[pair].valid and feed.stats[pair].checksum_failed == 0
    # sanitize_crossed removes the crossing level at once
    feed, _ = _run([*frames[: i + 1], (r + 1, msgs[0])], sanitize_crossed=True)
    assert feed.books[pair].valid and feed.stats[pair].crossed_removed_levels >= 1


# -- malformed frames -----------------------------------------------------------------------------
GOOD_UPD = '[1, {"a": [["5.0", "1.0", "1618678100.1"]], "c": "12"}, "book-10", "A/B"]'
BAD_FRAMES = {
    '[1, {"a": [["5.0", "1.0", "1618678100.1"]], "c": "1': "invalid_json",
    '"book"': "not_an_array_or_object",
    '[1, "book-10", "A/B"]': "short_array",
    '[1, {"a": []}, 5, "A/B"]': "bad_channel",
    '[1, {"a": []}, "book-x", "A/B"]': "bad_channel",
    '[1, {"as": [], "a": []}, "book-10", "A/B"]': "bad_book",
    '[1, {"a": [["5.0", "1.0", "1.0"]], "c": "1"}, {"b": []}, "book-10", "A/B"]': "bad_book",
    '[1, {"x": []}, "book-10", "A/B"]': "bad_book",
    '[1, {"c": "12"}, "book-10", "A/B"]': "bad_book",
    '[1, {"a": [["abc", "1.0", "1618678100.1"]]}, "book-10", "A/B"]': "bad_level",
    '[1, {"a": [["5.0", "-1.0", "1618678100.1"]]}, "book-10", "A/B"]': "bad_level",
    '[1, {"a": [["5.0", "nan", "1618678100.1"]]}, "book-10", "A/B"]': "bad_level",
    '[1, {"a": [["5.0", "1.0"]]}, "book-10", "A/B"]': "bad_level",
    '[1, {"a": [["5.0", "1.0", "16x"]]}, "book-10", "A/B"]': "bad_level",
    '[1, {"a": [["5.0", "1.0", "1618678100.1", "q"]]}, "book-10", "A/B"]': "bad_level",
    '[1, {"a": [[5.0, "1.0", "1618678100.1"]]}, "book-10", "A/B"]': "bad_level",
    '[1, {"a": "none"}, "book-10", "A/B"]': "bad_levels",
    '[1, {"a": [["5.0", "1.0", "1618678100.1"]], "c": "x1"}, "book-10", "A/B"]': "bad_checksum",
    '[1, {"a": [["5.0", "1.0", "1618678100.1"]], "c": "4294967296"}, "book-10", "A/B"]':
        "bad_checksum",
    '{"status": "online"}': "no_event",
    '{"event": "subscriptionStatus", "status": "weird"}': "bad_event",
}


@pytest.mark.parametrize(("frame", "reason"), list(BAD_FRAMES.items()))
def test_malformed_frame_reason(frame: str, reason: str) -> None:
    feed = KrakenFeed()
    with pytest.raises(MalformedFrame) as e:
        feed.parse(frame, 0)
    assert e.value.reason == reason


def test_malformed_frames_counted_and_the_stream_goes_on(frames: Frames) -> None:
    pair = "GRT/ETH"
    i = _updates(frames, pair)[0]
    bad = [(frames[i][0], f) for f in BAD_FRAMES]
    feed, events = _run([*frames[:i], *bad, *frames[i:]])
    assert feed.malformed == Counter(BAD_FRAMES.values())
    # each counted once; the one frame that is not JSON names no channel the stream has: it
    # may have been an update of any pair, and Kraken v1 has no ids to tell a loss later
    unreadable = [e for e in _statuses(events, "malformed") if e.symbol]
    assert len(_statuses(events, "malformed")) - len(unreadable) == len(BAD_FRAMES)
    assert {e.symbol for e in unreadable} == {p for p in PAIRS if feed.stats[p].snapshots}
    assert not any(feed.books[p].valid for p in {e.symbol for e in unreadable})
    # without it, the wrong frames (valid JSON that is no book message of the stream) touch
    # no book: every update still verifies
    rest = {f: r for f, r in BAD_FRAMES.items() if r != "invalid_json"}
    bad = [(frames[i][0], f) for f in rest]
    feed, events = _run([*frames[:i], *bad, *frames[i:]])
    assert feed.malformed == Counter(rest.values())
    assert len(_statuses(events, "malformed")) == len(rest)
    assert sum(feed.stats[p].checksum_ok for p in PAIRS) == N_CHECKSUMS
    assert all(feed.books[p].valid for p in PAIRS)


def test_events_and_other_channels() -> None:
    feed = KrakenFeed()
    (err,) = feed.on_frame('{"errorMessage":"Currency pair not supported XBT/ZZZ",'
                           '"event":"subscriptionStatus","pair":"XBT/ZZZ","status":"error",'
                           '"subscription":{"depth":10,"name":"book"}}', 1)
    assert err.kind == "error" and "not supported" in err.detail and err.symbol == "XBT/ZZZ"
    (ack,) = feed.on_frame('{"channelID":5,"channelName":"book-10","event":"subscriptionStatus",'
                           '"pair":"XBT/USD","status":"unsubscribed",'
                           '"subscription":{"depth":10,"name":"book"}}', 2)
    assert ack.kind == "ack" and ack.detail.startswith("unsubscribed")
    (pong,) = feed.on_frame('{"event":"pong","reqid":4}', 3)
    assert pong.kind == "heartbeat" and feed.heartbeats == 1
    assert feed.on_frame('[5,[["5541.2","0.15","1534614057.3","s","l",""]],"trade","XBT/USD"]',
                         4) == []
    assert feed.ignored == Counter(trade=1) and feed.errors == [err.detail] and feed.acks == 1
    # an update before any snapshot is dropped, counted and reported
    (ev, stale) = feed.on_frame(GOOD_UPD, 5)
    assert isinstance(ev, BookDelta) and stale.kind == "stale" and "no snapshot" in stale.detail
    assert feed.stats["A/B"].stale_dropped == 1 and feed.stats["A/B"].checksum_failed == 0


# -- declarations -----------------------------------------------------------------------------------
def test_subscribe_messages_match_the_recorded_request() -> None:
    text = datasets.kraken_book_file().read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith(f"{PUBLIC_URL} <- "))
    sent = orjson.loads(line.split(": ", 1)[1])
    assert orjson.loads(subscribe_message(sent["pair"], 1000)) == sent
    un, sub = resync_messages("XBT/CHF", 100)
    assert orjson.loads(un) == {"event": "unsubscribe", "pair": ["XBT/CHF"],
                                "subscription": {"name": "book", "depth": 100}}
    assert orjson.loads(sub)["event"] == "subscribe"
    assert orjson.loads(unsubscribe_message(["A/B"], 10, reqid=3))["reqid"] == 3
    assert BOOK_DEPTHS == (10, 25, 100, 500, 1000)
    with pytest.raises(ValueError, match="depth=7"):
        subscribe_message(["XBT/USD"], 7)
    with pytest.raises(ValueError, match="pairs="):
        subscribe_message("XBT/USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pair='XBTUSD'"):
        subscribe_message(["XBTUSD"])
    with pytest.raises(ValueError, match="depth=7"):
        KrakenFeed(depth=7)
    with pytest.raises(ValueError, match="max_depth=-1"):
        KrakenBook(max_depth=-1)


def test_checksum_function_layout() -> None:
    # asks ascending then bids descending; the point and the leading zeros removed
    asks = [("0.05005", "0.00000500"), ("0.05010", "1.50000000")]
    bids = [("0.05000", "0.00000500")]
    s = checksum_string(asks, bids)
    assert s == "5005" + "500" + "5010" + "150000000" + "5000" + "500"
    assert kraken_checksum(asks, bids) == zlib.crc32(s.encode())
    eleven = [(f"{i}.0", "1.0") for i in range(1, 12)]
    assert checksum_string(eleven, []) == checksum_string(eleven[:10], [])  # top 10 only


# -- instruments and fees from the AssetPairs answer -------------------------------------------------
@pytest.fixture(scope="module")
def raw_assetpairs() -> dict[str, Any]:
    line = datasets.kraken_assetpairs_file().read_text().splitlines()[0]
    res: dict[str, Any] = json.loads(line.split(": ", 1)[1])["result"]
    return res


def test_instruments_of_the_recorded_pairs(frames: Frames, raw_assetpairs: dict[str, Any]
                                           ) -> None:
    by_ws = {v["wsname"]: v for v in raw_assetpairs.values() if "wsname" in v}
    ans = packaged_assetpairs()
    assert ans.url == "https://api.kraken.com/0/public/AssetPairs" and ans.date == "2021-04-17"
    pairs = pairs_from_assetpairs(ans)
    insts = instruments_from_assetpairs(ans)
    assert len(pairs) == len(by_ws) == 293 and len(raw_assetpairs) == 304  # 11 dark-pool pairs
    assert packaged_pairs() == pairs and packaged_pairs() is packaged_pairs()  # built once
    for ws in PAIRS:
        raw = by_ws[ws]
        inst = insts[ws]
        assert inst.venue == "kraken" and inst.symbol == ws and inst.kind == "spot"
        assert (inst.base, inst.quote) == tuple(ws.split("/"))
        assert inst.tick_size == pytest.approx(10.0 ** -raw["pair_decimals"], rel=1e-12)
        assert inst.price_decimals == raw["pair_decimals"]
        assert inst.lot_size == pytest.approx(10.0 ** -raw["lot_decimals"], rel=1e-12)
        assert not inst.sized_in_contracts and inst.base_per_unit(1.0) == 1.0
        p = pairs[ws]
        assert p.ordermin == float(raw["ordermin"]) and p.base_asset == raw["base"]
        assert p.instrument == inst
    x = insts["XBT/CHF"]
    assert (x.tick_size, x.lot_size, pairs["XBT/CHF"].ordermin) == (0.1, 1e-8, 0.0002)
    # every price and volume recorded lies on the instrument's grid
    feed, _ = _run(frames)
    for ws in PAIRS:
        tick = Decimal(1).scaleb(-insts[ws].price_decimals)
        lot = Decimal(1).scaleb(-by_ws[ws]["lot_decimals"])
        b = feed.books[ws]
        assert b.instrument == insts[ws]
        for px, sz in _book_levels(b, "bid") + _book_levels(b, "ask"):
            assert Decimal(px) % tick == 0 and Decimal(sz) % lot == 0, (ws, px, sz)


def test_register_pairs_and_bad_answers(tmp_path: Path, raw_assetpairs: dict[str, Any]) -> None:
    register_pairs()
    assert INSTRUMENTS[("kraken", "ADA/XBT")].tick_size == pytest.approx(1e-8)
    assert register_pairs() == 0  # nothing new the second time
    one = {"error": [], "result": {"XBTCHF": dict(raw_assetpairs["XBTCHF"], tick_size="0.5")}}
    assert instruments_from_assetpairs(one)["XBT/CHF"].tick_size == 0.5
    with pytest.raises(ValueError, match="errors"):
        pairs_from_assetpairs({"error": ["EGeneral:Too many requests"], "result": {}})
    bad = dict(raw_assetpairs["XBTCHF"], pair_decimals=-1)
    with pytest.raises(ValueError, match="XBTCHF: pair_decimals=-1"):
        pairs_from_assetpairs({"error": [], "result": {"XBTCHF": bad}})
    bad = dict(raw_assetpairs["XBTCHF"], wsname="XBTCHF")
    with pytest.raises(ValueError, match="wsname='XBTCHF'"):
        pairs_from_assetpairs({"XBTCHF": bad})
    bad = dict(raw_assetpairs["XBTCHF"], fees=[[50000, 0.24], [0, 0.26]])
    with pytest.raises(ValueError, match="ascending"):
        pairs_from_assetpairs({"XBTCHF": bad})
    bad = dict(raw_assetpairs["XBTCHF"], ordermin="lots")
    with pytest.raises(ValueError, match="ordermin='lots'"):
        pairs_from_assetpairs({"XBTCHF": bad})
    p = tmp_path / "ap.log"
    p.write_text("https://api.kraken.com/0/public/AssetPairs -> 12x: {}\n")
    with pytest.raises(ValueError, match=r"ap\.log:1"):
        read_assetpairs(p)
    p.write_text("nothing here\n")
    with pytest.raises(ValueError, match="no line"):
        read_assetpairs(p)
    p.write_text(json.dumps(one))
    assert read_assetpairs(p).fetched_at_s is None


def test_fee_schedule_from_assetpairs(raw_assetpairs: dict[str, Any]) -> None:
    s = fee_schedule("XBT/CHF")
    raw = raw_assetpairs["XBTCHF"]
    assert isinstance(s, FeeSchedule) and s.venue == "kraken" and s.product == "spot"
    assert len(s.tiers) == len(raw["fees"]) == len(raw["fees_maker"]) == 9
    assert (s.tiers[0].maker_bps, s.tiers[0].taker_bps) == (16.0, 26.0)  # 0.16 %, 0.26 %
    assert (s.tiers[-1].maker_bps, s.tiers[-1].taker_bps) == (0.0, 10.0)
    for (vol, pct_t), (vol_m, pct_m), t in zip(raw["fees"], raw["fees_maker"], s.tiers,
                                               strict=True):
        assert vol == vol_m
        assert t.taker_bps == pytest.approx(pct_t * 100) and t.maker_bps == pytest.approx(pct_m * 100)
    assert s.source_url == "https://api.kraken.com/0/public/AssetPairs"
    assert s.as_of == "2021-04-17"
    assert "AssetPairs" in s.notes and "2021-04-17 16:48:52 UTC" in s.notes
    assert s.tier("50,000+ USD").taker_bps == 24.0
    assert s.fee_usd(10_000.0, "0+ USD", maker_share=1.0) == pytest.approx(16.0)
    assert tier_for_volume(49_999.99, "XBT/CHF").name == "0+ USD"
    assert tier_for_volume(50_000, "XBT/CHF").name == "50,000+ USD"
    assert tier_for_volume(1e12, "XBT/CHF").name == "10,000,000+ USD"
    assert [v for v, _ in fee_tiers("XBT/CHF")] == [float(v) for v, _ in raw["fees"]]
    # a pair with the other (6-tier) table, as the answer has it
    six = next(v for v in raw_assetpairs.values() if "wsname" in v and len(v["fees"]) == 6)
    s6 = fee_schedule_fn(six["wsname"])
    assert len(s6.tiers) == 6 and s6.tiers[0].taker_bps == pytest.approx(six["fees"][0][1] * 100)
    with pytest.raises(ValueError, match="pair='XBT/ZZZ'"):
        fee_schedule("XBT/ZZZ")
    with pytest.raises(ValueError, match="as_of"):
        fee_schedule("XBT/CHF", {"error": [], "result": {"XBTCHF": raw}})
    own = fee_schedule("XBT/CHF", {"error": [], "result": {"XBTCHF": raw}}, as_of="2021-04-18")
    assert own.as_of == "2021-04-18" and own.tiers == s.tiers
    with pytest.raises(ValueError, match="volume_30d=-1"):
        tier_for_volume(-1)
    stamped = AssetPairsAnswer({"result": {"XBTCHF": raw}}, fetched_at_s=1618678132.0)
    assert fee_schedule("XBT/CHF", stamped).as_of == "2021-04-17"
