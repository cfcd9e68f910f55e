"""OKX v5 parser on the real 2022 recording: checksums, sequencing and injected faults."""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tradesim_nb import datasets
from tradesim_nb.events import BBO, BookDelta, BookSnapshot, FeedStatus, Ticker, Trade
from tradesim_nb.recording import read_frames
from tradesim_nb.venues import get_feed
from tradesim_nb.venues.okx import (
    PUBLIC_URL,
    OkxFeed,
    okx_checksum,
    subscribe_message,
    unsubscribe_message,
)

Frames = list[tuple[int, str]]


@pytest.fixture(scope="module")
def frames() -> Frames:
    return list(read_frames(datasets.okx_books_file()))


def _msg(frame: str) -> Any:
    try:
        return orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None


def _is_books(frame: str, action: str | None = None, inst: str | None = None) -> bool:
    m = _msg(frame)
    if not (isinstance(m, dict) and m.get("arg", {}).get("channel") == "books" and "data" in m):
        return False
    return ((action is None or m["action"] == action)
            and (inst is None or m["arg"]["instId"] == inst))


def _run(frames: Frames, **kw: Any) -> tuple[OkxFeed, list[Any]]:
    feed = OkxFeed(**kw)
    out: list[Any] = []
    for recv, fr in frames:
        out.extend(feed.on_frame(fr, recv))
    return feed, out


def _edit(frame: str, fn: Callable[[dict[str, Any]], None]) -> str:
    m = orjson.loads(frame)
    fn(m)
    return orjson.dumps(m).decode()


def _update_index(frames: Frames, inst: str, k: int) -> int:
    """Index in ``frames`` of the k-th ``books`` update of ``inst``."""
    idx = [i for i, (_, f) in enumerate(frames) if _is_books(f, "update", inst)]
    return idx[k]


# -- the real recording, untouched ------------------------------------------------------------
def test_real_recording_every_checksum_verifies(frames: Frames) -> None:
    books = Counter(orjson.loads(f)["arg"]["instId"] for _, f in frames if _is_books(f))
    assert sum(books.values()) == 290  # as stated in tradesim_nb/data/README.md
    feed, events = _run(frames)
    assert feed.malformed == Counter()
    assert set(feed.books) >= set(books)
    for sym, n in books.items():
        st = feed.stats[sym]
        assert st.frames == n
        assert st.checksum_ok == n, sym  # the snapshot and every update reproduce OKX's CRC
        assert st.checksum_failed == 0 and st.gaps == 0 and st.stale_dropped == 0
        book = feed.books[sym]
        assert book.valid and not book.crossed and not book.stale
        assert book.best_bid < book.best_ask
    assert not feed.needs_resync
    assert not any(isinstance(e, FeedStatus) and e.kind in ("gap", "checksum_failed")
                   for e in events)
    # the 24-hour tickers: base volume (spot vol24h, derivatives volCcy24h), not malformed
    tick = {orjson.loads(f)["arg"]["instId"]: orjson.loads(f)["data"][0] for _, f in frames
            if '"channel":"tickers"' in f and '"data"' in f}
    assert "tickers" not in feed.ignored and set(feed.tickers) == set(tick)
    for sym, d in tick.items():
        want = d["vol24h"] if d["instType"] == "SPOT" else d["volCcy24h"]
        assert feed.tickers[sym].volume_24h_base == float(want) > 0, sym
        assert feed.tickers[sym].last_price == float(d["last"])


def test_checksum_changes_when_any_top25_string_changes(frames: Frames) -> None:
    feed, _ = _run(frames)
    book = feed.books["BTC-USDT"]
    bids = book.level_strings("bid", 25)
    asks = book.level_strings("ask", 25)
    c = okx_checksum(bids, asks)
    assert -(2**31) <= c < 2**31
    # the same string built the slow way
    parts = []
    for i in range(25):
        parts += [*bids[i], *asks[i]]
    raw = zlib.crc32(":".join(parts).encode())
    assert c == (raw - 2**32 if raw >= 2**31 else raw)
    # level 26 does not enter, level 25 does
    assert okx_checksum([*bids, ("1", "1")], asks) == c
    assert okx_checksum([*bids[:24], (bids[24][0], "999")], asks) != c
    # uneven sides: the longer side's remaining levels follow alone
    one = okx_checksum(bids[:1], asks[:3])
    s = ":".join([*bids[0], *asks[0], *asks[1], *asks[2]])
    r = zlib.crc32(s.encode())
    assert one == (r - 2**32 if r >= 2**31 else r)


