"""Fault specs: parsing with clear errors, seeded and exact triggers, detectable corruption."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from tradesim_nb.book import OrderBook
from tradesim_nb.live.faults import Fault, FaultInjector, corrupt_frame, parse_faults
from tradesim_nb.venues.okx import OkxFeed, okx_checksum


def test_parse_full_spec() -> None:
    spec = parse_faults("drop:0.01,dup:every=500,corrupt:0.001,close:every=2000,"
                        "stall:0.0005:2s,reorder:every=7")
    by = {f.kind: f for f in spec.faults}
    assert by["drop"] == Fault("drop", 0.01)
    assert by["dup"] == Fault("dup", every=500)
    assert by["stall"].probability == 0.0005 and by["stall"].duration_s == 2.0
    assert by["reorder"].every == 7
    assert parse_faults(str(spec)) == spec  # round trip
    assert parse_faults("stall:every=3:250ms").faults[0].duration_s == 0.25
    assert not parse_faults("") and not parse_faults(None)


@pytest.mark.parametrize("bad, words", [
    ("explode:0.1", "kind 'explode'"),
    ("drop", "needs a trigger"),
    ("drop:1.5", "must be in (0, 1]"),
    ("drop:0", "must be in (0, 1]"),
    ("drop:every=0", "every=0"),
    ("drop:every=x", "every='x'"),
    ("drop:lots", "probability in (0, 1] or every=N"),
    ("drop:0.1:2s", "too many fields"),
    ("stall:0.1:fast", "duration 'fast'"),
    ("drop:0.1,drop:every=3", "more than once"),
])
def test_bad_specs_raise_naming_the_item(bad: str, words: str) -> None:
    with pytest.raises(ValueError) as ei:
        parse_faults(bad)
    assert words in str(ei.value)


def test_every_n_is_exact_and_control_frames_are_spared() -> None:
    inj = FaultInjector("drop:every=10,close:every=25", seed=1)
    fired = []
    for i in range(1, 101):
        data = i % 3 != 0  # every third frame is a control frame
        fired.append(inj.decide(data))
    drops = [i for i, f in enumerate(fired, 1) if "drop" in f]
    assert all(i % 3 != 0 for i in drops)  # never on a control frame
    assert len(drops) == inj.data_frames // 10
    assert [i for i, f in enumerate(fired, 1) if "close" in f] == [25, 50, 75, 100]


def test_probability_is_seeded_and_has_the_right_rate() -> None:
    n, p = 100_000, 0.01
    a = FaultInjector(f"drop:{p}", seed=7)
    b = FaultInjector(f"drop:{p}", seed=7)
    da = [bool(a.decide()) for _ in range(n)]
    db = [bool(b.decide()) for _ in range(n)]
    assert da == db
    k = sum(da)
    sd = math.sqrt(n * p * (1 - p))
    assert abs(k - n * p) < 5 * sd
    c = FaultInjector(f"drop:{p}", seed=8)
    assert [bool(c.decide()) for _ in range(n)] != da


def test_every_corrupted_update_is_caught_by_the_okx_feed() -> None:
    rng = np.random.default_rng(0)
    bids = [(f"{100 - i * 0.1:.1f}", f"{1 + i}") for i in range(30)]
    asks = [(f"{100.1 + i * 0.1:.1f}", f"{2 + i}") for i in range(30)]
    book = OrderBook(venue="okx", symbol="X")
    book.apply_snapshot(bids, asks)
    caught = 0
    n = 2000
    for k in range(n):
        feed = OkxFeed()
        snap = {"arg": {"channel": "books", "instId": "X"}, "action": "snapshot",
                "data": [{"bids": [list(b) for b in bids], "asks": [list(a) for a in asks],
                          "ts": "1", "checksum": okx_checksum(bids, asks), "seqId": 10,
                          "prevSeqId": -1}]}
        feed.on_frame(orjson.dumps(snap), 0)
        nb = [(bids[k % 25][0], str(100 + k))]
        after = [nb[0] if i == k % 25 else b for i, b in enumerate(bids)]
        upd = {"arg": {"channel": "books", "instId": "X"}, "action": "update",
               "data": [{"bids": [list(x) for x in nb], "asks": [], "ts": "2",
                         "checksum": okx_checksum(after, asks), "seqId": 11, "prevSeqId": 10}]}
        frame = corrupt_frame(orjson.dumps(upd).decode(), rng)
        evs = feed.on_frame(frame, 0)
        kinds = {getattr(e, "kind", "") for e in evs}
        if "malformed" in kinds or "checksum_failed" in kinds:
            caught += 1
    assert caught == n
