"""``tradesim schedule``: every model's optimal schedule for typed parameters, side by side.

For one order (X, T, N) and one set of impact parameters it prints TWAP and the Almgren-Chriss,
Obizhaeva-Wang, power-law propagator and nonlinear Almgren-Chriss optima, and each one's
expected cost under every model with sqrt(V); then the price-manipulation check of the kernel.
Example (a Binance-like BTC order, seconds and BTC)::

    tradesim schedule --size 16.2 --horizon 60 --periods 12 --depth 0.6 --resilience 0.9 \\
        --permanent-share 0.43 --sigma 7.6 --kernel-exponent 0.18 --tau0 0.5 \\
        --impact-exponent 0.96 --risk-aversion 5e-5
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from . import emit_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "schedule", help="AC, Obizhaeva-Wang, propagator and nonlinear-AC optima side by side",
        description="Optimal schedules of the transient and nonlinear impact models for typed "
                    "parameters, their expected costs under every model, and the "
                    "price-manipulation check of the kernel.")
    p.add_argument("--size", type=float, required=True, help="X, units to trade")
    p.add_argument("--horizon", type=float, required=True, help="T (time unit of sigma)")
    p.add_argument("--periods", type=int, required=True, help="N")
    p.add_argument("--depth", type=float, required=True, help="q, units per unit of price")
    p.add_argument("--resilience", type=float, required=True, help="rho, per time unit")
    p.add_argument("--permanent-share", type=float, default=0.0, dest="permanent_share",
                   help="share of a unit's impact 1/q that is permanent, in [0, 1)")
    p.add_argument("--sigma", type=float, default=0.0, help="volatility per sqrt(time)")
    p.add_argument("--epsilon", type=float, default=0.0, help="half spread per unit")
    p.add_argument("--kernel-exponent", type=float, default=0.3, dest="kernel_exponent",
                   help="beta of the propagator (1 + t/tau0)^-beta (default 0.3)")
    p.add_argument("--tau0", type=float, default=0.5, help="tau0 of the propagator (default 0.5)")
    p.add_argument("--impact-exponent", type=float, default=1.0, dest="impact_exponent",
                   help="Almgren 2003's exponent of the temporary impact (default 1)")
    p.add_argument("--risk-aversion", type=float, default=0.0, dest="risk_aversion",
                   help="lambda (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..execution import ExecutionModels
    from ..impact.transient import manipulation_check, trade_grid

    m = ExecutionModels.from_params(
        size=args.size, horizon=args.horizon, periods=args.periods, depth=args.depth,
        resilience=args.resilience, permanent_share=args.permanent_share, sigma=args.sigma,
        epsilon=args.epsilon, kernel_exponent=args.kernel_exponent, tau0=args.tau0,
        impact_exponent=args.impact_exponent, risk_aversion=args.risk_aversion)
    scheds = m.optimal_schedules()
    exp = {nm: m.expected(s) for nm, s in scheds.items()}
    check = manipulation_check(m.propagator.kernel, trade_grid(args.horizon, args.periods))
    if args.json:
        emit_json({"schedules": {nm: s.to_dict() for nm, s in scheds.items()},
                   "expected": exp, "manipulation_check": check.to_dict()})
        return 0
    print(m.summary())
    print()
    names = list(scheds)
    print(f"{'schedule':<22}" + "".join(f"{k:>14}" for k in ("E AC", "E OW", "E propagator",
                                                               "E nonlinear", "sqrt V")))
    for nm in names:
        e = exp[nm]
        print(f"{nm:<22}" + "".join(f"{e[k]:>14,.4g}" for k in ("AC", "OW", "propagator",
                                                                 "nonlinear", "sqrtV")))
    print()
    print("children (time: size)")
    for nm in names:
        s = scheds[nm]
        kids = ", ".join(f"{t:g}: {n:.4g}" for t, n in zip(s.times, s.sizes))
        print(f"  {nm:<22}{kids}")
    print()
    print(f"kernel {m.propagator.kernel.label}: {check.message}")
    return 0 if math.isfinite(exp["TWAP"]["OW"]) else 1
