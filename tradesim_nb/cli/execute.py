"""``tradesim execute``: schedules replayed on a recording that they move (impact-aware).

Fits the models on the recording (book depth, resilience, kernel exponent), builds TWAP, VWAP,
POV and each model's optimum for the order, replays each from many start times with the
liquidity its children take staying taken and refilling, and prints the realised cost
distribution per schedule beside each model's expected cost and sqrt(V). Example (the table
of the docs)::

    tradesim execute --notional 1e6 --horizon 60 --periods 12 --every 25 --risk-aversion 5e-5

Without files it replays the shipped Binance BTCUSDT recording.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from . import emit_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "execute", help="impact-aware replay of execution schedules on a recording",
        description="Replay TWAP, VWAP, POV and the AC / Obizhaeva-Wang / propagator / "
                    "nonlinear-AC optima on recorded books that the schedule itself depletes "
                    "and shifts; realised cost over many start times against each model.")
    p.add_argument("files", nargs="*", help="recording files, in order (default: the shipped "
                   "Binance BTCUSDT spot recording)")
    p.add_argument("--venue", default="binance")
    p.add_argument("--symbol", default="BTCUSDT")
    p.add_argument("--notional", type=float, default=1e6,
                   help="parent order in quote currency (default 1e6)")
    p.add_argument("--side", choices=("buy", "sell"), default="buy")
    p.add_argument("--horizon", type=float, default=60.0, help="T, seconds (default 60)")
    p.add_argument("--periods", type=int, default=12, help="N (default 12)")
    p.add_argument("--every", type=float, default=25.0,
                   help="seconds between start times (default 25)")
    p.add_argument("--risk-aversion", type=float, default=5e-5, dest="risk_aversion",
                   help="lambda for the AC, propagator and nonlinear optima, 1/quote "
                        "(default 5e-5)")
    p.add_argument("--resilience", type=float, default=None,
                   help="rho, 1/s, instead of the fitted one")
    p.add_argument("--refill", choices=("exponential", "power-law"), default="exponential",
                   help="how taken liquidity refills in the replay: at the fitted rho with the "
                        "permanent share shifting the books (default), or as the fitted "
                        "power-law propagator with no separate permanent part")
    p.add_argument("--fee-tier", default="VIP 0", dest="fee_tier",
                   help="taker tier of the venue's spot schedule (default 'VIP 0')")
    p.add_argument("--bootstrap", type=int, default=200, help="replicates for the intervals")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..costs.fees import get_fee_schedule
    from ..datasets import binance_spot_files
    from ..execution import (
        ReplayImpact,
        Schedule,
        fit_execution_models,
        replay_many,
        standard_schedules,
        tape_from_recording,
    )

    files = args.files or [str(p) for p in binance_spot_files()]
    tape = tape_from_recording(files, args.venue, args.symbol)
    mid = float(np.nanmean(tape.mid))
    size = args.notional / mid
    models = fit_execution_models(tape, size, args.horizon, args.periods,
                                  risk_aversion=args.risk_aversion, resilience=args.resilience,
                                  bootstrap=args.bootstrap)
    impact = models.replay
    if args.refill == "power-law":
        impact = ReplayImpact(models.propagator.kernel, 0.0, None)
    scheds = dict(standard_schedules(models))
    scheds["immediate"] = Schedule.immediate(size, args.horizon)
    fast = args.horizon / 10
    scheds[f"TWAP {fast:g} s"] = Schedule.twap(size, fast, args.periods,
                                               name=f"TWAP {fast:g} s")
    lo = args.horizon
    hi = tape.duration_s - args.horizon - tape.dt_s
    starts = np.arange(lo, hi, args.every)
    starts = np.round(starts / tape.dt_s) * tape.dt_s
    if starts.size == 0:
        raise ValueError(f"the recording ({tape.duration_s:.0f} s) is too short for a horizon "
                         f"of {args.horizon} s after a first window of {args.horizon} s")
    product = "spot"
    try:
        fee_bps = get_fee_schedule(args.venue, product).tier(args.fee_tier).taker_bps
    except ValueError:
        fee_bps = 0.0
    cmp = replay_many(tape, scheds, starts, impact, side=args.side, fee_bps=fee_bps,
                      models=models)
    tab = cmp.table()
    if args.json:
        emit_json({"source": tape.source, "notional": args.notional, "size": size,
                   "horizon": args.horizon, "periods": args.periods, "side": args.side,
                   "fee_bps": fee_bps, "refill": args.refill, "impact": impact.to_dict(),
                   "starts": starts.tolist(),
                   "fits": {k: v.to_dict() for k, v in models.fits.items()},
                   "permanent_share": models.permanent_share, "sigma": models.sigma,
                   "table": tab.reset_index().to_dict(orient="records")})
        return 0
    print(models.summary())
    print(f"  replay: {args.refill} refill, {impact.to_dict()}")
    print()
    print(f"{args.side} {args.notional:,.0f} {tape.symbol} (= {size:.4g} units at "
          f"{mid:,.2f}) over {args.horizon:g} s in {args.periods} periods; "
          f"{starts.size} start times from {starts[0]:g} s every {args.every:g} s; "
          f"taker fee {fee_bps:g} bps")
    print(format_table(tab))
    return 0


def format_table(tab: Any) -> str:
    """The replay table, bps of the arrival notional, ex fees unless said."""
    cols = [("children", "kids", "{:>4d}"), ("starts", "runs", "{:>4d}"),
            ("mean", "mean", "{:>6.2f}"), ("se", "se", "{:>5.2f}"), ("sd", "sd", "{:>5.2f}"),
            ("p05", "p05", "{:>6.2f}"), ("p50", "p50", "{:>6.2f}"), ("p95", "p95", "{:>6.2f}"),
            ("spread", "sprd", "{:>5.2f}"), ("temporary", "temp", "{:>5.2f}"),
            ("permanent", "perm", "{:>5.2f}"), ("timing", "timing", "{:>6.2f}"),
            ("impact", "impact", "{:>6.2f}"), ("impact_untouched", "untch", "{:>5.2f}"),
            ("with_fees", "+fees", "{:>6.2f}"), ("AC", "E_AC", "{:>5.2f}"),
            ("OW", "E_OW", "{:>5.2f}"), ("propagator", "E_prop", "{:>6.2f}"),
            ("nonlinear", "E_nl", "{:>5.2f}"), ("sqrtV", "sqrtV", "{:>5.2f}")]
    w = max(len(str(i)) for i in tab.index)
    head = f"{'schedule':<{w}} " + " ".join(
        f"{h:>{len(fmt.format(0 if 'd' in fmt else 0.0))}}" for _, h, fmt in cols)
    lines = ["realised shortfall (bps of arrival notional, ex fees; impact = spread + "
             "temporary + permanent; untch = the same with the books untouched) and each "
             "model's expected cost E and sqrt(V):", head]
    for name, row in tab.iterrows():
        cells = []
        for c, _, fmt in cols:
            v = row[c]
            if "d" in fmt:
                cells.append(fmt.format(int(v)))
            else:
                cells.append(fmt.format(float(v)) if math.isfinite(float(v)) else "   n/a")
        lines.append(f"{name!s:<{w}} " + " ".join(cells))
    return "\n".join(lines)