def test_trades_parsed_with_taker_side(frames: Frames) -> None:
    raw = [d for _, f in frames
           if (m := _msg(f)) and isinstance(m, dict) and m.get("arg", {}).get("channel")
           == "trades" and "data" in m for d in m["data"]]
    feed = OkxFeed()
    trades = [e for r, f in frames for e in feed.parse(f, r) if isinstance(e, Trade)]
    assert len(trades) == len(raw) > 0
    for t, d in zip(trades, raw, strict=True):
        assert t.side == d["side"] and t.price == float(d["px"]) and t.qty == float(d["sz"])
        assert t.exch_ts_ns == int(d["ts"]) * 1_000_000 and t.symbol == d["instId"]


# -- faults injected into the real recording --------------------------------------------------
def test_dropped_update_fails_checksum_and_needs_resync(frames: Frames) -> None:
    i = _update_index(frames, "BTC-USDT", 40)
    feed, events = _run(frames[:i] + frames[i + 1:])
    st = feed.stats["BTC-USDT"]
    assert st.checksum_failed == 1  # the next update no longer reproduces the checksum
    assert feed.books["BTC-USDT"].stale and not feed.books["BTC-USDT"].valid
    assert feed.needs_resync == {"BTC-USDT"}
    assert any(isinstance(e, FeedStatus) and e.kind == "checksum_failed" for e in events)
    # later updates of the stale book are not applied (waiting for a snapshot)
    assert st.deltas == 40 + 1
    for other in ("BTC-USD-220527", "UNI-USD-SWAP"):
        assert feed.stats[other].checksum_failed == 0 and feed.books[other].valid


def test_duplicated_update_is_detected_and_dropped(frames: Frames) -> None:
    i = _update_index(frames, "UNI-USD-SWAP", 10)
    feed, events = _run([*frames[:i + 1], frames[i], *frames[i + 1:]])
    st = feed.stats["UNI-USD-SWAP"]
    assert st.stale_dropped == 1
    assert [e.kind for e in events if isinstance(e, FeedStatus) and e.kind == "stale"] == ["stale"]
    assert st.checksum_failed == 0 and feed.books["UNI-USD-SWAP"].valid
    ref, _ = _run(frames)
    assert st.checksum_ok == ref.stats["UNI-USD-SWAP"].checksum_ok


def test_corrupted_checksum_is_detected(frames: Frames) -> None:
    i = _update_index(frames, "BTC-USD-220527", 5)

    def corrupt(m: dict[str, Any]) -> None:
        m["data"][0]["checksum"] ^= 0x10

    bad = [*frames[:i], (frames[i][0], _edit(frames[i][1], corrupt)), *frames[i + 1:]]
    feed, _ = _run(bad)
    assert feed.stats["BTC-USD-220527"].checksum_failed == 1
    assert feed.books["BTC-USD-220527"].stale
    assert "BTC-USD-220527" in feed.needs_resync


