"""Bybit v5 public parser. There is no Bybit recording, so frames are built exactly as the Bybit
documentation shows them (examples quoted below) and the sequencing rule is exercised on them.
"""

from __future__ import annotations

import json
import math
import random

import pytest

from tradesim_nb.events import BookDelta, BookSnapshot, FeedStatus, Ticker, Trade
from tradesim_nb.venues import get_feed
from tradesim_nb.venues.bybit import (
    PING_INTERVAL_S,
    PUBLIC_URLS,
    BybitFeed,
    orderbook_topic,
    ping_message,
    subscribe_message,
    trade_topic,
)

# Bybit docs, WebSocket public "Orderbook", stream example (derivatives page,
# https://bybit-exchange.github.io/docs/derivatives/ws-public/orderbook; the v5 page shows the
# same message layout plus "cts"). Levels elided with "..." in the docs are left out; the rest is
# verbatim.
DOC_SNAPSHOT = """
{
    "topic": "orderbook.50.BTCUSDT",
    "type": "snapshot",
    "ts": 1671179923028,
    "data": {
        "s": "BTCUSDT",
        "b": [["17440.00", "40.833"], ["17439.50", "0.513"],
              ["17416.00", "6.156"], ["17415.50", "32.268"]],
        "a": [["17440.50", "78.815"], ["17441.00", "8.858"],
              ["17464.50", "4.901"], ["17465.00", "5.744"]],
        "u": 13079592,
        "seq": 22520573250
    }
}
"""
# the delta that follows it in the same example; the docs' excerpt stops after "a", so its
# update id is the next one, u + 1, as the update-id rule requires
DOC_DELTA = """
{
    "topic": "orderbook.50.BTCUSDT",
    "type": "delta",
    "ts": 1671179923046,
    "data": {
        "s": "BTCUSDT",
        "b": [],
        "a": [["17440.50", "78.857"], ["17442.00", "1.510"]],
        "u": 13079593,
        "seq": 22520573299
    }
}
"""
# Bybit v5 docs, WebSocket "Trade", response example (verbatim)
DOC_TRADE = """
{
    "topic": "publicTrade.BTCUSDT",
    "type": "snapshot",
    "ts": 1672304486868,
    "data": [
        {
            "T": 1672304486865,
            "s": "BTCUSDT",
            "S": "Buy",
            "v": "0.001",
            "p": "16578.50",
            "L": "PlusTick",
            "i": "20f43950-d8dd-5b31-9112-a178eb6023af",
            "BT": false
        }
    ]
}
"""
# Bybit v5 docs: subscription confirmation and the pong to {"op": "ping"} on a public stream
DOC_ACK = '{"success":true,"ret_msg":"","conn_id":"d30fdpbboasp1pjbe7r0","req_id":"xxx",' \
          '"op":"subscribe"}'
DOC_PONG = '{"success": true,"ret_msg": "pong","conn_id": "xxxxx-xx","req_id": "","op": "ping"}'
SUB_ERROR = ('{"success":false,"ret_msg":"error:handler not found,topic:orderbook.5.BTCUSDT",'
             '"conn_id":"cb4d","req_id":"","op":"subscribe"}')
SYM = "BTCUSDT"


def _book_frame(kind: str, u: int, bids: list[list[str]], asks: list[list[str]],
                ts: int = 1671179923100, symbol: str = SYM, depth: int = 50) -> str:
    return json.dumps({"topic": f"orderbook.{depth}.{symbol}", "type": kind, "ts": ts,
                       "data": {"s": symbol, "b": bids, "a": asks, "u": u, "seq": 10 * u},
                       "cts": ts - 2})


def _statuses(events: list) -> list[str]:
    return [e.kind for e in events if type(e) is FeedStatus]


def _synced() -> BybitFeed:
    f = BybitFeed()
    f.on_frame(DOC_SNAPSHOT, 1)
    return f


def test_doc_snapshot_and_delta() -> None:
    f = BybitFeed()
    (snap,) = f.parse(DOC_SNAPSHOT, 5)
    assert type(snap) is BookSnapshot and snap.seq == 13079592 and snap.symbol == SYM
    assert snap.exch_ts_ns == 1671179923028 * 1_000_000 and snap.recv_ts_ns == 5
    f.on_event(snap)
    book = f.books[SYM]
    assert book.valid and (book.best_bid, book.best_bid_size) == (17440.0, 40.833)
    assert (book.best_ask, book.best_ask_size) == (17440.5, 78.815)
    assert book.n_bids == 4 and book.n_asks == 4
    out = f.on_frame(DOC_DELTA, 6)
    (delta,) = [e for e in out if type(e) is BookDelta]
    assert delta.seq == 13079593 and _statuses(out) == []
    assert (book.best_ask, book.best_ask_size) == (17440.5, 78.857)
    assert book.levels("ask", 3) == [(17440.5, 78.857), (17441.0, 8.858), (17442.0, 1.51)]
    assert book.seq == 13079593 and f.stats[SYM].deltas == 1 and f.stats[SYM].gaps == 0
    # size "0" deletes the level
    f.on_frame(_book_frame("delta", 13079594, [["17440.00", "0"]], []), 7)
    assert book.best_bid == 17439.5 and book.n_bids == 3


