"""The live client against the local venue on loopback: correctness under every fault,
reconnects, keepalive, consumers, task hygiene, bounded memory and hostile frames."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import socket
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from live_helpers import ALL, FAULTS, run
from live_helpers import levels_of as _levels
from live_helpers import until as _until

import tradesim_nb.live as live
from tradesim_nb.live.client import BookClient, ClientConfig, StaleBookError
from tradesim_nb.live.server import LocalVenue
from tradesim_nb.random_walk import RandomWalkBook
from tradesim_nb.recording import read_frames, read_header
from tradesim_nb.venues.okx import okx_checksum

SYM = "BTC-USDT-SWAP"
# faults every few ms: resyncs rate-limited to 20 a second here (default 1; see test_integrity)
FAST = ClientConfig(backoff_initial_s=0.02, backoff_max_s=0.2, silence_timeout_s=0.25,
                    resync_timeout_s=1.0, connect_timeout_s=2.0, resync_min_interval_s=0.05)


async def _settle_and_compare(v: LocalVenue, c: BookClient) -> None:
    """Faults off, wait for a valid book, pause the venue, wait for the last frame, compare."""
    v.faults_enabled = False
    assert await _until(lambda: c.book_valid, 10)
    v.pause()
    assert await _until(lambda: c.book.seq == v.seq(SYM) and c.book_valid, 10)
    assert _levels(c.book) == (dict(v.truth[SYM].levels["bid"]), dict(v.truth[SYM].levels["ask"]))
    tb, ta = v.true_levels(SYM)
    assert c.book.level_strings("bid", ALL) == tb and c.book.level_strings("ask", ALL) == ta
    v.resume()


@pytest.mark.parametrize("kind", list(FAULTS))
def test_book_equals_truth_after_every_resync_under_faults(kind: str) -> None:
    async def main() -> None:
        v = LocalVenue("synthetic", rate_hz=2500, faults=FAULTS[kind], seed=11,
                       history=200_000)
        async with v:
            # the short watchdog is what the stall faults exercise; elsewhere a loaded machine's
            # 0.25 s scheduling pause would reconnect where the test asserts none
            cfg = FAST if "stall" in FAULTS[kind] else dataclasses.replace(FAST,
                                                                           silence_timeout_s=3.0)
            c = BookClient("okx", SYM, source=v.url, config=cfg, seed=1)
            resync_checks: list[bool] = []
            sampled: list[bool] = []
            n = [0]

            def check(book: Any, events: list[Any], recv_ns: int) -> None:
                n[0] += 1
                snap = any(type(e).__name__ == "BookSnapshot" for e in events)
                if not book.valid or not (snap or n[0] % 37 == 0):
                    return
                want = v.truth_at(SYM, book.seq)
                assert want is not None
                (resync_checks if snap else sampled).append(_levels(book) == want)

            c.on_update(check)
            await c.start()
            await asyncio.sleep(1.6)
            await _settle_and_compare(v, c)
            m = c.metrics
            await c.stop()
        assert c.callback_errors == 0
        assert resync_checks and all(resync_checks), resync_checks
        assert sampled and all(sampled)
        if kind == "dup":
            # a duplicate is recognised (seqId already applied) and dropped: no resync needed
            assert c.feed.stats[SYM].stale_dropped >= 3 and m["gaps_detected"] == 0
        else:
            assert len(resync_checks) >= 2  # the first snapshot and at least one resync
        # every injected gap is detected (a stale episode per broken chain, at least), or healed
        # by a reconnect: a gap pending when the client's watchdog closes a stalled socket is
        # counted by the venue at its next write, while the client (its book not valid from the
        # disconnect) syncs again from the new connection's snapshot
        assert c.stale_episodes + m["watchdog_closes"] >= v.gaps_injected
        if kind != "mix":
            assert c.stale_episodes >= v.gaps_injected
        if kind == "drop":
            assert v.gaps_injected >= 5 and c.stale_episodes == v.gaps_injected
            assert m["gaps_detected"] == v.gaps_injected and m["reconnects"] == 0
        if kind in ("drop", "reorder", "corrupt"):
            assert m["resyncs"] >= 3
        if kind == "corrupt":
            assert m["malformed"] + m["checksum_failures"] >= 3
        if kind == "stall":
            assert m["watchdog_closes"] >= 1 and m["reconnects"] >= 1
        if kind in ("close", "mix"):
            assert m["reconnects"] >= 1
    run(main())


def test_server_killed_and_restarted_is_reconnected_within_the_backoff_bound() -> None:
    cfg = ClientConfig(backoff_initial_s=0.05, backoff_max_s=0.4, backoff_jitter=0.2,
                       silence_timeout_s=1.0)

    async def main() -> None:
        v = LocalVenue("synthetic", rate_hz=1000, seed=1)
        await v.start()
        port = v.port
        c = await live.connect("okx", SYM, source=v.url, config=cfg, seed=2)
        assert c.book_valid
        await v.stop()
        assert await _until(lambda: c.status == "reconnecting", 5)
        # 2 s of refused attempts: uncapped, the next delay would exceed 1.6 s
        await asyncio.sleep(2.0)
        assert c.reconnects >= 5
        v2 = LocalVenue("synthetic", port=port, rate_hz=1000, seed=2)
        await v2.start()
        t0 = time.monotonic()
        try:
            assert await _until(lambda: c.book_valid, 5)
            took = time.monotonic() - t0
            # next attempt within the capped delay (with jitter), plus connect + snapshot
            assert took < cfg.backoff_max_s * (1 + cfg.backoff_jitter) + 0.9, took
            v2.pause()
            assert await _until(lambda: c.book.seq == v2.seq(SYM), 5)
            assert c.book.level_strings("bid", ALL) == v2.true_levels(SYM)[0]
        finally:
            await c.stop()
            await v2.stop()
    run(main())


def test_no_task_left_after_stop_and_async_with() -> None:
    async def main() -> None:
        base = set(asyncio.all_tasks())
        async with LocalVenue("synthetic", rate_hz=1000, faults="drop:every=100") as v:
            async with live.BookClient("okx", SYM, source=v.url, config=FAST) as c:
                await asyncio.sleep(0.5)
                assert c.tasks and c.frames > 100 and c.resync_requests >= 1
            assert not c.tasks and c.status == "stopped"
            c2 = live.start("okx", SYM, source=v.url)  # plain-cell form
            await asyncio.sleep(0.3)
            assert c2.frames > 0
            await c2.stop()
        await asyncio.sleep(0)
        left = set(asyncio.all_tasks()) - base
        assert left == set()
    run(main())


def test_plain_start_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError, match="running event loop"):
        live.start("okx", SYM, source="ws://127.0.0.1:9")


def test_keepalive_keeps_a_quiet_venue_and_watchdog_stays_calm() -> None:
    cfg = ClientConfig(keepalive_s=0.1, silence_timeout_s=0.6, backoff_initial_s=0.05)

    async def main() -> None:
        async with LocalVenue("synthetic", rate_hz=500) as v:
            c = await live.connect("okx", SYM, source=v.url, config=cfg)
            v.pause()
            await asyncio.sleep(1.5)
            assert v.stats["pings"] >= 3  # OKX text ping sent while quiet
            assert c.watchdog_closes == 0 and c.reconnects == 0
            v.resume()
            await c.stop()
    run(main())


def test_consumers_callbacks_and_bounded_event_streams() -> None:
    async def main() -> None:
        async with LocalVenue("synthetic", rate_hz=3000, seed=4) as v:
            c = await live.connect("okx", SYM, source=v.url)
            slow = c.events(maxsize=10)  # never read while streaming
            stream = c.events(maxsize=50, drop="oldest")
            tops: list[np.ndarray] = []
            last = [0.0]

            def top10(book: Any, events: list[Any], recv_ns: int) -> None:
                if book.valid and time.monotonic() - last[0] > 0.1:
                    last[0] = time.monotonic()
                    tops.append(np.column_stack(book.top(10)))

            c.on_update(top10)
            c.on_update(lambda *a: 1 / 0)  # a broken consumer is counted, not raised
            got: list[Any] = []
            async for ev in stream:
                got.append(ev)
                await asyncio.sleep(0.002)  # slower than the feed
                if len(got) >= 150:
                    break
            assert slow.dropped > 100 and len(slow) == 10
            assert stream.dropped > 0
            assert c.callback_errors > 100 and c.book_valid
            assert len(tops) >= 3 and tops[-1].shape == (10, 4)
            m = c.metrics
            assert m["events_dropped"] == slow.dropped + stream.dropped
            assert m["estimate_p50_us"] > 0 and m["applied_p50_us"] > 0
            bids, asks = c.snapshot(5)
            assert len(bids) == 5 and bids[0][0] < asks[0][0]
            await c.stop()
            rest = [ev async for ev in slow]  # iteration ends after stop
            assert len(rest) == 10
    run(main())


def test_snapshot_refuses_a_stale_book() -> None:
    c = BookClient("okx", SYM, source="ws://127.0.0.1:9")
    assert not c.book_valid and c.status == "idle"
    with pytest.raises(StaleBookError):
        c.snapshot()
    assert c.snapshot(allow_stale=True) == ([], [])


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_auto_falls_back_to_a_local_venue(caplog: pytest.LogCaptureFixture) -> None:
    cfg = ClientConfig(auto_timeout_s=1.0)

    async def main() -> None:
        live_url = f"ws://127.0.0.1:{_closed_port()}/ws/v5/public"
        with caplog.at_level(logging.WARNING, logger="tradesim_nb.live.client"):
            c = await live.connect("okx", SYM, source="auto", live_url=live_url, config=cfg,
                                   local_venue={"rate_hz": 1000})
        try:
            assert c.source.startswith("local:ws://127.0.0.1:")
            assert c.book_valid and c.local_venue is not None
            assert any("unreachable" in r.message for r in caplog.records)
            assert any("LOCAL venue" in r.message for r in caplog.records)
        finally:
            await c.stop()
        assert c.local_venue is None
    run(main())


def test_goquant_client_on_the_relay_path() -> None:
    async def main() -> None:
        async with LocalVenue("synthetic", rate_hz=500, seed=6) as v:
            c = await live.connect("goquant", SYM, source=v.url_for("goquant", SYM))
            await asyncio.sleep(0.3)
            v.pause()
            await asyncio.sleep(0.2)
            tb, ta = v.true_levels(SYM)
            assert c.book.level_strings("bid", 50) == tb[:50]
            assert c.book.level_strings("ask", 50) == ta[:50]
            assert c.book_valid and c.frames > 50 and c.malformed == 0
            await c.stop()
    run(main())


def test_venue_serves_the_impact_aware_market_and_the_client_matches_it() -> None:
    from tradesim_nb.market import SyntheticMarket

    async def main() -> None:
        m = SyntheticMarket(seed=3)
        sym = m.instrument.symbol
        async with LocalVenue(m, rate_hz=1000) as v:
            c = await live.connect("okx", sym, source=v.url)
            await asyncio.sleep(0.5)
            v.pause()
            assert await _until(lambda: c.book.seq == v.seq(sym), 5)
            tb, ta = v.true_levels(sym)
            assert c.book.level_strings("bid", ALL) == tb
            assert c.book.level_strings("ask", ALL) == ta
            assert c.book_valid and c.feed.stats[sym].checksum_ok > 100
            # the source publishes its best 50 levels a side; the venue holds exactly those
            assert len(tb) == len(ta) == m.publish_levels
            await c.stop()
    run(main())


def test_recording_while_live_keeps_every_frame(tmp_path: Path) -> None:
    out = tmp_path / "live.jsonl.gz"

    async def main() -> BookClient:
        async with LocalVenue("synthetic", rate_hz=2000) as v:
            c = await live.connect("okx", SYM, source=v.url, record=out)
            await asyncio.sleep(0.5)
            await c.stop()
            return c

    c = run(main())
    frames = list(read_frames(out))
    assert len(frames) == c.frames > 500
    assert all(isinstance(f, str) for _, f in frames)
    header = read_header(out)
    assert header["venue"] == "okx" and header["symbols"] == [SYM]
    assert header["url"].startswith("ws://127.0.0.1:")  # the url the client really used


def test_recording_to_a_missing_folder_is_refused_at_start(tmp_path: Path) -> None:
    async def main() -> None:
        c = BookClient("okx", SYM, source="ws://127.0.0.1:9", record=tmp_path / "no" / "r.gz")
        with pytest.raises(ValueError, match=r"record=.*does not exist"):
            c.start_nowait()
        await c.stop()

    run(main())


def test_threaded_client_for_plain_code() -> None:
    tc = live.start_in_thread("okx", SYM, source="local", local_venue={"rate_hz": 1000})
    try:
        assert tc.wait_synced(10)
        bids, asks = tc.snapshot(10)
        assert len(bids) == 10 and bids[0][0] < asks[0][0]
        assert tc.metrics["frames"] > 0
    finally:
        tc.stop()
    assert not tc._thread.is_alive()


def test_backoff_is_capped_with_jitter_and_config_is_validated() -> None:
    cfg = ClientConfig(backoff_initial_s=0.1, backoff_max_s=2.0, backoff_jitter=0.25)
    rng = random.Random(0)
    for k in range(40):
        base = min(2.0, 0.1 * 2**k)
        d = [cfg.backoff_s(k, rng) for _ in range(50)]
        assert all(base * 0.75 <= x <= base * 1.25 for x in d)
        assert max(d) - min(d) > 0.2 * base  # jitter really spreads
    with pytest.raises(ValueError, match="backoff_max_s"):
        ClientConfig(backoff_initial_s=2.0, backoff_max_s=1.0)
    with pytest.raises(ValueError, match="backoff_jitter"):
        ClientConfig(backoff_jitter=1.5)
    with pytest.raises(ValueError, match="source"):
        BookClient("okx", SYM, source="http://x")
    with pytest.raises(ValueError, match="venue"):
        BookClient("nope", SYM)


# -- hostile frames -------------------------------------------------------------------------
def _okx_frames(n: int, seed: int) -> tuple[str, list[str]]:
    """A snapshot and n updates in OKX v5 form from the random walk (checksums correct)."""
    from tradesim_nb.book import OrderBook

    src = RandomWalkBook(seed=seed)
    fmt = ("{:.1f}", "{:.2f}")
    b, a = src.snapshot()
    bs = [[fmt[0].format(p), fmt[1].format(q), "0", "1"] for p, q in b]
    as_ = [[fmt[0].format(p), fmt[1].format(q), "0", "1"] for p, q in a]
    book = OrderBook(venue="okx", symbol=SYM)
    book.apply_snapshot(bs, as_)
    arg = {"channel": "books", "instId": SYM}
    snap = orjson.dumps({"arg": arg, "action": "snapshot", "data": [{
        "bids": bs, "asks": as_, "ts": "1", "seqId": 100, "prevSeqId": -1,
        "checksum": okx_checksum(book.level_strings("bid", 25),
                                 book.level_strings("ask", 25))}]}).decode()
    ups = []
    seq = 100
    while len(ups) < n:
        st = src.step()
        if not (st.bids or st.asks):
            continue
        ub = [[fmt[0].format(p), fmt[1].format(q), "0", "1"] for p, q in st.bids]
        ua = [[fmt[0].format(p), fmt[1].format(q), "0", "1"] for p, q in st.asks]
        book.apply_delta(ub, ua)
        ups.append(orjson.dumps({"arg": arg, "action": "update", "data": [{
            "bids": ub, "asks": ua, "ts": "2", "seqId": seq + 1, "prevSeqId": seq,
            "checksum": okx_checksum(book.level_strings("bid", 25),
                                     book.level_strings("ask", 25))}]}).decode())
        seq += 1
    return snap, ups


_JUNK = ["", "null", "[]", "{}", "pong", "[1,2", '{"arg":1}', '{"data":[]}', "\x00\xff",
         '{"event":"error","code":"60012"}', '{"arg":{"channel":"books"},"data":[{}]}',
         '{"arg":{"channel":"books","instId":"X"},"action":"update","data":[{"bids":5}]}',
         '{"arg":{"channel":"books","instId":"X"},"action":"snapshot","data":[{"bids":[["a",'
         '"b"]],"asks":[],"ts":"1"}]}', '{"arg":{"channel":"trades"},"data":[{"side":"up"}]}']


def _mutate(frame: str, rng: random.Random) -> str | bytes:
    k = rng.randrange(9)
    n = len(frame)
    if k == 0:  # flip a character
        i = rng.randrange(n)
        return frame[:i] + chr(rng.randrange(32, 127)) + frame[i + 1:]
    if k == 1:  # cut short
        return frame[: rng.randrange(n)]
    if k == 2:  # junk inserted
        i = rng.randrange(n)
        return frame[:i] + rng.choice(['"', "]", "{", ",", "-", "e9", "NaN", "\\"]) + frame[i:]
    if k == 3:  # a number turned into a string or a string into a number
        return frame.replace('"0","1"', '0,1', 1) if rng.random() < 0.5 else frame.replace(
            '"seqId":', '"seqId":"', 1)
    if k == 4:  # negative or absurd sizes / prices
        return frame.replace('","0","1"]', 'e308","0","1"]', 1).replace('[["', '[["-', 1)
    if k == 5:  # a key removed
        key = rng.choice(['"bids":', '"asks":', '"ts":', '"action":', '"arg":', '"instId":'])
        return frame.replace(key, '"x' + key[1:], 1)
    if k == 6:  # raw bytes, possibly not utf-8
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    if k == 7:
        return rng.choice(_JUNK)
    return frame  # some frames pass intact (out of sequence: gaps)


@pytest.mark.slow
def test_1e5_malformed_or_mutated_frames_never_crash_and_are_all_counted() -> None:
    snap, ups = _okx_frames(500, seed=3)
    rng = random.Random(12)
    # never started: frames fed directly; their venue times are made up (ms 1 and 2), so no
    # staleness bound
    untimed = ClientConfig(max_lag_s=None)
    c = BookClient("okx", SYM, source="ws://127.0.0.1:9", config=untimed)
    c.handle_frame(snap)
    assert c.book_valid
    n = 100_000
    not_json = 0
    for _ in range(n):
        fr = _mutate(rng.choice(ups), rng)
        try:
            obj = orjson.loads(fr)
            not_json += not isinstance(obj, dict)
        except orjson.JSONDecodeError:
            not_json += fr != "pong"
        c.handle_frame(fr)
    assert c.frames == n + 1
    assert c.malformed >= not_json > 10_000  # every unparseable frame counted
    assert sum(c.feed.malformed.values()) >= c.malformed
    assert c.stale_episodes >= 100  # intact but out-of-sequence frames are gaps
    # a fresh snapshot makes the book exactly right again (the same one again is older than
    # the updates seen: not applied, counted)
    c.handle_frame(snap)
    assert not c.book_valid and c.feed.stats[SYM].older_snapshots == 1
    later = snap.replace('"ts":"1"', '"ts":"1000000"')  # (a flipped digit may have made 9)
    c.handle_frame(later)
    assert c.book_valid
    fresh = BookClient("okx", SYM, source="ws://127.0.0.1:9", config=untimed)
    fresh.handle_frame(snap)
    assert _levels(c.book) == _levels(fresh.book)
    for u in ups[:100]:
        c.handle_frame(u.replace('"ts":"2"', '"ts":"1000001"'))
        fresh.handle_frame(u)
    assert c.book_valid and _levels(c.book) == _levels(fresh.book)


@pytest.mark.slow
def test_memory_stays_bounded_over_a_long_fast_run(tmp_path: Path) -> None:
    async def main() -> None:
        async with LocalVenue("synthetic", rate_hz=8000, seed=8,
                              faults="drop:every=2000") as v:
            c = await live.connect("okx", SYM, source=v.url, record=tmp_path / "r.jsonl.gz",
                                   config=ClientConfig(latency_capacity=4096))
            unread = c.events(maxsize=2000)
            c.on_update(lambda book, ev, t: book.top(10) if book.valid else None)
            assert await _until(lambda: c.frames > 4000, 20)
            tracemalloc.start()
            try:
                assert await _until(lambda: c.frames > 8000, 20)
                mem1, _ = tracemalloc.get_traced_memory()
                f1 = c.frames
                assert await _until(lambda: c.frames > f1 + 10_000, 40)
                mem2, _ = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert len(unread) == 2000 and len(c.latency) == 4096
            assert c.book_valid or c.stale_episodes > 0
            # 10k more frames (plus resyncs) may not grow memory by more than 1.5 MB
            assert mem2 - mem1 < 1.5e6, (mem1, mem2)
            await c.stop()
    run(main(), 120)
