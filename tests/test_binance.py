"""Binance spot / USD-M parsers: the real BTCUSDT recording through the real parser, faults
injected into it, and the futures rules on frames shaped exactly as Binance documents them.

Expected figures are measured from the recording by an independent plain-``json`` scan in this
module (never typed in), and the final book is compared with a naive dict replay of the same
diffs.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import pytest

from tradesim_nb.datasets import binance_spot_files
from tradesim_nb.events import BBO, BookDelta, BookSnapshot, FeedStatus, Trade
from tradesim_nb.recording import read_frames
from tradesim_nb.venues import get_feed
from tradesim_nb.venues.binance import (
    BinanceFuturesFeed,
    BinanceSpotFeed,
    snapshot_payload,
)

SYM = "BTCUSDT"
Frames = list[tuple[int, str]]


# -- independent scan of the recording (stdlib json, no tradesim code) --------------------------
@dataclass
class Scan:
    snapshot_index: int
    last_update_id: int
    diff_indices: list[int]
    diff_ids: list[tuple[int, int]]  # (U, u)
    trades: int
    trade_qty: float
    trade_notional: float
    sells: int
    tickers: int
    file1_frames: int
    ref_bids: dict[float, float]
    ref_asks: dict[float, float]


def _scan(frames: Frames, file1_frames: int) -> Scan:
    snap_i = -1
    last_id = -1
    diff_idx: list[int] = []
    ids: list[tuple[int, int]] = []
    qtys: list[float] = []
    notionals: list[float] = []
    sells = tickers = 0
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    diffs: list[dict] = []
    for i, (_, raw) in enumerate(frames):
        obj = json.loads(raw)
        data = obj.get("data", obj)
        if "lastUpdateId" in data:
            snap_i, last_id = i, data["lastUpdateId"]
            bids = {float(p): float(q) for p, q in data["bids"]}
            asks = {float(p): float(q) for p, q in data["asks"]}
        elif data.get("e") == "depthUpdate":
            diff_idx.append(i)
            ids.append((data["U"], data["u"]))
            diffs.append(data)
        elif data.get("e") == "trade":
            qtys.append(float(data["q"]))
            notionals.append(float(data["q"]) * float(data["p"]))
            sells += bool(data["m"])
        elif "B" in data and "A" in data:
            tickers += 1
    # naive replay: the snapshot, then every diff newer than it in arrival order
    for data in diffs:
        if data["u"] > last_id:
            for side, key in ((bids, "b"), (asks, "a")):
                for p, q in data[key]:
                    if float(q) == 0.0:
                        side.pop(float(p), None)
                    else:
                        side[float(p)] = float(q)
    return Scan(snap_i, last_id, diff_idx, ids, len(qtys), math.fsum(qtys),
                math.fsum(notionals), sells, tickers, file1_frames, bids, asks)


@dataclass
class Run:
    feed: BinanceSpotFeed
    statuses: list[FeedStatus]
    seq_at_boundary: int | None
    seconds: float


def _run(frames: Iterable[tuple[int, str]], boundary: int | None = None) -> Run:
    feed = BinanceSpotFeed()
    statuses: list[FeedStatus] = []
    seq_at_boundary = None
    t0 = time.perf_counter()
    for i, (recv_ns, raw) in enumerate(frames):
        if i == boundary:
            seq_at_boundary = feed.books[SYM].seq
        for ev in feed.on_frame(raw, recv_ns):
            if type(ev) is FeedStatus:
                statuses.append(ev)
    return Run(feed, statuses, seq_at_boundary, time.perf_counter() - t0)


@pytest.fixture(scope="module")
def frames() -> Frames:
    return list(read_frames(*binance_spot_files()))


@pytest.fixture(scope="module")
def scan(frames: Frames) -> Scan:
    n1 = sum(1 for _ in read_frames(binance_spot_files()[0]))
    return _scan(frames, n1)


@pytest.fixture(scope="module")
def clean(frames: Frames, scan: Scan) -> Run:
    return _run(frames, boundary=scan.file1_frames)


def _kinds(statuses: list[FeedStatus]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in statuses:
        out[s.kind] = out.get(s.kind, 0) + 1
    return out


def _book_levels(feed: BinanceSpotFeed, n: int) -> tuple[list[tuple[float, float]], ...]:
    return feed.books[SYM].snapshot_levels(n)


def _ref_levels(scan: Scan, n: int) -> tuple[list[tuple[float, float]], ...]:
    b = sorted(scan.ref_bids.items(), reverse=True)[:n]
    a = sorted(scan.ref_asks.items())[:n]
    return b, a


# -- the recording itself --------------------------------------------------------------------------
def test_recording_is_what_the_data_readme_says(scan: Scan) -> None:
    assert scan.snapshot_index > 0, "the REST snapshot is not the first line"
    assert scan.file1_frames > 0
    # the diffs' ids chain without gaps over both files
    for (_, u_prev), (u_first, _) in zip(scan.diff_ids, scan.diff_ids[1:]):
        assert u_first == u_prev + 1
    # the diffs that straddle the snapshot: one of them bridges it as Binance documents
    later = [(U, u) for U, u in scan.diff_ids if u > scan.last_update_id]
    assert later[0][0] <= scan.last_update_id + 1 <= later[0][1]


# -- sync on the real recording --------------------------------------------------------------------
def test_syncs_from_rest_snapshot_and_crosses_the_file_boundary(clean: Run, scan: Scan) -> None:
    feed = clean.feed
    st = feed.stats[SYM]
    book = feed.books[SYM]
    n_diffs = len(scan.diff_ids)
    n_stale = sum(1 for _, u in scan.diff_ids if u <= scan.last_update_id)
    assert st.snapshots == 1 and st.gaps == 0 and st.resyncs == 0
    assert feed.malformed == {} and not feed.needs_resync
    assert book.valid and not book.stale and not book.crossed
    # every diff is accounted for: applied, or dropped as older than the snapshot
    assert st.deltas + st.stale_dropped == n_diffs
    assert st.stale_dropped == n_stale
    assert st.deltas == n_diffs - n_stale
    assert len(feed.states[SYM].buffer) == 0
    kinds = _kinds(clean.statuses)
    assert kinds.get("buffering") == 1 and kinds.get("stale") == n_stale
    assert "gap" not in kinds
    # the book continued across the file boundary: at the first frame of file 2 it sits on the
    # last diff of file 1, and it ends on the last diff of file 2
    last_u_file1 = max(u for (_, u), i in zip(scan.diff_ids, scan.diff_indices)
                       if i < scan.file1_frames)
    assert clean.seq_at_boundary == last_u_file1
    assert book.seq == scan.diff_ids[-1][1]
    print(f"\nbinance sync: {n_diffs} diffs = {st.deltas} applied + {st.stale_dropped} stale "
          f"(u <= lastUpdateId={scan.last_update_id}); 0 gaps")


def test_final_book_equals_a_naive_replay(clean: Run, scan: Scan) -> None:
    got_b, got_a = _book_levels(clean.feed, 200)
    ref_b, ref_a = _ref_levels(scan, 200)
    assert got_b == ref_b
    assert got_a == ref_a
    assert clean.feed.books[SYM].n_bids == len(scan.ref_bids)
    assert clean.feed.books[SYM].n_asks == len(scan.ref_asks)


def test_top_of_book_matches_book_ticker(clean: Run, scan: Scan) -> None:
    feed = clean.feed
    st = feed.stats[SYM]
    checked = st.top_match + st.top_mismatch
    pending = len(feed.states[SYM].top_checks)
    # each applied diff is checked, except the last few waiting for a later bookTicker
    assert feed.stats[SYM].top_unchecked == 0
    assert checked + pending == st.deltas
    assert pending <= 5
    share = st.top_match / checked
    print(f"\nbinance top-of-book vs bookTicker: {st.top_match}/{checked} = {100 * share:.3f} % "
          f"({st.top_mismatch} mismatches, {pending} pending at the end)")
    assert share >= 0.999
    assert st.bbos == scan.tickers


def test_trades_parsed(clean: Run, scan: Scan, frames: Frames) -> None:
    feed = BinanceSpotFeed()
    trades: list[Trade] = []
    for recv_ns, raw in frames:
        if '"e":"trade"' in raw:
            trades.extend(e for e in feed.parse(raw, recv_ns) if type(e) is Trade)
    assert len(trades) == scan.trades == clean.feed.stats[SYM].trades
    assert math.isclose(math.fsum(t.qty for t in trades), scan.trade_qty, rel_tol=1e-12)
    assert math.isclose(math.fsum(t.qty * t.price for t in trades), scan.trade_notional,
                        rel_tol=1e-12)
    assert sum(t.side == "sell" for t in trades) == scan.sells  # m=true: the aggressor sold
    assert all(t.exch_ts_ns > 1.7e18 and t.recv_ts_ns > 1.7e18 for t in trades)
    print(f"\nbinance trades: {len(trades)} trades, {scan.trade_qty:.5f} BTC, "
          f"{scan.trade_notional:,.0f} USDT, {scan.sells} aggressor sells")


def test_microseconds_per_frame(clean: Run, frames: Frames) -> None:
    us = clean.seconds / len(frames) * 1e6
    print(f"\nbinance replay parse+apply: {us:.2f} µs/frame over {len(frames)} frames")
    assert us < 500  # a huge margin: only catches a pathological slowdown


# -- fault injection --------------------------------------------------------------------------------
def _diff_after_sync(scan: Scan, k: int) -> int:
    """Frame index of the k-th diff applied after the snapshot."""
    applied = [i for i, (_, u) in zip(scan.diff_indices, scan.diff_ids)
               if u > scan.last_update_id]
    return applied[k]


def test_dropped_diff_is_a_gap(frames: Frames, scan: Scan, clean: Run) -> None:
    drop = _diff_after_sync(scan, 1000)
    faulty = frames[:drop] + frames[drop + 1:]
    run = _run(faulty)
    feed = run.feed
    st = feed.stats[SYM]
    assert st.gaps == 1 and st.resyncs == 0
    assert feed.books[SYM].stale and not feed.books[SYM].valid
    assert feed.needs_resync == {SYM}
    gap = [s for s in run.statuses if s.kind == "gap"]
    assert len(gap) == 1 and gap[0].recv_ts_ns == frames[scan.diff_indices[
        scan.diff_indices.index(drop) + 1]][0]
    # the diffs after the gap wait in the buffer for a new snapshot
    assert st.deltas == 1000
    assert st.deltas + st.stale_dropped + len(feed.states[SYM].buffer) == len(scan.diff_ids) - 1


def test_duplicated_diff_is_dropped_as_stale(frames: Frames, scan: Scan, clean: Run) -> None:
    dup = _diff_after_sync(scan, 2000)
    # delivered again right away and once more a few frames later
    faulty = [*frames[:dup + 1], frames[dup], *frames[dup + 1:dup + 6], frames[dup],
              *frames[dup + 6:]]
    run = _run(faulty)
    st = run.feed.stats[SYM]
    base = clean.feed.stats[SYM]
    assert st.gaps == 0 and not run.feed.needs_resync
    assert st.stale_dropped == base.stale_dropped + 2
    assert st.deltas == base.deltas
    assert _book_levels(run.feed, 200) == _book_levels(clean.feed, 200)
    assert (st.top_match, st.top_mismatch) == (base.top_match, base.top_mismatch)


def test_truncated_frames_are_counted_and_the_stream_goes_on(frames: Frames, scan: Scan,
                                                             clean: Run) -> None:
    i_trade = next(i for i in range(scan.snapshot_index + 1000, len(frames))
                   if '"e":"trade"' in frames[i][1])
    recv, raw = frames[i_trade]
    faulty = [*frames[:i_trade], (recv, raw[: len(raw) // 2]), *frames[i_trade + 1:]]
    run = _run(faulty)
    st = run.feed.stats[SYM]
    assert run.feed.malformed == {"invalid_json": 1}
    assert [s.kind for s in run.statuses].count("malformed") == 1
    assert st.trades == clean.feed.stats[SYM].trades - 1
    assert st.gaps == 0 and st.deltas == clean.feed.stats[SYM].deltas
    assert run.feed.books[SYM].valid
    # a truncated diff loses its updates: malformed and, at the next diff, a gap
    i_diff = _diff_after_sync(scan, 3000)
    recv, raw = frames[i_diff]
    run = _run([*frames[:i_diff], (recv, raw[:100]), *frames[i_diff + 1:]])
    assert run.feed.malformed == {"invalid_json": 1}
    assert run.feed.stats[SYM].gaps == 1 and run.feed.needs_resync == {SYM}


def test_new_rest_snapshot_after_a_gap_resyncs(frames: Frames, scan: Scan, clean: Run) -> None:
    drop = _diff_after_sync(scan, 1500)
    pos = scan.diff_indices.index(drop)
    # what a REST request made after the gap would return: the book as of diff pos+3
    at = scan.diff_indices[pos + 3]
    upto = _run(frames[:at + 1]).feed
    snap_u = scan.diff_ids[pos + 3][1]
    assert upto.books[SYM].seq == snap_u
    snap_line = json.dumps(snapshot_payload(upto.books[SYM], snap_u))
    insert_at = scan.diff_indices[pos + 5] + 1  # diffs pos+1..pos+5 wait in the buffer
    faulty = [*frames[:drop], *frames[drop + 1:insert_at], (frames[insert_at][0], snap_line),
              *frames[insert_at:]]
    run = _run(faulty)
    feed = run.feed
    st = feed.stats[SYM]
    assert st.gaps == 1 and st.resyncs == 1 and st.snapshots == 2
    assert not feed.needs_resync and feed.books[SYM].valid
    # buffered diffs pos+1..pos+3 are older than the new snapshot; pos+4 bridges it
    assert st.stale_dropped == clean.feed.stats[SYM].stale_dropped + 3
    assert st.deltas == clean.feed.stats[SYM].deltas - 4
    assert _book_levels(feed, 200) == _book_levels(clean.feed, 200)
    kinds = _kinds(run.statuses)
    assert kinds["resync"] == 1 and kinds["gap"] == 1
    assert st.top_mismatch == clean.feed.stats[SYM].top_mismatch


def test_old_snapshot_cannot_bridge_the_buffer(frames: Frames, scan: Scan) -> None:
    drop = _diff_after_sync(scan, 500)
    pos = scan.diff_indices.index(drop)
    insert_at = scan.diff_indices[pos + 2] + 1
    old = frames[scan.snapshot_index][1]
    faulty = [*frames[:drop], *frames[drop + 1:insert_at], (frames[insert_at][0], old),
              *frames[insert_at:]]
    run = _run(faulty)
    st = run.feed.stats[SYM]
    # the re-delivered original snapshot is far older than the buffered diffs: a second gap
    assert st.gaps == 2 and run.feed.needs_resync == {SYM}
    assert run.feed.books[SYM].stale


# -- parser details on documented frames -----------------------------------------------------------
def test_raw_and_combined_payloads_parse_alike() -> None:
    data = {"e": "depthUpdate", "E": 123456789, "s": "BNBBTC", "U": 157, "u": 160,
            "b": [["0.0024", "10"]], "a": [["0.0026", "100"]]}
    f = BinanceSpotFeed()
    raw = f.parse(json.dumps(data), 1)
    wrapped = f.parse(json.dumps({"stream": "bnbbtc@depth", "data": data}), 1)
    assert raw == wrapped
    (d,) = raw
    assert type(d) is BookDelta and (d.first_seq, d.seq, d.prev_seq) == (157, 160, None)
    assert d.exch_ts_ns == 123456789 * 1_000_000
    # trade example of the Binance docs: m=true, the buyer is the maker: the aggressor sold
    (t,) = f.parse(json.dumps({"e": "trade", "E": 123456789, "s": "BNBBTC", "t": 12345,
                               "p": "0.001", "q": "100", "T": 123456785, "m": True,
                               "M": True}), 2)
    assert type(t) is Trade and t.side == "sell" and t.trade_id == "12345" and t.qty == 100.0
    (a,) = f.parse(json.dumps({"e": "aggTrade", "E": 1, "s": "BNBBTC", "a": 9, "p": "0.001",
                               "q": "5", "f": 100, "l": 105, "T": 3, "m": False}), 2)
    assert type(a) is Trade and a.side == "buy" and a.trade_id == "9"
    (b,) = f.parse(json.dumps({"u": 400900217, "s": "BNBUSDT", "b": "25.35190000",
                               "B": "31.21000000", "a": "25.36520000", "A": "40.66000000"}), 3)
    assert type(b) is BBO and b.update_id == 400900217 and b.ask_sz == 40.66
    (ack,) = f.parse(b'{"result":null,"id":1}', 4)
    assert type(ack) is FeedStatus and ack.kind == "ack"
    (err,) = f.parse(b'{"error":{"code":2,"msg":"Invalid request"},"id":1}', 4)
    assert type(err) is FeedStatus and err.kind == "error" and "Invalid request" in err.detail
    assert f.parse(b'{"stream":"btcusdt@depth20@100ms","data":{"lastUpdateId":1,'
                   b'"bids":[],"asks":[]}}', 5) == []
    assert f.ignored["partial_depth"] == 1


def test_malformed_frames_are_counted() -> None:
    f = BinanceSpotFeed()
    for raw in (b"{not json", b"[1,2]", b'{"e":"depthUpdate","s":"X"}',
                b'{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":{},"a":[]}'):
        (st,) = f.on_frame(raw, 1)
        assert type(st) is FeedStatus and st.kind == "malformed"
    assert f.malformed == {"invalid_json": 1, "not_an_object": 1, "missing_field": 1, "bad_levels": 1}


def test_rest_snapshot_method_and_declarations() -> None:
    f = get_feed("binance", symbol="ethusdt")
    assert isinstance(f, BinanceSpotFeed) and f.symbol == "ETHUSDT"
    out = f.on_frame(json.dumps({"e": "depthUpdate", "E": 1, "s": "ETHUSDT", "U": 5, "u": 7,
                                 "b": [["100.0", "1"]], "a": [["101.0", "2"]]}), 10)
    assert [getattr(e, "kind", None) for e in out] == [None, "buffering"]
    out = f.rest_snapshot("ETHUSDT", b'{"lastUpdateId":5,"bids":[["99.5","3"]],'
                                     b'"asks":[["101.5","4"]]}', 11)
    assert type(out[0]) is BookSnapshot and out[0].seq == 5
    book = f.books["ETHUSDT"]
    assert book.valid and book.seq == 7 and book.best_bid == 100.0 and book.best_ask == 101.0
    with pytest.raises(ValueError, match="payload"):
        f.rest_snapshot("ETHUSDT", b'{"bids":[]}', 12)
    assert BinanceSpotFeed.rest_snapshot_url("btcusdt", 5000) == (
        "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=5000")
    with pytest.raises(ValueError, match="limit=5001"):
        BinanceSpotFeed.rest_snapshot_url("BTCUSDT", 5001)
    names = BinanceSpotFeed.stream_names("BTCUSDT")
    assert names == ["btcusdt@depth@100ms", "btcusdt@trade", "btcusdt@bookTicker"]
    assert BinanceSpotFeed.combined_stream_url(names) == (
        "wss://stream.binance.com:9443/stream?streams="
        "btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker")
    assert json.loads(BinanceSpotFeed.subscribe_message(names, 3)) == {
        "method": "SUBSCRIBE", "params": names, "id": 3}
    with pytest.raises(ValueError, match="depth_interval_ms=50"):
        BinanceSpotFeed.stream_names("BTCUSDT", depth_interval_ms=50)
    with pytest.raises(ValueError, match="symbol"):
        BinanceSpotFeed(symbol="")


def test_book_ticker_after_the_diff_is_waited_for() -> None:
    """The top after diff u is compared with the latest bookTicker with id <= u, even when that
    ticker arrives after the diff (the check waits for a ticker with id >= u)."""
    f = BinanceSpotFeed()

    def tick(u: int, bid: str, bid_sz: str) -> list:
        return f.on_frame(json.dumps({"stream": "btcusdt@bookTicker", "data": {
            "u": u, "s": SYM, "b": bid, "B": bid_sz, "a": "101.0", "A": "1"}}), u)

    def diff(U: int, u: int, bids: list[list[str]]) -> list:
        return f.on_frame(json.dumps({"stream": "btcusdt@depth@100ms", "data": {
            "e": "depthUpdate", "E": 1, "s": SYM, "U": U, "u": u, "b": bids, "a": []}}), u)

    tick(9, "100.0", "1")
    f.rest_snapshot(SYM, {"lastUpdateId": 10, "bids": [["100.0", "1"]],
                          "asks": [["101.0", "1"]]}, 10)
    tick(12, "100.0", "2")  # before the diff, an intermediate state
    diff(11, 15, [["100.0", "3"]])
    st = f.stats[SYM]
    assert st.top_match + st.top_mismatch == 0  # waiting: a ticker <= 15 may still come
    tick(14, "100.0", "3")  # after the diff: the ticker the rule asks for
    assert st.top_match + st.top_mismatch == 0
    tick(16, "100.5", "1")  # id > 15: ticker 14 is the latest <= 15
    assert (st.top_match, st.top_mismatch) == (1, 0)
    # a book that disagrees with its ticker is reported
    diff(16, 16, [["100.5", "1"]])
    tick(18, "100.7", "1")  # a new best bid the diff stream never shows
    diff(17, 20, [])
    out = tick(21, "100.7", "1")
    assert (st.top_match, st.top_mismatch) == (2, 1)
    assert [e.kind for e in out if type(e) is FeedStatus] == ["top_mismatch"]


# -- USD-M futures ----------------------------------------------------------------------------------
def _fut(U: int, u: int, pu: int, bids: list[list[str]], asks: list[list[str]]) -> str:
    # field layout of the USD-M "Diff. Book Depth Streams" response example
    return json.dumps({"stream": "btcusdt@depth@100ms", "data": {
        "e": "depthUpdate", "E": 123456789, "T": 123456788, "s": "BTCUSDT", "U": U, "u": u,
        "pu": pu, "b": bids, "a": asks}})


def test_futures_pu_chain_bridge_gap_and_resync() -> None:
    f = get_feed("binance-futures")
    assert isinstance(f, BinanceFuturesFeed) and f.venue == "binance-futures"
    f.on_frame(_fut(150, 155, 149, [["100.0", "1"]], []), 1)  # before the snapshot: buffered
    f.on_frame(_fut(156, 160, 155, [["100.0", "2"]], [["101.0", "5"]]), 2)
    snap = {"lastUpdateId": 157, "E": 1, "T": 1, "bids": [["99.0", "1"]],
            "asks": [["101.0", "1"]]}
    f.rest_snapshot("BTCUSDT", json.dumps(snap), 3)
    st = f.stats["BTCUSDT"]
    book = f.books["BTCUSDT"]
    # u=155 < L=157 dropped; the next has U=156 <= 157 <= u=160: applied
    assert st.stale_dropped == 1 and st.deltas == 1 and book.seq == 160
    assert book.best_bid == 100.0 and book.best_bid_size == 2.0 and book.best_ask_size == 5.0
    f.on_frame(_fut(161, 170, 160, [], [["101.0", "0"], ["102.0", "3"]]), 4)
    assert book.seq == 170 and book.best_ask == 102.0
    f.on_frame(_fut(161, 170, 160, [], []), 5)  # re-delivered: stale
    assert st.stale_dropped == 2 and st.gaps == 0
    out = f.on_frame(_fut(175, 180, 172, [["100.5", "1"]], []), 6)  # pu=172 != 170
    assert [e.kind for e in out if type(e) is FeedStatus] == ["gap"]
    assert st.gaps == 1 and book.stale and f.needs_resync == {"BTCUSDT"}
    f.on_frame(_fut(181, 185, 180, [["100.6", "1"]], []), 7)
    # a fresh REST snapshot at 178: the buffered u=180 diff covers it, then pu chains on
    f.rest_snapshot("BTCUSDT", json.dumps({**snap, "lastUpdateId": 178}), 8)
    assert st.resyncs == 1 and not f.needs_resync and book.valid and book.seq == 185
    assert book.best_bid == 100.6


def test_futures_snapshot_between_two_diffs_is_joined_by_pu() -> None:
    # the snapshot's lastUpdateId is the u of a diff the stream sent before it subscribed: the
    # next diff starts at U = L + 1 (so U <= L fails) but its pu is L: it follows the snapshot
    f = get_feed("binance-futures")
    snap = {"lastUpdateId": 157, "E": 1, "T": 1, "bids": [["99.0", "1"]],
            "asks": [["101.0", "1"]]}
    f.on_frame(_fut(158, 160, 157, [["100.0", "2"]], []), 1)
    f.rest_snapshot("BTCUSDT", json.dumps(snap), 2)
    st, book = f.stats["BTCUSDT"], f.books["BTCUSDT"]
    assert st.gaps == 0 and book.valid and book.seq == 160 and book.best_bid == 100.0
    # a first diff that neither covers L nor follows it is still a gap
    g = get_feed("binance-futures")
    g.on_frame(_fut(159, 160, 158, [["100.0", "2"]], []), 1)
    g.rest_snapshot("BTCUSDT", json.dumps(snap), 2)
    assert g.stats["BTCUSDT"].gaps == 1 and not g.books["BTCUSDT"].valid


def test_futures_book_ticker_and_snapshot_url() -> None:
    f = BinanceFuturesFeed()
    (b,) = f.parse(json.dumps({"e": "bookTicker", "u": 400900217, "E": 1568014460893,
                               "T": 1568014460891, "s": "BNBUSDT", "b": "25.35190000",
                               "B": "31.21000000", "a": "25.36520000", "A": "40.66000000"}), 1)
    assert type(b) is BBO and b.exch_ts_ns == 1568014460893 * 1_000_000
    with pytest.raises(ValueError, match="limit=300"):
        BinanceFuturesFeed.rest_snapshot_url("BTCUSDT", 300)
    assert BinanceFuturesFeed.rest_snapshot_url("BTCUSDT") == (
        "https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000")
    assert BinanceFuturesFeed.stream_names("BTCUSDT", trades="aggTrade")[0] == (
        "btcusdt@depth@100ms")
    # a futures diff without pu is malformed
    (st,) = f.on_frame(b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}', 1)
    assert type(st) is FeedStatus and st.kind == "malformed"