def test_u_equal_1_snapshot_replaces_the_book() -> None:
    f = _synced()
    f.on_frame(DOC_DELTA, 2)
    out = f.on_frame(_book_frame("snapshot", 1, [["17000.0", "1.0"]], [["17001.0", "2.0"]]), 3)
    assert _statuses(out) == ["sequence_reset"]
    book = f.books[SYM]
    st = f.stats[SYM]
    assert st.sequence_resets == 1 and st.gaps == 0 and st.snapshots == 2
    assert book.valid and book.n_bids == 1 and book.n_asks == 1 and book.best_bid == 17000.0
    f.on_frame(_book_frame("delta", 2, [["17000.5", "3.0"]], []), 4)
    assert book.best_bid == 17000.5 and book.seq == 2 and st.deltas == 2


def test_gap_marks_stale_until_a_snapshot() -> None:
    f = _synced()
    book = f.books[SYM]
    out = f.on_frame(_book_frame("delta", 13079594, [["17440.10", "1"]], []), 2)  # 593 missing
    assert _statuses(out) == ["gap"]
    st = f.stats[SYM]
    assert st.gaps == 1 and book.stale and not book.valid and f.needs_resync == {SYM}
    assert book.best_bid == 17440.0  # not applied
    out = f.on_frame(_book_frame("delta", 13079595, [["17440.20", "1"]], []), 3)
    assert _statuses(out) == ["stale"] and st.deltas == 0
    out = f.on_frame(_book_frame("snapshot", 13079600, [["17441.0", "1"]], [["17442.0", "1"]]),
                     4)
    assert _statuses(out) == ["resync"]
    assert st.resyncs == 1 and book.valid and not f.needs_resync and book.best_bid == 17441.0
    f.on_frame(_book_frame("delta", 13079601, [], [["17441.5", "1"]]), 5)
    assert book.best_ask == 17441.5 and st.deltas == 1


def test_redelivered_delta_is_stale_and_changes_nothing() -> None:
    f = _synced()
    f.on_frame(DOC_DELTA, 2)
    before = f.books[SYM].snapshot_levels()
    out = f.on_frame(DOC_DELTA, 3)
    assert _statuses(out) == ["stale"]
    assert f.stats[SYM].stale_dropped == 1 and f.stats[SYM].gaps == 0
    assert f.books[SYM].snapshot_levels() == before and f.books[SYM].valid


def test_delta_before_any_snapshot_is_dropped() -> None:
    f = BybitFeed()
    out = f.on_frame(DOC_DELTA, 1)
    assert _statuses(out) == ["stale"] and f.stats[SYM].stale_dropped == 1
    assert f.books[SYM].stale and not f.books[SYM].valid


def test_level1_snapshot_repeated_with_the_same_u() -> None:
    # level-1 books are snapshot-only; after 3 s without change Bybit re-sends the snapshot with
    # the previous message's u
    f = BybitFeed()
    for ts in (1, 2):
        out = f.on_frame(_book_frame("snapshot", 777, [["1.0", "1"]], [["1.1", "1"]], depth=1),
                         ts)
        assert _statuses(out) == []
    assert f.stats[SYM].snapshots == 2 and f.books[SYM].valid and f.stats[SYM].resyncs == 0


def test_doc_trade_and_sides() -> None:
    f = BybitFeed()
    (t,) = f.on_frame(DOC_TRADE, 9)
    assert type(t) is Trade
    assert (t.symbol, t.side, t.price, t.qty) == (SYM, "buy", 16578.5, 0.001)
    assert t.trade_id == "20f43950-d8dd-5b31-9112-a178eb6023af"
    assert t.exch_ts_ns == 1672304486865 * 1_000_000 and t.recv_ts_ns == 9
    obj = json.loads(DOC_TRADE)
    second = {**obj["data"][0], "S": "Sell", "v": "0.25", "p": "16578.00", "i": "x2"}
    obj["data"].append(second)
    trades = f.on_frame(json.dumps(obj), 10)
    assert [(x.side, x.qty) for x in trades] == [("buy", 0.001), ("sell", 0.25)]
    assert f.stats[SYM].trades == 3