def test_truncated_frame_is_counted_and_the_stream_goes_on(frames: Frames) -> None:
    i = _update_index(frames, "BTC-USDT", 20)
    recv, fr = frames[i]
    feed, events = _run([*frames[:i], (recv, fr[:len(fr) // 2]), *frames[i + 1:]])
    assert feed.malformed == Counter({"invalid_json": 1})
    bad = [e for e in events if isinstance(e, FeedStatus) and e.kind == "malformed"]
    # the frame is counted once, and the book its head names is stale from that frame on (an
    # update of it was lost: a loss beyond the checksum's 25 levels would go unseen)
    assert [e.symbol for e in bad] == ["", "BTC-USDT"]
    ref, _ = _run(frames)
    # frames after the truncated one still apply: the other books verify every checksum
    for other in ("BTC-USD-220527", "UNI-USD-SWAP"):
        assert feed.stats[other].checksum_ok == ref.stats[other].checksum_ok
        assert feed.books[other].valid
    assert feed.books["BTC-USDT"].stale and "BTC-USDT" in feed.needs_resync
    assert feed.stats["BTC-USDT"].stale_dropped > 0  # its later updates wait for a snapshot
    assert feed.frames == len(frames)


def test_bad_level_string_is_malformed_not_a_crash(frames: Frames) -> None:
    i = _update_index(frames, "BTC-USDT", 3)

    def bad(m: dict[str, Any]) -> None:
        m["data"][0]["asks"][0][1] = "abc"

    feed, _ = _run([*frames[:i], (frames[i][0], _edit(frames[i][1], bad)), *frames[i + 1:]])
    # the book refuses the whole update (its reason counted) and is stale until a snapshot
    assert feed.malformed == {"bad_size": 1} and feed.stats["BTC-USDT"].refused == 1
    assert feed.books["BTC-USDT"].stale and "BTC-USDT" in feed.needs_resync
    assert feed.books["UNI-USD-SWAP"].valid


# -- the real frames rewritten with a seqId/prevSeqId chain -----------------------------------
def _chained(frames: Frames, step: int = 7) -> Frames:
    """The real frames, each ``books`` message given OKX's seqId/prevSeqId chain."""
    last: dict[str, int] = {}
    out: Frames = []
    for recv, fr in frames:
        if not _is_books(fr):
            out.append((recv, fr))
            continue
        m = orjson.loads(fr)
        inst = m["arg"]["instId"]
        d = m["data"][0]
        if m["action"] == "snapshot":
            d["prevSeqId"], d["seqId"] = -1, 1000
        else:
            d["prevSeqId"], d["seqId"] = last[inst], last[inst] + step
        last[inst] = d["seqId"]
        out.append((recv, orjson.dumps(m).decode()))
    return out


def _snapshot_from(feed: OkxFeed, sym: str, recv: int) -> tuple[int, str]:
    """A ``books`` snapshot frame of ``feed``'s current book (seqId = the book's seq)."""
    book = feed.books[sym]
    bids = [[p, s, "0", "1"] for p, s in book.level_strings("bid", 10_000)]
    asks = [[p, s, "0", "1"] for p, s in book.level_strings("ask", 10_000)]
    cks = okx_checksum(book.level_strings("bid", 25), book.level_strings("ask", 25))
    msg = {"arg": {"channel": "books", "instId": sym}, "action": "snapshot",
           "data": [{"asks": asks, "bids": bids, "ts": str(book.last_exch_ts_ns // 1_000_000),
                     "checksum": cks, "seqId": book.seq, "prevSeqId": -1}]}
    return recv, orjson.dumps(msg).decode()


def test_seq_chain_intact(frames: Frames) -> None:
    feed, _ = _run(_chained(frames))
    for sym, st in feed.stats.items():
        if st.frames:
            assert st.gaps == 0 and st.checksum_failed == 0 and st.checksum_ok == st.frames
            assert feed.books[sym].seq == 1000 + 7 * st.deltas


def test_seq_gap_then_resync_by_snapshot(frames: Frames) -> None:
    ch = _chained(frames)
    sym = "BTC-USDT"
    i = _update_index(ch, sym, 30)
    j = _update_index(ch, sym, 50)
    # reference: the intact chain up to and including update 50
    ref, _ = _run(ch[: j + 1])
    snap = _snapshot_from(ref, sym, ch[j][0])
    faulty = ch[:i] + ch[i + 1: j + 1] + [snap] + ch[j + 1:]
    feed, events = _run(faulty)
    st = feed.stats[sym]
    assert st.gaps == 1  # update 31's prevSeqId names the dropped update 30
    assert st.checksum_failed == 0  # the gap is caught before anything wrong is applied
    assert st.resyncs == 1
    kinds = [e.kind for e in events if isinstance(e, FeedStatus) and e.symbol == sym]
    assert kinds.index("gap") < kinds.index("resync")
    assert st.deltas == 30 + (st.frames - 1 - 51)  # nothing applied between gap and snapshot
    full, _ = _run(ch)
    assert feed.books[sym].valid and sym not in feed.needs_resync
    assert feed.books[sym].snapshot_levels() == full.books[sym].snapshot_levels()
    assert st.checksum_ok == st.snapshots + st.deltas


def test_seq_gap_marks_stale_until_snapshot(frames: Frames) -> None:
    ch = _chained(frames)
    i = _update_index(ch, "UNI-USD-SWAP", 5)
    feed, _ = _run(ch[:i] + ch[i + 1:])
    assert feed.stats["UNI-USD-SWAP"].gaps == 1
    assert feed.books["UNI-USD-SWAP"].stale and feed.needs_resync == {"UNI-USD-SWAP"}
    assert feed.stats["UNI-USD-SWAP"].deltas == 5


def test_seq_heartbeat_changes_nothing(frames: Frames) -> None:
    ch = _chained(frames)
    sym = "BTC-USD-220527"
    i = _update_index(ch, sym, 12)
    d = orjson.loads(ch[i][1])["data"][0]
    hb = {"arg": {"channel": "books", "instId": sym}, "action": "update",
          "data": [{"asks": [], "bids": [], "ts": d["ts"], "checksum": d["checksum"],
                    "seqId": d["seqId"], "prevSeqId": d["seqId"]}]}
    feed, events = _run([*ch[:i + 1], (ch[i][0], orjson.dumps(hb).decode()), *ch[i + 1:]])
    full, _ = _run(ch)
    st = feed.stats[sym]
    assert st.heartbeats == 1 and st.gaps == 0 and st.checksum_failed == 0
    assert any(isinstance(e, FeedStatus) and e.kind == "heartbeat" for e in events)
    assert st.deltas == full.stats[sym].deltas
    assert feed.books[sym].snapshot_levels() == full.books[sym].snapshot_levels()


def test_seq_reset_after_maintenance_continues(frames: Frames) -> None:
    ch = _chained(frames)
    sym = "UNI-USD-SWAP"
    i = _update_index(ch, sym, 20)
    out: Frames = list(ch[:i])
    new_last = 3
    for recv, fr in ch[i:]:
        if not _is_books(fr, "update", sym):
            out.append((recv, fr))
            continue
        m = orjson.loads(fr)
        d = m["data"][0]
        if len(out) == i:  # the reset message: prevSeqId = the old chain, seqId much lower
            d["seqId"] = new_last
        else:
            d["prevSeqId"], d["seqId"] = new_last, new_last + 2
            new_last += 2
        out.append((recv, orjson.dumps(m).decode()))
    feed, events = _run(out)
    st = feed.stats[sym]
    assert st.sequence_resets == 1 and st.gaps == 0 and st.checksum_failed == 0
    assert st.checksum_ok == st.frames
    assert feed.books[sym].seq == new_last
    assert any(isinstance(e, FeedStatus) and e.kind == "sequence_reset" for e in events)


# -- other channels and control messages ------------------------------------------------------
def test_control_messages_and_other_channels() -> None:
    feed = OkxFeed()
    assert feed.on_frame("pong", 1) == []
    ack = feed.on_frame('{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"}}', 2)
    assert [e.kind for e in ack] == ["ack"] and feed.acks == 1  # type: ignore[union-attr]
    err = feed.on_frame('{"event":"error","code":"60012","msg":"Invalid request"}', 3)
    assert err[0].kind == "error" and "60012" in feed.errors[0]  # type: ignore[union-attr]
    tick = '{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"last":"1"}]}'
    (t,) = feed.on_frame(tick, 4)  # a ticker without its volume: NaN, not 0
    assert isinstance(t, Ticker) and t.last_price == 1.0 and math.isnan(t.volume_24h_base)
    assert not feed.malformed
    b5 = ('{"arg":{"channel":"books5","instId":"ETH-USDT"},"data":[{"asks":[["2001","2","0","1"]],'
          '"bids":[["2000","1","0","1"]],"instId":"ETH-USDT","ts":"1700000000000","seqId":5}]}')
    ev = feed.on_frame(b5, 5)
    assert isinstance(ev[0], BookSnapshot) and feed.books["ETH-USDT"].valid
    assert feed.books["ETH-USDT"].best_ask == 2001.0
    bbo = ('{"arg":{"channel":"bbo-tbt","instId":"ETH-USDT"},"data":[{"asks":[["2001","2","0","1"]],'
           '"bids":[["2000","1","0","1"]],"ts":"1700000000001","seqId":6}]}')
    ev = feed.on_frame(bbo, 6)
    assert isinstance(ev[0], BBO) and ev[0].bid_px == 2000.0 and ev[0].update_id == 6
    assert isinstance(feed.parse(b5.replace("books5", "books").replace('"data"', '"action":'
                                            '"update","data"'), 7)[0], BookDelta)
    for bad in ('{"arg":{"channel":"books"},"action":"update","data":[]}',
                '{"arg":{"channel":"books","instId":"X"},"action":"weird","data":[]}',
                '[1,2]', '{"foo":1}',
                '{"arg":{"channel":"trades","instId":"X"},"data":[{"instId":"X","px":"1",'
                '"sz":"1","side":"up","tradeId":"1","ts":"1"}]}'):
        out = feed.on_frame(bad, 8)
        assert out[0].kind == "malformed"  # type: ignore[union-attr]
    assert sum(feed.malformed.values()) == 5


def test_declarations() -> None:
    assert PUBLIC_URL == "wss://ws.okx.com:8443/ws/v5/public"
    msg = orjson.loads(subscribe_message("books", ["BTC-USDT", "ETH-USDT"]))
    assert msg == {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"},
                                               {"channel": "books", "instId": "ETH-USDT"}]}
    assert orjson.loads(unsubscribe_message("trades", ["X"]))["op"] == "unsubscribe"
    with pytest.raises(ValueError, match="symbols"):
        subscribe_message("books", [])
    with pytest.raises(ValueError, match="symbols"):
        subscribe_message("books", "BTC-USDT")
    with pytest.raises(ValueError, match="channel"):
        subscribe_message("", ["BTC-USDT"])
    assert isinstance(get_feed("okx"), OkxFeed)


def test_seq_redelivered_update_is_dropped_not_a_gap(frames: Frames) -> None:
    ch = _chained(frames)
    sym = "BTC-USDT"
    i = _update_index(ch, sym, 8)
    j = _update_index(ch, sym, 9)
    # update 8 delivered again after update 9
    feed, events = _run([*ch[: j + 1], ch[i], *ch[j + 1:]])
    st = feed.stats[sym]
    assert st.stale_dropped == 1 and st.gaps == 0 and st.checksum_failed == 0
    assert feed.books[sym].valid and sym not in feed.needs_resync
    assert any(isinstance(e, FeedStatus) and e.kind == "stale" for e in events)
