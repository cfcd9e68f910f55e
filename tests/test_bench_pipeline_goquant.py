"""tradesim bench pipeline, GoQuant section: the relay's frames, raw string to estimate, beside
the peer-style path (json.loads, a SortedDict rebuilt per message, sklearn predict)."""

from __future__ import annotations

import argparse
import json

from bench_helpers import bench_args

from tradesim_nb.bench import pipeline
from tradesim_nb.bench.book import goquant_frames


def _args(**kw: object) -> argparse.Namespace:
    return bench_args(pipeline, **kw)


def test_goquant_section() -> None:
    res = pipeline.run(_args(venues="okx", limit=600, passes=1, naive_every=0, min_frames=0))
    gq = res["goquant"]
    frames = goquant_frames()
    assert len(frames) == 300 and gq["frames"] == 300
    # every frame a full snapshot with an estimate: the crossed BTC books are sanitized
    assert gq["estimated_frames"] == 300 == gq["estimates"]
    assert gq["instruments"] == ["BTC-USDT-SWAP", "ETH-USDT-SWAP"]
    assert gq["order"] == {"usd": 100.0, "order_type": "market"}
    ps = gq["peer_style"]
    assert ps["samples"] == 300
    # the peer's per-message sklearn predict calls alone cost far more than our whole path
    # (measured 10-17x at the median); a 3x floor is safe on a loaded machine
    assert ps["ratio_p50"] > 3.0
    assert gq["total"]["p50_us"] >= max(gq["stages"][s]["p50_us"] for s in pipeline.STAGES)
    text = pipeline.format_table(res)
    assert "goquant: 1 passes of 300 frames" in text and "peer-style path" in text
    assert json.loads(json.dumps(res)) == res
    assert "goquant" not in pipeline.run(_args(venues="okx", limit=50, passes=1, min_frames=0,
                                               naive_every=0, goquant=False))


def test_peer_style_path_prices_the_order() -> None:
    from tradesim_nb.simulator import TradeSimulator

    peer = pipeline._PeerTick(pipeline._Naive(TradeSimulator.default_models()), 100.0)
    _, raw = goquant_frames(variants=1)[4]  # eth_response_1: not crossed
    out = peer.tick(raw)
    msg = json.loads(raw)
    best_bid = max(float(p) for p, _ in msg["bids"])
    best_ask = min(float(p) for p, _ in msg["asks"])
    assert out["mid"] == (best_bid + best_ask) / 2
    assert out["ask_depth_usd"] > 0 and out["bid_depth_usd"] > 0
