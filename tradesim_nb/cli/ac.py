"""``tradesim ac``: Almgren-Chriss optimal schedule, expected cost and variance.

Example (the paper's worked example at lambda = 1e-6)::

    tradesim ac --size 1e6 --horizon 5 --periods 5 --sigma 0.95 --epsilon 0.0625 \\
        --eta 2.5e-6 --gamma 2.5e-7 --risk-aversion 1e-6 [--json]
"""

from __future__ import annotations

import argparse
import math
import re
from typing import Any

from . import emit_json

#: the human table lists every period up to this many, else the first and last few
_MAX_ROWS = 40


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ac", help="Almgren-Chriss optimal schedule, expected cost and variance",
        description="Discrete-time Almgren-Chriss (2000) optimal execution: holdings "
                    "x_j = X sinh(kappa(T-t_j))/sinh(kappa T), E and V (eq. 20).")
    p.add_argument("--size", type=float, required=True, help="X, units to liquidate (> 0)")
    p.add_argument("--horizon", type=float, required=True, help="T, in sigma's time unit")
    p.add_argument("--periods", type=int, required=True, help="N, number of periods (>= 1)")
    p.add_argument("--sigma", type=float, required=True,
                   help="price volatility per sqrt(time unit)")
    p.add_argument("--epsilon", type=float, default=0.0,
                   help="fixed cost per unit: half spread + fees (default 0)")
    p.add_argument("--eta", type=float, required=True, help="temporary impact coefficient")
    p.add_argument("--gamma", type=float, default=0.0, help="permanent impact coefficient")
    p.add_argument("--risk-aversion", type=float, default=0.0, dest="risk_aversion",
                   help="lambda (default 0: linear/TWAP schedule; may be negative)")
    p.add_argument("--confidence", type=float, default=0.95,
                   help="level p for the L-VaR figure E + Phi^-1(p) sqrt(V) (default 0.95)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
    # let "--risk-aversion -2e-7" through: argparse's own pattern misses exponents
    # ("--risk-aversion=-2e-7" works in any case)
    if hasattr(p, "_negative_number_matcher"):
        p._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$", re.I)


def run(args: argparse.Namespace) -> int:
    from ..costs.almgren_chriss import ACParams, optimal_execution

    params = ACParams(size=args.size, horizon=args.horizon, periods=args.periods,
                      sigma=args.sigma, epsilon=args.epsilon, eta=args.eta, gamma=args.gamma,
                      risk_aversion=args.risk_aversion)
    sol = optimal_execution(params)
    lvar = sol.cost_at_confidence(args.confidence)
    if args.json:
        out: dict[str, Any] = {
            "params": {"size": params.size, "horizon": params.horizon,
                       "periods": params.periods, "sigma": params.sigma,
                       "epsilon": params.epsilon, "eta": params.eta, "gamma": params.gamma,
                       "risk_aversion": params.risk_aversion},
            **sol.to_dict(),
            "confidence": args.confidence, "cost_at_confidence": lvar,
        }
        emit_json(out)
        return 0
    print(format_table(sol, args.confidence, lvar))
    return 0


def format_table(sol: Any, confidence: float, lvar: float) -> str:
    """A short human-readable summary and the schedule."""
    p = sol.params
    hl = "inf" if math.isinf(sol.half_life) else f"{sol.half_life:.6g}"
    lines = [
        f"Almgren-Chriss  X={p.size:.6g}  T={p.horizon:.6g}  N={p.periods}  "
        f"lambda={p.risk_aversion:.6g}",
        f"  tau           {sol.tau:.6g}",
        f"  eta_tilde     {sol.eta_tilde:.6g}",
        f"  kappa         {sol.kappa:.6g}   ({sol.regime}; half-life {hl})",
        f"  E[cost]       {sol.expected_cost:,.2f}",
        f"  std[cost]     {sol.std:,.2f}   (variance {sol.variance:.6g})",
        f"  E + z*std     {lvar:,.2f}   (confidence {confidence:g})",
        "",
        f"  {'j':>5} {'t_j':>12} {'holdings x_j':>18} {'trade n_j':>18}",
    ]
    n = p.periods
    rows = range(n + 1) if n + 1 <= _MAX_ROWS else [*range(10), -1, *range(n - 9, n + 1)]
    for j in rows:
        if j == -1:
            lines.append(f"  {'...':>5}")
            continue
        trade = "" if j == 0 else f"{sol.trade_list[j - 1]:18,.2f}"
        lines.append(f"  {j:>5} {sol.times[j]:12.6g} {sol.holdings[j]:18,.2f} {trade:>18}")
    return "\n".join(lines)
