"""``tradesim cost``: the cost estimate of one order against a recording or a live feed.

``--source FILE`` replays a recording (``.jsonl.gz`` written by ``tradesim record``, the
packaged Binance ``.gz`` files or the OKX log) through the venue's parser and a
:class:`~tradesim_nb.simulator.TradeSimulator`, and reports the estimate on the last valid
book plus summary statistics over every tick. ``--source <venue>|local|auto`` or a
``ws://``/``wss://`` URL runs the live client (:mod:`tradesim_nb.live.client`) for
``--duration`` seconds with the simulator as its consumer and reports the last estimate;
``local`` starts a venue on 127.0.0.1 in this process (no internet needed).

The default models are trained on the real Binance BTCUSDT recording (first use, a few
seconds, then cached as JSON; see :meth:`TradeSimulator.default_models`).
"""

from __future__ import annotations

import argparse
import asyncio
import math
from pathlib import Path
from typing import Any

from . import emit_json
from .watch import PRESETS  # live sources: the same presets as `tradesim watch`

_SUMMARY_FIELDS = ("net_bps", "slippage_bps", "fee_bps", "impact_bps", "maker_share")


def register(sub: Any) -> None:
    p = sub.add_parser("cost", help="cost estimate of one order on a recording or a live feed",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", required=True, metavar="FILE|URL|PRESET",
                   help="a recording file, a ws:// URL, or one of " + ", ".join(PRESETS))
    size = p.add_mutually_exclusive_group()
    size.add_argument("--usd", type=float, default=None, help="order notional in USD")
    size.add_argument("--base", type=float, default=None, help="order size in base currency")
    size.add_argument("--contracts", type=float, default=None, help="order size in contracts")
    p.add_argument("--side", choices=("buy", "sell"), default="buy")
    p.add_argument("--order-type", choices=("market", "passive_then_aggressive"),
                   default="market")
    p.add_argument("--fee-tier", default=None, help="tier of the venue's fee schedule "
                   "(default: the lowest tier)")
    p.add_argument("--venue", default=None,
                   help="venue of the recording or URL (default: guessed from the file)")
    p.add_argument("--instrument", "-i", default=None,
                   help="instrument id (default: the recording's first; live BTC-USDT-SWAP)")
    p.add_argument("--volatility-bps", type=float, default=None,
                   help="mid volatility, bps per sqrt(second) (default: estimated live)")
    p.add_argument("--eta", type=float, default=None, help="AC temporary impact, USD/(base/s)")
    p.add_argument("--gamma", type=float, default=None, help="AC permanent impact, USD/base")
    p.add_argument("--horizon-s", type=float, default=60.0, help="AC execution horizon, s")
    p.add_argument("--periods", type=int, default=1, help="AC number of slices")
    p.add_argument("--duration", type=float, default=10.0,
                   help="seconds to run a live source (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_run)


def _size(args: argparse.Namespace) -> tuple[float, str]:
    if args.base is not None:
        return args.base, "base"
    if args.contracts is not None:
        return args.contracts, "contracts"
    return (100.0 if args.usd is None else args.usd), "usd"


def _simulator(args: argparse.Namespace, instrument: Any, history: int = 200_000) -> Any:
    from ..simulator import ImpactParams, TradeSimulator

    qty, unit = _size(args)
    impact = ImpactParams(eta=args.eta, gamma=args.gamma, horizon_s=args.horizon_s,
                          periods=args.periods)
    return TradeSimulator(instrument, args.side, qty, unit=unit,  # type: ignore[arg-type]
                          order_type=args.order_type, fee_tier=args.fee_tier,
                          volatility_bps=args.volatility_bps, impact=impact, history=history)


def _summary(sim: Any) -> dict[str, Any]:
    import numpy as np

    hist = list(sim.history)
    out: dict[str, Any] = {"ticks": sim.ticks, "estimates": len(hist),
                           "skipped_invalid": sim.skipped}
    if hist:
        for f in _SUMMARY_FIELDS:
            a = np.array([getattr(e, f) for e in hist], dtype=np.float64)
            out[f] = {"mean": float(a.mean()), "p5": float(np.percentile(a, 5)),
                      "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95))}
        lat = np.array([e.latency_ns for e in hist], dtype=np.float64) / 1e3
        out["latency_us"] = {"p50": float(np.percentile(lat, 50)),
                             "p99": float(np.percentile(lat, 99))}
    return out


def replay_cost(args: argparse.Namespace) -> dict[str, Any]:
    """Replay ``args.source`` (a file) and return the final estimate and the summary."""
    from ..recording import guess_venue, read_frames
    from ..venues import get_feed

    path = Path(args.source)
    venue = args.venue or guess_venue(path)
    feed = get_feed(venue)
    sim = None
    frames = 0
    for recv_ns, events, _sym in feed.replay(read_frames(path, *_continuations(path))):
        frames += 1
        if sim is None:
            sym = args.instrument
            if sym is None:
                valid = [s for s, b in feed.books.items() if b.valid and b.instrument]
                sym = valid[0] if valid else None
            book = feed.books.get(sym) if sym else None
            if book is None or book.instrument is None:
                continue
            sim = _simulator(args, book.instrument)
        book = feed.books.get(sim.instrument.symbol)
        if book is not None:
            sim.on_update(book, events, recv_ns)
    if sim is None:
        raise ValueError(f"no valid book for instrument={args.instrument!r} in {path} "
                         f"(books: {', '.join(feed.books) or 'none'})")
    return _result(sim, {"source": str(path), "venue": venue, "frames": frames})


def _continuations(path: Path) -> list[Path]:
    """The packaged Binance recording is split in two files: replay the second after the first."""
    try:
        from ..datasets import binance_spot_files

        files = binance_spot_files()
    except FileNotFoundError:
        return []
    if path.resolve() == files[0].resolve():
        return files[1:]
    return []


def _result(sim: Any, meta: dict[str, Any]) -> dict[str, Any]:
    est = sim.latest
    return {**meta, "instrument": sim.instrument.symbol,
            "order": {"side": sim.side, "quantity": sim.quantity, "unit": sim.unit,
                      "order_type": sim.order_type, "fee_tier": sim.fee_tier},
            "estimate": est.to_dict() if est is not None else None,
            "summary": _summary(sim)}


async def live_cost(args: argparse.Namespace) -> dict[str, Any]:
    """Run the live client for ``args.duration`` seconds with the simulator as a consumer."""
    from ..instruments import get_instrument
    from .watch import client_from_args, run_until

    ns = argparse.Namespace(source=args.source, venue=args.venue,
                            instrument=[args.instrument] if args.instrument else None)
    client = client_from_args(ns)  # the same sources and presets as `tradesim watch`
    venue, sym = client.venue, client.symbols[0]
    sim = _simulator(args, get_instrument(venue, sym))
    client.on_update(sim.on_update)
    try:
        await run_until(client, args.duration, False)
    finally:
        m = client.metrics
        await client.stop()
    return _result(sim, {"source": client.source, "venue": venue,
                         "frames": m.get("frames", 0)})


def _run(args: argparse.Namespace) -> int:
    qty, _ = _size(args)
    if not (math.isfinite(qty) and qty > 0):
        raise ValueError(f"order size={qty!r} must be a finite number > 0")
    src = args.source
    if Path(src).is_file():
        res = replay_cost(args)
    elif src in PRESETS or src.startswith(("ws://", "wss://")):
        res = asyncio.run(live_cost(args))
    else:
        raise ValueError(f"--source={src!r} is not a file, a ws:// URL or one of "
                         f"{', '.join(PRESETS)}")
    if args.json:
        emit_json(res)
    else:
        print(format_result(res))
    return 0 if res["estimate"] is not None else 1


def format_result(res: dict[str, Any]) -> str:
    o = res["order"]
    lines = [f"{res['venue']} {res['instrument']} ({res['source']}, {res['frames']} frames): "
             f"{o['side']} {o['quantity']:g} {o['unit']} {o['order_type']}, "
             f"fee tier {o['fee_tier']}"]
    e = res["estimate"]
    if e is None:
        lines.append("no valid book: no estimate")
        return "\n".join(lines)
    lines += [
        f"  mid {e['mid']:.6g}  notional ${e['notional_usd']:,.2f}  "
        f"({e['qty_base']:.6g} base)",
        f"  slippage  {e['slippage_bps']:9.4f} bps  ${e['slippage_usd']:,.4f}   "
        f"band p50/p90/p95 {e['slippage_p50_bps']:.4f} / {e['slippage_p90_bps']:.4f} / "
        f"{e['slippage_p95_bps']:.4f} bps  (walk now {e['walk_bps']:.4f} bps)",
        f"  fees      {e['fee_bps']:9.4f} bps  ${e['fee_usd']:,.4f}   maker share "
        f"{e['maker_share']:.3f}",
        f"  impact    {e['impact_bps']:9.4f} bps  ${e['impact_usd']:,.4f}   "
        f"({e['impact_model']})",
        f"  net       {e['net_bps']:9.4f} bps  ${e['net_usd']:,.4f}",
        f"  volatility {e['volatility_bps']:.4f} bps/sqrt(s); this tick "
        f"{e['latency_ns'] / 1e3:.1f} µs" + ("" if e["complete"] else
                                             "; the book could not fill the whole order")
        + ("; features outside the models' training range (extrapolated)"
           if e.get("extrapolated") else ""),
    ]
    s = res["summary"]
    if s.get("estimates"):
        n = s["net_bps"]
        lines.append(f"  over the last {s['estimates']} ticks: net bps mean {n['mean']:.4f}, p5 "
                     f"{n['p5']:.4f}, p50 {n['p50']:.4f}, p95 {n['p95']:.4f}; estimate "
                     f"p50 {s['latency_us']['p50']:.1f} µs, p99 {s['latency_us']['p99']:.1f} µs")
    return "\n".join(lines)
