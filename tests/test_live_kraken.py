"""Kraken through the live client and the local venue: the book equals the venue's true book
after every resync under every fault, the protocol replies, a deep book with republished
levels, the real recording served back, ``tradesim watch --venue kraken``, the dashboard.

Kraken v1 has no sequence numbers: the checksum of the best 10 levels a side is the only
check, so the fault tests run at the default depth 10, where every level is checksummed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
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
from tradesim_nb.random_walk import RandomWalkBook, RandomWalkParams
from tradesim_nb.venues.kraken import kraken_checksum

SYM = "XBT/USD"
# faults every few ms: resyncs rate-limited to 20 a second here (default 1; see test_integrity)
FAST = ClientConfig(backoff_initial_s=0.02, backoff_max_s=0.2, silence_timeout_s=0.25,
                    resync_timeout_s=1.0, connect_timeout_s=2.0, resync_min_interval_s=0.05)
REPO = Path(__file__).resolve().parent.parent
TRADESIM = str(REPO / ".venv" / "bin" / "tradesim")


def _venue(seed: int = 0, n_levels: int = 14, **kw: Any) -> LocalVenue:
    """A random walk on Kraken's XBT/USD; 14 levels a side keep most changes in the top 10."""
    params = RandomWalkParams(mid=60_000.0, n_levels=n_levels, mean_size_lots=4e6)
    return LocalVenue(RandomWalkBook(get_instrument("kraken", SYM), params, seed=seed), **kw)


@pytest.mark.parametrize("kind", list(FAULTS))
def test_book_equals_truth_after_every_resync_under_faults(kind: str) -> None:
    async def main() -> None:
        v = _venue(seed=11, rate_hz=2500, faults=FAULTS[kind], history=200_000)
        async with v:
            d = v.dialect("kraken")
            c = BookClient("kraken", SYM, source=v.base_url, config=FAST, seed=1)
            resync_checks: list[bool] = []
            sampled: list[bool] = []
            n = [0]

            def check(book: Any, events: list[Any], recv_ns: int) -> None:
                n[0] += 1
                snap = any(type(e).__name__ == "BookSnapshot" for e in events)
                if not book.valid or not (snap or n[0] % 37 == 0):
                    return
                want = d.truth_for(SYM, d.book_id(book))
                assert want is not None
                (resync_checks if snap else sampled).append(_levels(book) == want)

            c.on_update(check)
            await c.start()
            await asyncio.sleep(1.6)
            v.faults_enabled = False
            f0 = c.frames
            assert await _until(lambda: c.frames > f0 + 50, 10)
            assert await _until(lambda: c.book_valid, 10)
            v.pause()
            assert await _until(lambda: d.book_id(c.book) == d.current_id(SYM)
                                and c.book_valid, 10)
            tb, ta = v.true_levels(SYM)
            assert c.book.level_strings("bid", ALL) == tb[:10]
            assert c.book.level_strings("ask", ALL) == ta[:10]
            m = c.metrics
            v.resume()
            await c.stop()
        st = c.feed.stats[SYM]
        assert c.callback_errors == 0 and c.apply_errors == 0
        assert resync_checks and all(resync_checks), resync_checks
        assert sampled and all(sampled)
        assert m["frames"] > 1000 and st.checksum_ok > 1000
        if kind == "dup":
            # an update applied twice leaves the same book (levels carry absolute volumes)
            assert st.checksum_failed == 0 and m["resyncs"] == 0
        else:
            assert len(resync_checks) >= 2  # the first snapshot and at least one resync
        if kind in ("drop", "reorder", "corrupt"):
            # a lost or damaged update shows in the next checksum (or is malformed)
            assert v.gaps_injected >= 3
            assert m["checksum_failures"] + m["malformed"] >= 3 and m["resyncs"] >= 3
            assert m["reconnects"] <= m["watchdog_closes"] + (kind == "corrupt")
        if kind == "corrupt":
            assert m["malformed"] >= 1 and m["checksum_failures"] >= 1
        if kind == "stall":
            assert m["watchdog_closes"] >= 1 and m["reconnects"] >= 1
        if kind in ("close", "mix"):
            assert m["reconnects"] >= 1
    run(main())


