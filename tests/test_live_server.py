"""The local venue: OKX v5 protocol, GoQuant path, recordings, truth, and the CLI end to end.

Every server binds 127.0.0.1 and is stopped by the test that started it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from live_helpers import run
from websockets.asyncio.client import connect as ws_connect

from tradesim_nb.book import OrderBook
from tradesim_nb.datasets import okx_books_file
from tradesim_nb.live.server import LocalVenue
from tradesim_nb.recording import read_frames
from tradesim_nb.venues.goquant import GoQuantFeed
from tradesim_nb.venues.okx import OkxFeed, okx_checksum

SYM = "BTC-USDT-SWAP"
REPO = Path(__file__).resolve().parent.parent
TRADESIM = str(REPO / ".venv" / "bin" / "tradesim")


async def _recv_json(ws: Any, pred: Any, limit: int = 10_000) -> dict[str, Any]:
    for _ in range(limit):
        msg = await asyncio.wait_for(ws.recv(), 5)
        if msg == "pong":
            continue
        obj = orjson.loads(msg)
        if pred(obj):
            return obj  # type: ignore[no-any-return]
    raise AssertionError("message not seen")


def test_okx_protocol_subscribe_snapshot_updates_checksums_ping_errors() -> None:
    async def main() -> None:
        async with LocalVenue("synthetic", rate_hz=2000, seed=3) as v:
            assert v.url.startswith("ws://127.0.0.1:") and v.port > 0
            async with ws_connect(v.url) as ws:
                await ws.send("ping")
                assert await asyncio.wait_for(ws.recv(), 5) == "pong"
                await ws.send("{not json")
                err = orjson.loads(await ws.recv())
                assert err["event"] == "error" and err["code"] == "60012"
                await ws.send(json.dumps({"op": "subscribe",
                                          "args": [{"channel": "books", "instId": "NOPE"}]}))
                err = orjson.loads(await ws.recv())
                assert err["event"] == "error" and err["code"] == "60018"
                await ws.send(json.dumps({"op": "subscribe",
                                          "args": [{"channel": "books", "instId": SYM}]}))
                ack = orjson.loads(await ws.recv())
                assert ack["event"] == "subscribe" and ack["arg"]["instId"] == SYM
                assert ack["connId"]
                snap = orjson.loads(await ws.recv())
                assert snap["action"] == "snapshot"
                d = snap["data"][0]
                assert d["prevSeqId"] == -1
                book = OrderBook(venue="okx", symbol=SYM)
                book.apply_snapshot(d["bids"], d["asks"])
                assert okx_checksum(book.level_strings("bid", 25),
                                    book.level_strings("ask", 25)) == d["checksum"]
                last = d["seqId"]
                for _ in range(300):
                    u = orjson.loads(await ws.recv())
                    assert u["action"] == "update"
                    d = u["data"][0]
                    assert d["prevSeqId"] == last and d["seqId"] > last
                    last = d["seqId"]
                    book.apply_delta(d["bids"], d["asks"])
                    assert okx_checksum(book.level_strings("bid", 25),
                                        book.level_strings("ask", 25)) == d["checksum"]
                    assert book.valid
                await ws.send(json.dumps({"op": "unsubscribe",
                                          "args": [{"channel": "books", "instId": SYM}]}))
                await _recv_json(ws, lambda o: o.get("event") == "unsubscribe")
                # nothing more after the unsubscribe ack
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(ws.recv(), 0.3)
            assert v.stats["pings"] == 1
    run(main())


def test_books5_and_trades_channels() -> None:
    async def main() -> None:
        async with LocalVenue("synthetic", rate_hz=3000, seed=5) as v, ws_connect(v.url) as ws:
            await ws.send(json.dumps({"op": "subscribe", "args": [
                {"channel": "books5", "instId": SYM}, {"channel": "trades", "instId": SYM}]}))
            feed = OkxFeed()
            trades = 0
            b5 = 0
            t_end = time.monotonic() + 3
            while (trades < 5 or b5 < 20) and time.monotonic() < t_end:
                for ev in feed.on_frame(await asyncio.wait_for(ws.recv(), 5), 0):
                    n = type(ev).__name__
                    trades += n == "Trade"
                    b5 += n == "BookSnapshot"
            assert trades >= 5 and b5 >= 20
            book = feed.books[SYM]
            assert book.n_bids == 5 and book.n_asks == 5 and book.valid
            assert not feed.malformed
    run(main())


def test_goquant_path_serves_full_snapshots_of_the_truth() -> None:
    async def main() -> None:
        async with LocalVenue("synthetic", rate_hz=500, seed=2) as v:
            async with ws_connect(v.url_for("goquant", SYM)) as ws:
                feed = GoQuantFeed()
                for _ in range(50):
                    feed.on_frame(await asyncio.wait_for(ws.recv(), 5), time.time_ns())
                v.pause()
                await asyncio.sleep(0.1)
                while True:  # drain what was in flight
                    try:
                        feed.on_frame(await asyncio.wait_for(ws.recv(), 0.2), time.time_ns())
                    except TimeoutError:
                        break
                book = feed.books[SYM]
                tb, ta = v.true_levels(SYM)
                assert book.level_strings("bid", 50) == tb[:50]
                assert book.level_strings("ask", 50) == ta[:50]
                assert feed.stats[SYM].snapshots >= 50 and book.valid
            async with ws_connect(v.url_for("goquant", "NOPE")) as ws:
                from websockets.exceptions import ConnectionClosed

                with pytest.raises(ConnectionClosed):  # closed by the venue: unknown symbol
                    await asyncio.wait_for(ws.recv(), 5)
    run(main())


def test_okx_recording_replays_with_every_checksum_and_the_truth() -> None:
    path = okx_books_file()
    # the truth the venue must reach: the real recording through the real parser
    ref = OkxFeed()
    for recv_ns, frame in read_frames(path):
        ref.on_frame(frame, recv_ns)
    syms = sorted(ref.books)

    async def main() -> None:
        v = LocalVenue(path, speed=0, history=0)
        v.pause()  # subscribe before the replay starts
        async with v:
            async with ws_connect(v.url) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": [
                    {"channel": "books", "instId": s} for s in syms]}))
                feed = OkxFeed()
                for _ in syms:
                    feed.on_frame(await asyncio.wait_for(ws.recv(), 5), time.time_ns())
                assert feed.acks == len(syms)
                v.resume()
                await asyncio.wait_for(v.finished.wait(), 30)
                while True:
                    try:
                        feed.on_frame(await asyncio.wait_for(ws.recv(), 0.5), time.time_ns())
                    except TimeoutError:
                        break
            for s in syms:
                st = feed.stats[s]
                assert st.gaps == 0 and st.checksum_failed == 0
                assert st.checksum_ok > 10
                b = feed.books[s]
                r = ref.books[s]
                tb, ta = v.true_levels(s)
                assert b.level_strings("bid", 10**6) == tb
                assert b.level_strings("ask", 10**6) == ta
                # the venue's truth is the recording's book, level by level
                assert [float(x) for x, _ in tb] == [p for p, _ in r.levels("bid")]
                assert [float(y) for _, y in ta] == [q for _, q in r.levels("ask")]
    run(main())


def test_truth_at_rebuilds_past_books() -> None:
    async def main() -> None:
        v = LocalVenue("synthetic", rate_hz=5000, history=10_000, seed=9)
        await v.start()
        try:
            seen: dict[int, tuple[dict[str, str], dict[str, str]]] = {}
            for _ in range(20):
                await asyncio.sleep(0.02)
                tr = v.truth[SYM]
                seen[tr.seq] = (dict(tr.levels["bid"]), dict(tr.levels["ask"]))
            assert len(seen) >= 10
            for seq, want in seen.items():
                assert v.truth_at(SYM, seq) == want
            assert v.truth_at(SYM, -5) is None
        finally:
            await v.stop()
    run(main())


def test_non_loopback_needs_the_flag_and_bad_args_are_named() -> None:
    with pytest.raises(ValueError, match="not a loopback"):
        LocalVenue("synthetic", host="0.0.0.0")
    with pytest.raises(ValueError, match="speed"):
        LocalVenue("synthetic", speed=-1)
    with pytest.raises(ValueError, match="source"):
        LocalVenue("/no/such/file.jsonl.gz")
    with pytest.raises(ValueError, match="faults"):
        LocalVenue("synthetic", faults="drop:2")
    LocalVenue("synthetic", host="127.0.0.2")  # any loopback address is fine


def _popen(args: list[str], **kw: Any) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([TRADESIM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, **kw)


def _venue_url(p: subprocess.Popen[str]) -> str:
    assert p.stdout is not None
    line = p.stdout.readline().strip()
    assert line.startswith("ws://127.0.0.1:"), line
    return line


@pytest.mark.slow
def test_cli_venue_watch_record_replay(tmp_path: Path) -> None:
    venue = _popen(["venue", "--source", "synthetic", "--rate", "1000", "--duration", "30"])
    faulty = _popen(["venue", "--source", "synthetic", "--rate", "1000", "--seed", "4",
                     "--duration", "30", "--faults", "drop:every=300,corrupt:every=701"])
    try:
        url = _venue_url(venue)
        furl = _venue_url(faulty)
        out = tmp_path / "rec.jsonl.gz"
        rec = _popen(["record", url, str(out), "--duration", "2"])
        watch = _popen(["watch", url, "--duration", "2", "--json"])
        fwatch = _popen(["watch", furl, "--duration", "3", "--json"])
        w_out, w_err = watch.communicate(timeout=30)
        f_out, _ = fwatch.communicate(timeout=30)
        rec.communicate(timeout=30)
        assert watch.returncode == 0 and rec.returncode == 0 and fwatch.returncode == 0
        m = json.loads(w_out)
        for key in ("frames", "gaps_detected", "resyncs", "reconnects", "book_valid",
                    "best_bid", "best_ask", "p50_us", "p99_us"):
            assert key in m
        assert m["frames"] > 500 and m["book_valid"] and m["gaps_detected"] == 0
        assert m["best_bid"] < m["best_ask"]
        assert "frames=" in w_err  # status lines
        f = json.loads(f_out)
        # a gap every ~0.3 s: detected, resynced at most once a second (the default rate
        # limit; the rest waited and were counted), and the state reported is the book's
        assert f["gaps_detected"] >= 3 and f["resyncs"] >= 2 and f["resyncs_limited"] >= 1
        assert f["resync_requests"] <= 3 + 2  # 3 s: at most one a second, and the first
        assert f["book_valid"] == (f["status"] == "live")
        # the recording replays through the replay command with no gap
        with gzip.open(out, "rt") as fh:
            assert "header" in fh.readline()
        r = subprocess.run([TRADESIM, "replay", str(out), "--venue", "okx", "--json"],
                           capture_output=True, text=True, timeout=60, check=True)
        rep = json.loads(r.stdout)["instruments"]["BTC-USDT-SWAP"]
        assert rep["gaps"] == 0 and rep["checksum_failed"] == 0
        assert rep["checksum_ok"] > 500 and rep["book_valid"]
    finally:
        for p in (venue, faulty):
            p.terminate()
            p.wait(timeout=10)
    assert venue.returncode == 0, venue.stderr.read() if venue.stderr else ""


def test_cli_venue_refuses_remote_host_without_flag() -> None:
    r = subprocess.run([TRADESIM, "venue", "--host", "0.0.0.0", "--duration", "1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "not a loopback" in r.stderr
    r = subprocess.run([sys.executable, "-m", "tradesim_nb.cli", "venue", "--faults", "boom:1",
                        "--duration", "1"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "boom" in r.stderr


@pytest.mark.slow
def test_binance_recording_is_served_as_okx_and_rebuilt_exactly() -> None:
    """Any venue's recording that its feed rebuilds: Binance diffs + REST snapshot, served in
    OKX v5 form; the client's book ends equal to the venue's truth at every level."""
    import tradesim_nb.live as live
    from tradesim_nb.datasets import binance_spot_files

    async def main() -> None:
        v = LocalVenue(binance_spot_files()[0], venue="binance", speed=0)
        v.pause()
        async with v:
            c = await live.connect("okx", "BTCUSDT", source=v.url, wait_snapshot_s=None)
            await asyncio.sleep(0.2)
            v.resume()
            await asyncio.wait_for(v.finished.wait(), 60)
            assert await _until_async(lambda: c.book.seq == v.seq("BTCUSDT"), 10)
            tb, ta = v.true_levels("BTCUSDT")
            assert c.book.level_strings("bid", 10**6) == tb
            assert c.book.level_strings("ask", 10**6) == ta
            assert len(tb) > 500 and c.book_valid
            m = c.metrics
            assert m["gaps_detected"] == 0 and m["checksum_failures"] == 0
            assert c.feed.stats["BTCUSDT"].checksum_ok > 1000
            await c.stop()
    run(main(), 120)


async def _until_async(pred: Any, timeout: float) -> bool:
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if pred():
            return True
        await asyncio.sleep(0.02)
    return bool(pred())
