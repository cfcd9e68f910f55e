"""``tradesim cost``: the cost estimate of one order against a recording or a live feed.

``--source FILE [FILE ...]`` replays files of any format :func:`tradesim_nb.formats.open_source`
reads (``--format``, default detected: ``tradesim record``'s ``.jsonl.gz``, the line
layouts of the packaged recordings, Tardis CSVs, Bybit's archive, cryptofeed logs) through the
venue's parser and a :class:`~tradesim_nb.simulator.TradeSimulator`, and reports the estimate
on the last valid book plus summary statistics over every tick of the instrument.
``--source <venue>|local|auto`` or a ``ws://``/``wss://`` URL runs the live client
(:mod:`tradesim_nb.live.client`) for ``--duration`` seconds with the simulator as its consumer
and reports the last estimate; ``local`` starts a venue on 127.0.0.1 in this process (no
internet needed).

``--models MODEL.json`` prices with a model file of ``tradesim fit`` (its slippage and
maker/taker models and its fitted impact); without it the default models are trained on the
real Binance BTCUSDT recording (first use, a few seconds, then cached; see
:meth:`TradeSimulator.default_models`) and the impact comes from the venue's 24-hour volume.
The estimate's ``impact_source`` says which (``model_file``, ``given``, ``ticker_24h``,
``trades`` or ``none`` with the reason in ``impact_model``; a ``none`` impact is null in JSON
and the net cost excludes it).
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
    p.add_argument("--source", required=True, nargs="+", metavar="FILE|URL|PRESET",
                   help="data file(s) of one source, a ws:// URL, or one of "
                        + ", ".join(PRESETS))
    p.add_argument("--format", default="auto",
                   help="format of FILE (default auto: detected from the content)")
    p.add_argument("--models", default=None, metavar="MODEL.json",
                   help="a model file of tradesim fit (default: the bundled models)")
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
    p.add_argument("--daily-volume", type=float, default=None, dest="daily_volume",
                   help="daily volume in base units for the rule-of-thumb impact (default: "
                        "the venue's 24-hour ticker, else the trade stream)")
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
    from ..simulator import ImpactParams, ImpactSettings, TradeSimulator

    qty, unit = _size(args)
    models = getattr(args, "model_file", None)
    typed = args.eta is not None or args.gamma is not None
    if models is not None and not typed:
        # the model file's fitted impact, over the horizon asked for
        impact: Any = None
        settings: Any = ImpactSettings(horizon_s=args.horizon_s, periods=args.periods,
                                       daily_volume_base=args.daily_volume)
    else:
        impact = ImpactParams(eta=args.eta, gamma=args.gamma, horizon_s=args.horizon_s,
                              periods=args.periods, daily_volume_base=args.daily_volume)
        settings = None
    return TradeSimulator(instrument, args.side, qty, unit=unit,  # type: ignore[arg-type]
                          order_type=args.order_type, fee_tier=args.fee_tier,
                          volatility_bps=args.volatility_bps, impact=impact,
                          impact_settings=settings, models=models, history=history)


def _summary(sim: Any) -> dict[str, Any]:
    import numpy as np

    hist = list(sim.history)
    out: dict[str, Any] = {"ticks": sim.ticks, "estimates": len(hist),
                           "skipped_invalid": sim.skipped}
    if hist:
        for f in _SUMMARY_FIELDS:
            a = np.array([getattr(e, f) for e in hist], dtype=np.float64)
            a = a[np.isfinite(a)]  # impact not estimated (NaN) on some ticks
            out[f] = ({"mean": float(a.mean()), "p5": float(np.percentile(a, 5)),
                       "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
                       "n": int(a.size)} if a.size else None)
        src: dict[str, int] = {}
        for e in hist:
            src[e.impact_source] = src.get(e.impact_source, 0) + 1
        out["impact_sources"] = src
        lat = np.array([e.latency_ns for e in hist], dtype=np.float64) / 1e3
        out["latency_us"] = {"p50": float(np.percentile(lat, 50)),
                             "p99": float(np.percentile(lat, 99))}
    return out


def replay_cost(args: argparse.Namespace) -> dict[str, Any]:
    """Replay ``args.source`` (files) and return the final estimate and the summary."""
    from .. import formats

    paths = [Path(p) for p in args.source]
    if len(paths) == 1:
        paths += _continuations(paths[0])
    reader = formats.open_source(paths, args.format, venue=args.venue, symbol=args.instrument)
    venue = args.venue or reader.venue
    if not venue:
        raise ValueError(f"{paths[0]}: the file does not say which venue it comes from: pass "
                         "--venue")
    feed = formats.open_feed(reader, venue)
    sim = None
    sym = args.instrument
    frames = 0
    for recv_ns, events in formats.iter_events(reader, feed):
        frames += 1
        if sim is None:
            if sym is None:
                valid = [s for s, b in feed.books.items() if b.valid and b.instrument]
                sym = valid[0] if valid else None
            book = feed.books.get(sym) if sym else None
            if book is None or book.instrument is None:
                continue
            sim = _simulator(args, book.instrument)
        mine = [e for e in events if getattr(e, "symbol", None) == sym]
        if mine:
            sim.on_update(feed.books[sym], mine, recv_ns)
    if sim is None:
        raise ValueError(f"no valid book for instrument={args.instrument!r} in "
                         f"{', '.join(str(p) for p in paths)} "
                         f"(books: {', '.join(feed.books) or 'none'})")
    return _result(sim, {"source": ",".join(str(p) for p in paths), "venue": venue,
                         "format": reader.format, "frames": frames})


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
    mf = sim.model_file
    return {**meta, "instrument": sim.instrument.symbol,
            "order": {"side": sim.side, "quantity": sim.quantity, "unit": sim.unit,
                      "order_type": sim.order_type, "fee_tier": sim.fee_tier},
            "models": {"file": None if mf is None else str(mf.path or mf.name),
                       "fitted_on": "binance:BTCUSDT" if mf is None else mf.fitted_on(),
                       "matches_instrument": mf is not None and not sim.foreign_models,
                       "impact_note": sim.impact_note},
            "impact": None if est is None else {
                "source": est.impact_source, "model": est.impact_model,
                "estimated": est.impact_estimated, "usd": est.impact_usd,
                "bps": est.impact_bps},
            "estimate": est.to_dict() if est is not None else None,
            "summary": _summary(sim)}


async def live_cost(args: argparse.Namespace) -> dict[str, Any]:
    """Run the live client for ``args.duration`` seconds with the simulator as a consumer."""
    from ..instruments import get_instrument
    from .watch import client_from_args, run_until

    ns = argparse.Namespace(source=args.source[0], venue=args.venue,
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
    if args.daily_volume is not None and not (math.isfinite(args.daily_volume)
                                              and args.daily_volume > 0):
        raise ValueError(f"--daily-volume={args.daily_volume!r} must be a finite number > 0")
    if args.models is not None:
        from ..models import load_models

        args.model_file = load_models(args.models)
    src = args.source
    if all(Path(s).is_file() for s in src):
        res = replay_cost(args)
    elif len(src) == 1 and (src[0] in PRESETS or src[0].startswith(("ws://", "wss://"))):
        res = asyncio.run(live_cost(args))
    else:
        missing = [s for s in src if not Path(s).is_file()]
        raise ValueError(f"--source={' '.join(src)!r}: {', '.join(missing)} is not a file "
                         f"(a live source is one ws:// URL or one of {', '.join(PRESETS)})")
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
        (f"  impact    {e['impact_bps']:9.4f} bps  ${e['impact_usd']:,.4f}   "
         f"({e['impact_model']}; source {e['impact_source']})"
         if e["impact_source"] != "none" else
         f"  impact    not estimated ({e['impact_model'].removeprefix('none: ')})"),
        f"  net       {e['net_bps']:9.4f} bps  ${e['net_usd']:,.4f}"
        + ("   excl. impact" if e["impact_source"] == "none" else ""),
        f"  volatility {e['volatility_bps']:.4f} bps/sqrt(s); this tick "
        f"{e['latency_ns'] / 1e3:.1f} µs" + ("" if e["complete"] else
                                             "; the book could not fill the whole order")
        + ("; features outside the models' training range (extrapolated)"
           if e.get("extrapolated") else ""),
    ]
    m = res.get("models") or {}
    lines.append(f"  models: {m.get('file') or 'bundled default'} (fitted on "
                 f"{m.get('fitted_on')})" + ("" if m.get("file") is None
                                             or m.get("matches_instrument")
                                             else " -- another instrument: flagged"))
    s = res["summary"]
    if s.get("estimates"):
        n = s["net_bps"]
        lines.append(f"  over the last {s['estimates']} ticks: net bps mean {n['mean']:.4f}, p5 "
                     f"{n['p5']:.4f}, p50 {n['p50']:.4f}, p95 {n['p95']:.4f}; estimate "
                     f"p50 {s['latency_us']['p50']:.1f} µs, p99 {s['latency_us']['p99']:.1f} µs")
    return "\n".join(lines)