def test_deep_book_with_republished_levels_is_rebuilt_exactly() -> None:
    """Depth 25 of a 50-level book: levels leave the depth silently and come back
    republished ("r"); the client's book is the true top 25 at every sampled update."""
    async def main() -> None:
        v = _venue(seed=5, n_levels=50, rate_hz=2000, history=200_000)
        async with v:
            d = v.dialect("kraken")
            c = BookClient("kraken", SYM, source=v.base_url, config=FAST, channels=("book-25",))
            sampled: list[bool] = []
            c.on_update(lambda book, ev, t: sampled.append(
                _levels(book) == d.truth_for(SYM, d.book_id(book))) if book.valid else None)
            await c.start()
            await asyncio.sleep(1.2)
            v.pause()
            assert await _until(lambda: d.book_id(c.book) == d.current_id(SYM), 5)
            tb, ta = v.true_levels(SYM)
            assert len(tb) > 25 and len(ta) > 25
            assert c.book.level_strings("bid", ALL) == tb[:25]
            assert c.book.level_strings("ask", ALL) == ta[:25]
            st = c.feed.stats[SYM]
            assert st.checksum_ok > 500 and st.checksum_failed == 0 and c.malformed == 0
            assert c.book.truncated > 0  # type: ignore[attr-defined]
            await c.stop()
        assert len(sampled) > 500 and all(sampled)
    run(main())


def test_venue_protocol_replies_and_checksums_against_a_plain_reference() -> None:
    """The dialect alone, read by a plain reference book (dicts, truncation to the depth, the
    CRC32 computed here): every update's "c" is that of the reference after it."""
    async def main() -> None:
        v = _venue(seed=3, n_levels=30, rate_hz=1000)
        async with v, ws_connect(v.url_for("kraken")) as ws:
            o = orjson.loads(await ws.recv())
            assert o["event"] == "systemStatus" and o["status"] == "online"
            await ws.send('{"event":"ping","reqid":7}')
            assert orjson.loads(await ws.recv()) == {"event": "pong", "reqid": 7}
            await ws.send(json.dumps({"event": "subscribe", "pair": ["NOPE/USD"],
                                      "subscription": {"name": "book", "depth": 10}}))
            o = orjson.loads(await ws.recv())
            assert o["status"] == "error" and "NOPE/USD" in o["errorMessage"]
            await ws.send(json.dumps({"event": "subscribe", "pair": [SYM],
                                      "subscription": {"name": "book", "depth": 11}}))
            assert orjson.loads(await ws.recv())["status"] == "error"
            await ws.send(json.dumps({"event": "subscribe", "pair": [SYM],
                                      "subscription": {"name": "book", "depth": 10}}))
            o = orjson.loads(await ws.recv())
            assert o["status"] == "subscribed" and o["channelName"] == "book-10"
            snap = orjson.loads(await ws.recv())
            assert snap[-2:] == ["book-10", SYM] and len(snap[1]["as"]) == 10
            ref = {"a": {lv[0]: lv[1] for lv in snap[1]["as"]},
                   "b": {lv[0]: lv[1] for lv in snap[1]["bs"]}}
            republished = 0
            for _ in range(400):
                msg = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                cs = None
                for part in msg[1:-2]:
                    for side in ("a", "b"):
                        for lv in part.get(side, []):
                            republished += len(lv) == 4 and lv[3] == "r"
                            if float(lv[1]) == 0:
                                ref[side].pop(lv[0], None)
                            else:
                                ref[side][lv[0]] = lv[1]
                    cs = part.get("c", cs)
                asks = sorted(ref["a"].items(), key=lambda kv: float(kv[0]))[:10]
                bids = sorted(ref["b"].items(), key=lambda kv: -float(kv[0]))[:10]
                ref = {"a": dict(asks), "b": dict(bids)}  # kept at the depth
                assert cs == str(kraken_checksum(asks, bids))
            assert republished > 0
            await ws.send(json.dumps({"event": "unsubscribe", "pair": [SYM],
                                      "subscription": {"name": "book", "depth": 10}}))
            for _ in range(50):
                o = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                if isinstance(o, dict):
                    assert o["status"] == "unsubscribed"
                    break
            else:
                raise AssertionError("no unsubscribed status")
    run(main())


def test_local_source_serves_kraken() -> None:
    import tradesim_nb.live as live

    async def main() -> None:
        c = await live.connect("kraken", SYM, source="local", local_venue={"rate_hz": 500},
                               wait_snapshot_s=5.0)
        try:
            assert c.book_valid and c.source.startswith("local:ws://127.0.0.1:")
            v = c.local_venue
            d = v.dialect("kraken")
            v.pause()
            assert await _until(lambda: d.book_id(c.book) == d.current_id(SYM), 5)
            assert c.book.level_strings("bid", ALL) == v.true_levels(SYM)[0][:10]
        finally:
            await c.stop()
        assert c.local_venue is None and not c.tasks
    run(main())


