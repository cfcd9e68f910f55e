"""The live client for Binance (spot, USD-M futures) and Bybit against the local venue on
loopback: the book equals the venue's truth after every resync under each fault, every
injected gap is detected, the REST snapshot never blocks the loop, Bybit's JSON keepalive,
the venue's protocol replies, and ``tradesim watch --venue binance|bybit`` end to end.

Every server binds 127.0.0.1 and is stopped by the test that started it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest
from live_helpers import ALL, FAULTS, run
from live_helpers import levels_of as _levels
from live_helpers import until as _until
from websockets.asyncio.client import connect as ws_connect

from tradesim_nb.instruments import get_instrument
from tradesim_nb.live.client import BookClient, ClientConfig
from tradesim_nb.live.server import LocalVenue
from tradesim_nb.random_walk import RandomWalkBook
from tradesim_nb.recording import read_frames
from tradesim_nb.venues.binance import BinanceSpotFeed

SYM = "BTCUSDT"
# faults every few ms: resyncs rate-limited to 20 a second here (default 1; see test_integrity)
FAST = ClientConfig(backoff_initial_s=0.02, backoff_max_s=0.2, silence_timeout_s=0.25,
                    resync_timeout_s=1.0, connect_timeout_s=2.0, resync_min_interval_s=0.05, rest_min_interval_s=0.05)
REPO = Path(__file__).resolve().parent.parent
TRADESIM = str(REPO / ".venv" / "bin" / "tradesim")


def _venue(venue: str, seed: int = 0, **kw: Any) -> LocalVenue:
    inst = get_instrument(venue, SYM)
    return LocalVenue(RandomWalkBook(inst, seed=seed), **kw)


def _source(v: LocalVenue, venue: str) -> str:
    # Binance: the bare ws://host:port (the client appends the stream path and asks REST from
    # http://host:port); Bybit: the v5 public linear path
    return v.url_for("bybit") if venue == "bybit" else v.base_url


def _truth(v: LocalVenue, venue: str, u: int) -> tuple[dict[str, str], dict[str, str]] | None:
    """The venue's true book at the client's update id ``u`` (Bybit: its top 50 view)."""
    return v.dialect("bybit").truth(SYM, u, 50) if venue == "bybit" else v.truth_at(SYM, u)


def _current_id(v: LocalVenue, venue: str) -> int | None:
    return v.dialect("bybit").u(SYM, 50) if venue == "bybit" else v.seq(SYM)
CASES = [(v, k) for v in ("binance", "bybit") for k in FAULTS] + [("binance-futures", "drop"),
                                                                  ("binance-futures", "mix")]


@pytest.mark.parametrize(("venue", "kind"), CASES)
def test_book_equals_truth_after_every_resync_under_faults(venue: str, kind: str) -> None:
    async def main() -> None:
        v = _venue(venue, seed=11, rate_hz=2500, faults=FAULTS[kind], history=200_000)
        async with v:
            # the short watchdog is what the stall faults exercise; elsewhere a loaded machine's
            # 0.25 s scheduling pause would reconnect where none is expected
            cfg = FAST if "stall" in FAULTS[kind] else dataclasses.replace(FAST,
                                                                           silence_timeout_s=3.0)
            c = BookClient(venue, SYM, source=_source(v, venue), config=cfg, seed=1)
            resync_checks: list[bool] = []
            sampled: list[bool] = []
            n = [0]

            after_snap = [False]

            def check(book: Any, events: list[Any], recv_ns: int) -> None:
                n[0] += 1
                # a Binance snapshot is valid once a diff joins it: the first valid frame at
                # or after a snapshot is the resync's book
                after_snap[0] |= any(type(e).__name__ == "BookSnapshot" for e in events)
                snap = after_snap[0]
                if not book.valid or not (snap or n[0] % 37 == 0):
                    return
                after_snap[0] = False
                want = _truth(v, venue, book.seq)
                assert want is not None
                (resync_checks if snap else sampled).append(_levels(book) == want)

            c.on_update(check)
            await c.start()
            await asyncio.sleep(1.3)
            # faults off; more updates, so a fault just before shows as a gap; a valid book;
            # the venue paused: the last update reaches the client
            v.faults_enabled = False
            f0 = c.frames
            assert await _until(lambda: c.frames > f0 + 50, 10)
            assert await _until(lambda: c.book_valid, 10)
            v.pause()
            assert await _until(lambda: c.book.seq == _current_id(v, venue) and c.book_valid,
                                10)
            tb, ta = v.true_levels(SYM)
            depth = 50 if venue == "bybit" else ALL
            assert c.book.level_strings("bid", ALL) == tb[:depth]
            assert c.book.level_strings("ask", ALL) == ta[:depth]
            assert len(tb) >= 40
            m = c.metrics
            v.resume()
            await c.stop()
        st = c.feed.stats[SYM]
        assert c.callback_errors == 0 and c.apply_errors == 0
        assert resync_checks and all(resync_checks), resync_checks
        assert sampled and all(sampled)
        if venue != "bybit":
            # the book's top after every diff equals the venue's bookTicker for that id
            assert st.top_match > 100 and st.top_mismatch == 0
            assert m["rest_requests"] >= m["resyncs"] + 1 and m["rest_errors"] == 0
        if kind == "dup":
            # a duplicate is recognised (id already applied) and dropped: no resync needed
            assert st.stale_dropped >= 3 and m["gaps_detected"] == 0
        else:
            assert len(resync_checks) >= 2  # the first snapshot and at least one resync
        # every injected gap is detected, or healed by a reconnect: a gap pending when the
        # client's watchdog closes a stalled socket is counted by the venue at its next write,
        # while the client (its book not valid from the disconnect) syncs again from a new
        # connection's snapshot
        assert c.stale_episodes + m["watchdog_closes"] >= v.gaps_injected
        if kind != "mix":
            assert c.stale_episodes >= v.gaps_injected
        if kind == "drop":
            assert v.gaps_injected >= 5 and m["gaps_detected"] == v.gaps_injected
            # no reconnect but, at most, one by the watchdog during the final pause (a drop
            # just before the faults were turned off shows only at the next update)
            assert m["reconnects"] == m["watchdog_closes"] <= 1
        if kind in ("drop", "reorder", "corrupt"):
            assert m["resyncs"] >= 3 and v.gaps_injected >= 3
        if kind == "corrupt":
            assert m["malformed"] >= 3
        if kind == "stall":
            assert m["watchdog_closes"] >= 1 and m["reconnects"] >= 1
        if kind in ("close", "mix"):
            assert m["reconnects"] >= 1
    run(main())


def test_rest_snapshot_never_blocks_the_loop() -> None:
    """The venue answers the REST snapshot after 0.6 s, on the same loop as the client: a
    blocking HTTP call would freeze the ticker (and the venue itself) for 0.6 s."""
    delay = 0.6

    async def main() -> None:
        async with _venue("binance", seed=2, rate_hz=1000, rest_delay_s=delay) as v:
            gaps: list[float] = []
            stop = asyncio.Event()

            async def ticker() -> None:
                last = time.monotonic()
                while not stop.is_set():
                    await asyncio.sleep(0.005)
                    now = time.monotonic()
                    gaps.append(now - last)
                    last = now

            tick = asyncio.create_task(ticker())
            t0 = time.monotonic()
            c = BookClient("binance", SYM, source=v.base_url, config=FAST)
            c.start_nowait()
            # frames keep arriving and are buffered while the snapshot is on its way
            assert await _until(lambda: c.frames > 100, 5)
            assert not c.book_valid and c.rest_requests == 1
            assert await _until(lambda: c.book_valid, 10)
            took = time.monotonic() - t0
            stop.set()
            await tick
            await c.stop()
        assert took >= delay
        assert len(gaps) > 50 and max(gaps) < 0.25, max(gaps)
        assert c.feed.stats[SYM].snapshots == 1 and c.feed.stats[SYM].stale_dropped > 50
    run(main())


def test_bybit_json_ping_every_keepalive_even_while_data_flows() -> None:
    cfg = ClientConfig(keepalive_s=0.1, silence_timeout_s=1.0)

    async def main() -> None:
        async with _venue("bybit", seed=3, rate_hz=1000) as v:
            c = BookClient("bybit", SYM, source=v.url_for("bybit"), config=cfg)
            await c.start()
            await asyncio.sleep(1.0)
            await c.stop()
        # pings sent although frames arrive every millisecond; each pong is a heartbeat
        assert v.stats["pings"] >= 5
        assert c.feed.pongs >= 5 and c.watchdog_closes == 0 and c.reconnects == 0  # type: ignore[attr-defined]
        assert c.frames > 500
    run(main())


def test_binance_recording_while_live_replays_to_the_same_book(tmp_path: Path) -> None:
    out = tmp_path / "bn.jsonl.gz"

    async def main() -> BookClient:
        async with _venue("binance", seed=4, rate_hz=2000, faults="drop:every=300") as v:
            c = BookClient("binance", SYM, source=v.base_url, config=FAST, record=out)
            await c.start()
            await asyncio.sleep(0.8)
            v.faults_enabled = False
            assert await _until(lambda: c.book_valid, 5)
            v.pause()
            assert await _until(lambda: c.book.seq == v.seq(SYM), 5)
            await c.stop()
            return c

    c = run(main())
    assert c.metrics["resyncs"] >= 2
    feed = BinanceSpotFeed()
    frames = list(read_frames(out))
    for recv_ns, fr in frames:
        feed.on_frame(fr, recv_ns)
    # every frame and every REST snapshot is in the file; the replay ends on the same book
    assert len(frames) == c.frames + c.rest_requests
    assert feed.books[SYM].valid and _levels(feed.books[SYM]) == _levels(c.book)


def test_venue_protocol_replies_for_binance_and_bybit() -> None:
    async def main() -> None:
        async with _venue("binance", seed=5, rate_hz=500) as v:
            def get(path: str) -> tuple[int, Any]:
                try:
                    with urllib.request.urlopen(v.http_url + path, timeout=5) as r:
                        return r.status, orjson.loads(r.read())
                except urllib.error.HTTPError as e:
                    return e.code, orjson.loads(e.read())

            code, snap = await asyncio.to_thread(get, f"/api/v3/depth?symbol={SYM}&limit=5")
            assert code == 200 and len(snap["bids"]) == 5 and len(snap["asks"]) == 5
            assert snap["lastUpdateId"] <= v.seq(SYM)
            code, err = await asyncio.to_thread(get, "/api/v3/depth?symbol=NOPE")
            assert code == 400 and err["code"] == -1121
            code, err = await asyncio.to_thread(get, f"/fapi/v1/depth?symbol={SYM}&limit=7")
            assert code == 400 and err["code"] == -1100
            async with ws_connect(v.url_for("binance", SYM)) as ws:
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
                seen: set[str] = set()
                last_u = None
                for _ in range(2000):
                    o = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                    if "id" in o and "result" in o:
                        assert sorted(o["result"]) == sorted(
                            f"btcusdt@{k}" for k in ("depth@100ms", "trade", "bookTicker", "ticker"))
                        seen.add("list")
                        continue
                    seen.add(o["stream"])
                    d = o["data"]
                    if d.get("e") == "depthUpdate":
                        if last_u is not None:
                            assert d["U"] == last_u + 1 and d["pu"] == last_u
                        assert d["U"] <= d["u"]
                        last_u = d["u"]
                    if len(seen) == 4:
                        break
                assert len(seen) == 4, seen
            with pytest.raises(Exception, match="1008"):
                async with ws_connect(v.base_url + "/stream?streams=nope@depth") as ws:
                    await asyncio.wait_for(ws.recv(), 5)
            async with ws_connect(v.url_for("bybit")) as ws:
                await ws.send('{"op":"ping","req_id":"p1"}')
                o = orjson.loads(await ws.recv())
                assert o["ret_msg"] == "pong" and o["req_id"] == "p1"
                await ws.send('{"op":"subscribe","args":["orderbook.50.NOPE"]}')
                o = orjson.loads(await ws.recv())
                assert o["success"] is False and "NOPE" in o["ret_msg"]
                await ws.send('{"op":"subscribe","args":["orderbook.50.BTCUSDT"],"req_id":"s"}')
                o = orjson.loads(await ws.recv())
                assert o["success"] is True and o["op"] == "subscribe"
                snap = orjson.loads(await ws.recv())
                assert snap["type"] == "snapshot" and len(snap["data"]["b"]) == 50
                u = snap["data"]["u"]
                for _ in range(50):
                    d = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                    assert d["type"] == "delta" and d["data"]["u"] == u + 1
                    u += 1
    run(main())


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="rest_limit"):
        ClientConfig(rest_limit=0)
    with pytest.raises(ValueError, match="rest_min_interval_s"):
        ClientConfig(rest_min_interval_s=-1)
    with pytest.raises(ValueError, match="rest_url"):
        BookClient("binance", SYM, rest_url="ftp://x")
    with pytest.raises(ValueError, match="limit"):  # futures limits are a fixed set
        BookClient("binance-futures", SYM, config=ClientConfig(rest_limit=999))
    with pytest.raises(ValueError, match="rest_delay_s"):
        LocalVenue("synthetic", rest_delay_s=-1)
    c = BookClient("binance", SYM, rest_url="http://127.0.0.1:1/")
    assert c.rest_snapshot_url(SYM) == "http://127.0.0.1:1/api/v3/depth?symbol=BTCUSDT&limit=1000"
    assert c.url is None and "stream.binance.com" in c.live_url and "btcusdt@depth@100ms" in (
        c.live_url)
    # REST base: the venue's own for its stream host, else the socket's host and port
    c = BookClient("binance-futures", SYM)
    assert c.rest_snapshot_url(SYM).startswith("https://fapi.binance.com/fapi/v1/depth?")
    c = BookClient("binance", SYM, source="wss://stream.binance.com:9443")
    c.url = c.protocol.ws_url(c.requested_source, c.symbols)
    assert c.rest_snapshot_url(SYM).startswith("https://api.binance.com/api/v3/depth?")
    assert c.url.startswith("wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms/")
    c = BookClient("binance", SYM, source="ws://127.0.0.1:5555/")
    c.url = c.protocol.ws_url(c.requested_source, c.symbols)
    assert c.rest_snapshot_url(SYM).startswith("http://127.0.0.1:5555/api/v3/depth?")


def test_bybit_service_restart_u_1_replaces_the_book_without_a_gap() -> None:
    async def main() -> None:
        async with _venue("bybit", seed=7, rate_hz=1000, history=50_000) as v:
            c = await live_connect("bybit", v.url_for("bybit"))
            await asyncio.sleep(0.3)
            u_before = c.book.seq
            v.dialect("bybit").restart(SYM)
            assert await _until(lambda: c.feed.stats[SYM].sequence_resets == 1, 5)
            await asyncio.sleep(0.3)
            v.pause()
            assert await _until(lambda: c.book.seq == v.dialect("bybit").u(SYM), 5)
            assert c.book.seq < u_before and c.book_valid
            assert c.book.level_strings("bid", ALL) == v.true_levels(SYM)[0][:50]
            assert c.gaps_detected == 0 and c.metrics["reconnects"] == 0
            await c.stop()
    run(main())


async def live_connect(venue: str, url: str) -> BookClient:
    c = BookClient(venue, SYM, source=url, config=FAST)
    return await c.start(5.0)


def test_unreachable_rest_is_counted_retried_and_never_makes_a_book() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    closed = sock.getsockname()[1]
    sock.close()
    cfg = ClientConfig(rest_min_interval_s=0.1, resync_timeout_s=30.0)

    async def main() -> None:
        async with _venue("binance", seed=6, rate_hz=1000) as v:
            c = BookClient("binance", SYM, source=v.base_url, config=cfg,
                           rest_url=f"http://127.0.0.1:{closed}")
            c.start_nowait()
            assert await _until(lambda: c.rest_errors >= 3, 5)
            assert not c.book_valid and c.status == "syncing" and c.frames > 100
            assert c.rest_requests == c.rest_errors and c.reconnects == 0
            await c.stop()
        assert not c.tasks
    run(main())


def test_rest_snapshot_bridges_buffered_diffs_and_bad_payloads_are_counted() -> None:
    """Without a socket: diffs are buffered, a bad REST payload is counted, a good one whose
    lastUpdateId is inside the buffer bridges it (Binance's rule), and consumers see it."""
    # never started, frames of a made-up time (E = 1 ms): no staleness bound
    c = BookClient("binance", SYM, source="ws://127.0.0.1:9",
                   config=ClientConfig(max_lag_s=None))
    seen: list[int] = []
    c.on_update(lambda book, ev, t: seen.append(book.seq) if book.valid else None)

    def diff(u: int, px: str) -> str:
        return orjson.dumps({"stream": "btcusdt@depth@100ms", "data": {
            "e": "depthUpdate", "E": 1, "s": SYM, "U": u, "u": u, "b": [[px, "1.0"]],
            "a": []}}).decode()

    for u in range(101, 106):
        c.handle_frame(diff(u, f"99.{u - 100}"))
    assert not c.book_valid
    assert c.handle_rest_snapshot(SYM, {"nope": 1}) == [] and c.malformed == 1
    c.handle_rest_snapshot(SYM, {"lastUpdateId": 102, "bids": [["98.0", "2.0"]],
                                 "asks": [["101.0", "1.0"]]})
    assert c.book_valid and c.book.seq == 105 and seen == [105]
    # diffs 101, 102 are covered by the snapshot; 103..105 are applied on top of it
    assert dict(c.book.level_strings("bid", ALL)) == {
        "99.5": "1.0", "99.4": "1.0", "99.3": "1.0", "98.0": "2.0"}
    c.handle_frame(diff(107, "99.7"))  # U != 106: a gap
    assert not c.book_valid and c.gaps_detected == 1


@pytest.mark.parametrize("venue", ["binance", "bybit"])
def test_local_source_serves_the_venue_protocol(venue: str) -> None:
    import tradesim_nb.live as live

    async def main() -> None:
        c = await live.connect(venue, SYM, source="local", local_venue={"rate_hz": 500},
                               wait_snapshot_s=5.0)
        try:
            assert c.book_valid and c.source.startswith("local:ws://127.0.0.1:")
            v = c.local_venue
            assert v is not None
            v.pause()
            want = v.dialect("bybit").u(SYM) if venue == "bybit" else v.seq(SYM)
            assert await _until(lambda: c.book.seq == want, 5)
            n = 50 if venue == "bybit" else ALL
            assert c.book.level_strings("bid", ALL) == v.true_levels(SYM)[0][:n]
        finally:
            await c.stop()
        assert c.local_venue is None and not c.tasks
    run(main())


def _popen(args: list[str]) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([TRADESIM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def test_cli_watch_binance_and_bybit_against_tradesim_venue() -> None:
    venue = _popen(["venue", "--instrument", "binance:BTCUSDT", "--rate", "1000", "--seed", "3",
                    "--duration", "30", "--faults", "drop:every=1200"])
    try:
        assert venue.stdout is not None
        url = venue.stdout.readline().strip()
        assert url.startswith("ws://127.0.0.1:"), url
        base = url.split("/ws/")[0]
        procs = {v: _popen(["watch", base, "--venue", v, "--duration", "3", "--json"])
                 for v in ("binance", "bybit")}
        for v, p in procs.items():
            out, err = p.communicate(timeout=30)
            assert p.returncode == 0, err
            m = json.loads(out)
            assert m["venue"] == v and m["symbols"] == [SYM] and m["book_valid"], m
            assert m["frames"] > 500 and m["best_bid"] < m["best_ask"]
            # a gap every 1.2 s; Binance refetches its REST snapshot at most once a second
            assert m["gaps_detected"] >= 1 and m["resyncs"] >= 1, m
            assert "frames=" in err  # status lines
    finally:
        venue.terminate()
        venue.wait(timeout=10)
    assert venue.returncode == 0


@pytest.mark.slow
def test_real_binance_recording_served_as_binance_and_bybit_is_rebuilt_exactly() -> None:
    """The packaged Binance BTCUSDT recording (diffs + REST snapshot) replayed by the venue as
    fast as the clients read: a Binance client (REST limit 5000, the book has > 1000 levels a
    side) ends equal to the truth at every level, a Bybit client to its top 50, no gap, and
    the Binance book's top matches every bookTicker the venue derived."""
    import tradesim_nb.live as live
    from tradesim_nb.datasets import binance_spot_files

    async def main() -> None:
        v = LocalVenue(binance_spot_files()[0], venue="binance", speed=0)
        v.pause()
        async with v:
            cfg = ClientConfig(rest_min_interval_s=0.05, rest_limit=5000)
            bn = await live.connect("binance", SYM, source=v.base_url, config=cfg,
                                    wait_snapshot_s=None)
            by = await live.connect("bybit", SYM, source=v.url_for("bybit"), wait_snapshot_s=None)
            await asyncio.sleep(0.2)
            v.resume()
            await asyncio.wait_for(v.finished.wait(), 60)
            assert await _until(lambda: bn.book.seq == v.seq(SYM)
                                and by.book.seq == v.dialect("bybit").u(SYM), 10)
            tb, ta = v.true_levels(SYM)
            assert len(tb) > 1000 and len(ta) > 1000
            assert bn.book.level_strings("bid", ALL) == tb
            assert bn.book.level_strings("ask", ALL) == ta
            assert by.book.level_strings("bid", ALL) == tb[:50]
            assert by.book.level_strings("ask", ALL) == ta[:50]
            for c in (bn, by):
                m = c.metrics
                assert c.book_valid and m["gaps_detected"] == 0 and m["malformed"] == 0
                assert m["frames"] > 10_000
            st = bn.feed.stats[SYM]
            assert st.top_match > 1000 and st.top_mismatch == 0
            await bn.stop()
            await by.stop()
    run(main(), 120)
