"""The 24-hour ticker: every venue's client subscribes it, the local venue serves it, the impact
uses its volume; a venue without one (the GoQuant relay) says so instead of a silent 0.

The local venue's daily volume is its source's: the random walk's and the synthetic market's
expected volume a step (checked here against what they really trade), times the steps a
second, times a day; for a recording, what it published, scaled to a day.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from live_helpers import run, until

from tradesim_nb.datasets import binance_spot_files
from tradesim_nb.events import Ticker
from tradesim_nb.instruments import get_instrument
from tradesim_nb.live.client import BookClient, ClientConfig
from tradesim_nb.live.server import LocalVenue
from tradesim_nb.market import SyntheticMarket
from tradesim_nb.random_walk import RandomWalkBook
from tradesim_nb.simulator import TradeSimulator
from tradesim_nb.venues import get_feed
from tradesim_nb.venues.kraken import KrakenFeed

FAST = ClientConfig(backoff_initial_s=0.02, backoff_max_s=0.2, connect_timeout_s=2.0)
VENUES = {"okx": "BTC-USDT-SWAP", "binance": "BTCUSDT", "bybit": "BTCUSDT",
          "kraken": "XBT/USD", "goquant": "BTC-USDT-SWAP"}


@pytest.fixture(scope="module")
def models() -> Any:
    return TradeSimulator.default_models()


def test_sources_trade_what_they_say() -> None:
    inst = get_instrument("okx", "BTC-USDT-SWAP")
    rw = RandomWalkBook(inst, seed=4)
    n = 100_000
    vol = sum(q for _ in range(n) for _, q, _ in rw.step().trades)
    # the touch caps a few takes: the realised volume is within 3 % below the expectation
    assert 0.97 < vol / n / rw.expected_volume_per_step() <= 1.0
    # a plausible book (30,000 USD a level, takes of 15 % of a level), as the local venue runs
    big = RandomWalkBook.for_instrument(inst, seed=4)
    vol = sum(q for _ in range(n) for _, q, _ in big.step().trades)
    assert 0.9 < vol / n / big.expected_volume_per_step() <= 1.0
    assert big.expected_volume_per_step() > 50 * rw.expected_volume_per_step()
    mk = SyntheticMarket(seed=2)
    m = 20_000
    vol = sum(q for _ in range(m) for _, q, _ in mk.step().trades)
    assert vol / m / mk.expected_volume_per_step() == pytest.approx(1.0, abs=0.04)


def _source(venue: str, sym: str) -> RandomWalkBook:
    return RandomWalkBook.for_instrument(get_instrument(venue, sym), seed=5, rate_hz=400)


@pytest.mark.parametrize("venue", list(VENUES))
def test_the_local_venue_serves_it_and_the_impact_uses_it(venue: str, models: Any) -> None:
    sym = VENUES[venue]

    async def main() -> None:
        v = LocalVenue(_source(venue, sym), rate_hz=400, seed=3)
        async with v:
            c = BookClient(venue, sym, source=v.url_for(venue, sym), config=FAST, seed=1,
                           channels=("books", "trades"))
            sim = TradeSimulator(get_instrument(venue, sym), "buy", 100_000.0, models=models)
            c.on_update(sim.on_update)
            await c.start(wait_snapshot_s=5.0)
            try:
                if venue == "goquant":  # the relay has no 24-hour ticker: said, not 0
                    assert await until(lambda: sim.latest is not None, 10.0)
                    await __import__("asyncio").sleep(0.5)
                    e = sim.latest
                    assert e.impact_source == "none" and math.isnan(e.impact_usd)
                    assert "goquant sends no 24-hour ticker" in e.impact_model
                    assert "calibration" in e.impact_model and not c.feed.tickers
                    return
                assert await until(lambda: sym in c.feed.tickers, 10.0), c.metrics
                t = c.feed.tickers[sym]
                assert isinstance(t, Ticker)
                assert t.volume_24h_base == pytest.approx(v.daily_volume(sym), rel=1e-6)
                assert await until(lambda: sim.latest is not None
                                   and sim.latest.impact_source == "ticker_24h", 10.0)
                e = sim.latest
                assert e.impact_usd > 0 and e.net_usd == e.slippage_usd + e.fee_usd + e.impact_usd
                assert sim.features.volume_24h_base == t.volume_24h_base
            finally:
                await c.stop()

    run(main(), 60)


def test_a_recordings_volume_is_scaled_to_a_day() -> None:
    v = LocalVenue(binance_spot_files()[0], venue="binance")
    prints: list[tuple[float, float]] = []  # (market time, size) of every trade published
    for t_s, changes in v._recording_changes():
        v._t_s = t_s
        for ch in changes:
            if ch.trades and ch.symbol in v.truth:  # trades of a published book
                prints += [(t_s, float(q)) for _, q, _ in ch.trades]
            v._publish(ch)
        if t_s > 90.0:
            break
    span = prints[-1][0] - prints[0][0]
    assert span > 60.0
    want = sum(q for _, q in prints) / span * 86_400.0
    assert v.daily_volume("BTCUSDT") == pytest.approx(want, rel=1e-12)
    early = LocalVenue(binance_spot_files()[0], venue="binance")
    assert math.isnan(early.daily_volume("BTCUSDT"))  # nothing published: not known, not 0


def test_kraken_and_binance_parse_their_tickers() -> None:
    f = KrakenFeed()
    (t,) = f.on_frame('[340,{"a":["60000.1",0,"0.5"],"b":["59999.9",1,"1"],"c":["60000.0",'
                      '"0.01"],"v":["812.5","1950.25"],"p":["1","1"],"t":[1,2],"l":["1","1"],'
                      '"h":["1","1"],"o":["1","1"]},"ticker","XBT/USD"]', 5)
    assert t.volume_24h_base == 1950.25 and t.last_price == 60000.0 and t.symbol == "XBT/USD"
    b = get_feed("binance")
    (t,) = b.on_frame('{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":1700000000000,'
                      '"s":"BTCUSDT","c":"61000.5","v":"20517.3","q":"1.25e9"}}', 6)
    assert t.volume_24h_base == 20517.3 and t.exch_ts_ns == 1700000000000 * 1_000_000