@pytest.mark.slow
def test_real_kraken_recording_served_back_is_rebuilt_exactly() -> None:
    """The packaged Kraken recording (ten pairs, depth 1000) replayed by the venue as fast as
    the client reads, subscribed at depth 1000: every pair's book ends equal to the truth at
    every level, every checksum verified."""
    from tradesim_nb.datasets import kraken_book_file

    pairs = ["WAVES/EUR", "XMR/USD", "KSM/XBT", "GRT/ETH", "SC/EUR", "ETH/CHF", "OCEAN/XBT",
             "OMG/USD", "XBT/CHF", "ADA/XBT"]

    async def main() -> None:
        v = LocalVenue(kraken_book_file(), venue="kraken", speed=0)
        v.pause()
        async with v:
            c = await live_connect(v.url_for("kraken"), pairs)
            await asyncio.sleep(0.2)
            v.resume()
            await asyncio.wait_for(v.finished.wait(), 60)
            d = v.dialect("kraken")
            assert await _until(lambda: all(d.book_id(c.feed.book(p)) == d.current_id(p)
                                            for p in pairs), 10)
            for p in pairs:
                tb, ta = v.true_levels(p)
                book = c.feed.book(p)
                assert book.valid and book.level_strings("bid", ALL) == tb[:1000], p
                assert book.level_strings("ask", ALL) == ta[:1000], p
                st = c.feed.stats[p]
                assert st.checksum_ok >= 1 and st.checksum_failed == 0, (p, st)
            assert sum(c.feed.stats[p].checksum_ok for p in pairs) > 3000
            m = c.metrics
            assert m["malformed"] == 0 and m["resyncs"] == 0 and m["reconnects"] == 0
            await c.stop()
    run(main(), 120)


async def live_connect(url: str, pairs: list[str]) -> BookClient:
    c = BookClient("kraken", pairs, source=url, config=ClientConfig(silence_timeout_s=60.0),
                   channels=("book-1000",))
    return await c.start(None)  # the venue is paused: the snapshots come with its first data


def test_cli_watch_kraken_against_tradesim_venue() -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    venue = subprocess.Popen([TRADESIM, "venue", "--instrument", f"kraken:{SYM}", "--rate",
                              "1000", "--seed", "3", "--duration", "30", "--faults",
                              "drop:every=300"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    try:
        assert venue.stdout is not None
        base = venue.stdout.readline().strip().split("/ws/")[0]
        assert base.startswith("ws://127.0.0.1:"), base
        p = subprocess.run([TRADESIM, "watch", base, "--venue", "kraken", "--duration", "3",
                            "--json"], capture_output=True, text=True, env=env, timeout=30)
        assert p.returncode == 0, p.stderr
        m = json.loads(p.stdout)
        assert m["venue"] == "kraken" and m["symbols"] == [SYM] and m["book_valid"], m
        assert m["url"].endswith("/v1") and m["frames"] > 200 and m["best_bid"] < m["best_ask"]
        assert m["checksum_failures"] >= 1 and m["resyncs"] >= 1, m  # the drops were seen
        assert "frames=" in p.stderr  # status lines
    finally:
        venue.terminate()
        venue.wait(timeout=10)
    assert venue.returncode == 0


@pytest.mark.slow
def test_trade_cost_dashboard_on_kraken() -> None:
    from tradesim_nb.nb.trade_cost import VENUE_SYMBOLS, trade_cost_dashboard

    assert SYM in VENUE_SYMBOLS["kraken"]

    async def main() -> dict[str, Any]:
        dash = await trade_cost_dashboard("kraken", SYM, source="local", quantity_usd=50_000,
                                          local_rate_hz=100, rate_hz=10)
        try:
            await asyncio.sleep(1.5)
            e = dash.simulator.latest
            return {"source": dash.client.source, "drawn": dash.estimates_drawn,
                    "tier": dash.simulator.fee_tier,
                    "fee_bps": e.fee_bps if e is not None else None,
                    "tiers": list(dash.w_tier.options)}
        finally:
            await dash.stop()

    o = run(main())
    assert o["source"].startswith("local:ws://127.0.0.1") and o["source"].endswith("/v1")
    assert o["drawn"] >= 5
    # Kraken's own per-pair fee tiers (AssetPairs): taker 0.26 % at the first tier
    assert o["tiers"][0] == "0+ USD" and o["tier"] == "0+ USD"
    assert o["fee_bps"] == pytest.approx(26.0)