def test_acks_errors_and_pong() -> None:
    f = BybitFeed()
    (a,) = f.on_frame(DOC_ACK, 1)
    assert a.kind == "ack" and f.acks == 1
    (p,) = f.on_frame(DOC_PONG, 2)
    assert p.kind == "heartbeat" and f.pongs == 1
    (p2,) = f.on_frame('{"req_id":"test","op":"pong","args":["1675418560633"],'
                       '"conn_id":"cfcb4ocsvfriu23r3er0-1b"}', 3)
    assert p2.kind == "heartbeat" and f.pongs == 2
    (e,) = f.on_frame(SUB_ERROR, 4)
    assert e.kind == "error" and "handler not found" in e.detail
    assert f.errors == [e.detail]
    (t,) = f.on_frame('{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"data":{}}', 5)
    assert isinstance(t, Ticker) and t.symbol == "BTCUSDT" and math.isnan(t.volume_24h_base)
    (t,) = f.on_frame('{"topic":"tickers.BTCUSDT","type":"delta","ts":2,"data":{"symbol":'
                      '"BTCUSDT","lastPrice":"60000.5","volume24h":"12345.6","turnover24h":'
                      '"7.4e8"}}', 6)
    assert t.volume_24h_base == 12345.6 and t.last_price == 60000.5  # linear: base volume
    inv = BybitFeed(category="inverse")
    (t,) = inv.on_frame('{"topic":"tickers.BTCUSD","type":"snapshot","ts":2,"data":{"symbol":'
                        '"BTCUSD","lastPrice":"60000","volume24h":"6e8","turnover24h":"1e4"}}', 7)
    assert t.volume_24h_base == 1e4  # inverse: volume24h counts USD contracts
    assert "tickers" not in f.ignored and not f.malformed


@pytest.mark.parametrize(("raw", "reason"), [
    (DOC_DELTA[: len(DOC_DELTA) // 2], "invalid_json"),
    ('["orderbook"]', "not_an_object"),
    ('{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[]}}',
     "missing_field"),
    ('{"topic":"orderbook.50.BTCUSDT","type":"weird","ts":1,'
     '"data":{"s":"BTCUSDT","b":[],"a":[],"u":1}}', "bad_type"),
    (DOC_TRADE.replace('"Buy"', '"Up"'), "bad_side"),
    ('{"hello":1}', "unknown_message"),
])
def test_malformed_frames_are_counted_and_the_stream_goes_on(raw: str, reason: str) -> None:
    f = _synced()
    (st,) = f.on_frame(raw, 2)
    assert type(st) is FeedStatus and st.kind == "malformed"
    assert f.malformed == {reason: 1}
    f.on_frame(DOC_DELTA, 3)
    assert f.books[SYM].valid and f.books[SYM].seq == 13079593


def test_random_deltas_match_a_naive_replay() -> None:
    rng = random.Random(20240809)
    bids = {f"{17000 - i * 0.5:.2f}": f"{rng.uniform(0.001, 5):.3f}" for i in range(50)}
    asks = {f"{17000.5 + i * 0.5:.2f}": f"{rng.uniform(0.001, 5):.3f}" for i in range(50)}
    f = BybitFeed()
    f.on_frame(_book_frame("snapshot", 100, [list(x) for x in bids.items()],
                           [list(x) for x in asks.items()]), 0)
    for u in range(101, 1101):
        db: list[list[str]] = []
        da: list[list[str]] = []
        for side, out, base, sign in ((bids, db, 17000.0, -1), (asks, da, 17000.5, 1)):
            for _ in range(rng.randint(1, 4)):
                px = f"{base + sign * 0.5 * rng.randint(0, 60):.2f}"
                sz = "0" if rng.random() < 0.3 else f"{rng.uniform(0.001, 5):.3f}"
                out.append([px, sz])
                if sz == "0":
                    side.pop(px, None)
                else:
                    side[px] = sz
        f.on_frame(_book_frame("delta", u, db, da), u)
    ref_b = sorted(((float(p), float(s)) for p, s in bids.items()), reverse=True)
    ref_a = sorted((float(p), float(s)) for p, s in asks.items())
    got_b, got_a = f.books[SYM].snapshot_levels()
    assert got_b == ref_b and got_a == ref_a
    assert f.stats[SYM].deltas == 1000 and f.stats[SYM].gaps == 0


def test_declarations() -> None:
    assert PUBLIC_URLS["linear"] == "wss://stream.bybit.com/v5/public/linear"
    assert PUBLIC_URLS["spot"] == "wss://stream.bybit.com/v5/public/spot"
    f = get_feed("bybit", category="spot")
    assert isinstance(f, BybitFeed) and f.url == PUBLIC_URLS["spot"]
    assert BybitFeed(testnet=True).url == "wss://stream-testnet.bybit.com/v5/public/linear"
    assert json.loads(subscribe_message(["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"])) == {
        "op": "subscribe", "args": ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"]}
    assert json.loads(f.subscribe_message([trade_topic("ethusdt")], req_id="7")) == {
        "op": "subscribe", "args": ["publicTrade.ETHUSDT"], "req_id": "7"}
    assert json.loads(ping_message()) == {"op": "ping"} and PING_INTERVAL_S == 20.0
    assert orderbook_topic("btcusdt", 200) == "orderbook.200.BTCUSDT"
    assert f.orderbook_topic("BTCUSDT", 1) == "orderbook.1.BTCUSDT"
    with pytest.raises(ValueError, match="depth=25"):
        orderbook_topic("BTCUSDT", 25)
    with pytest.raises(ValueError, match="depth=500"):
        f.orderbook_topic("BTCUSDT", 500)  # spot has no 500
    with pytest.raises(ValueError, match="category='futures'"):
        BybitFeed(category="futures")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="topics"):
        subscribe_message([])
    with pytest.raises(ValueError, match="at most 10"):
        f.subscribe_message([trade_topic(f"S{i}USDT") for i in range(11)])
