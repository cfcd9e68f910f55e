"""``tradesim calibrate``: fit impact parameters (eta, gamma with 95 % intervals).

Three modes::

    tradesim calibrate FILE... [--venue binance] [--symbol BTCUSDT] [--json]
        public market data of a recording: walk curve + refill (eta), Kyle's lambda (gamma),
        square-root law (Y, exponent); eta in quote*s/base, gamma in quote/base
    tradesim calibrate --orders ORDERS.csv [--beta 0.6] [--fit-exponents] [--json]
        Almgren-Thum-Hauptmann-Li (2005) on parent-order records (dimensionless eta, gamma)
    tradesim calibrate --synthetic --eta 2.5e-6 --gamma 2.5e-7 --seed 0 [--orders 2000] [--json]
        TWAP executions on the synthetic market with those true values, then the fit

``--json`` prints ``{"method", "eta": {"estimate","ci_low","ci_high",...}, "gamma": {...}, ...}``.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from . import emit_json

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "calibrate", help="fit impact parameters eta, gamma (95%% intervals)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*", help="recording file(s) that continue each other")
    p.add_argument("--venue", default="binance", help="venue parser for FILE (default binance)")
    p.add_argument("--symbol", default="BTCUSDT", help="instrument in FILE (default BTCUSDT)")
    p.add_argument("--dt-s", type=float, default=1.0, dest="dt_s",
                   help="sampling step of the recording, seconds (default 1)")
    p.add_argument("--interval-steps", type=int, default=1, dest="interval_steps",
                   help="samples per Kyle-lambda interval (default 1)")
    p.add_argument("--bootstrap", type=int, default=None,
                   help="bootstrap resamples (default: 200 for recordings, 0 = sandwich "
                        "intervals for orders)")
    p.add_argument("--orders", default=None,
                   help="a parent-order CSV; with --synthetic the number of orders (default 2000)")
    p.add_argument("--beta", type=float, default=0.6, help="ATHL temporary exponent (default 0.6)")
    p.add_argument("--alpha", type=float, default=1.0, help="ATHL permanent exponent (default 1)")
    p.add_argument("--fit-exponents", action="store_true", dest="fit_exponents",
                   help="fit alpha and beta too")
    p.add_argument("--weighting", default="gls", choices=("gls", "athl", "none"),
                   help="residual weighting of the ATHL fit (default gls)")
    p.add_argument("--synthetic", action="store_true",
                   help="simulate executions on the synthetic market and fit them")
    p.add_argument("--eta", type=float, default=2.5e-6, help="true eta of --synthetic")
    p.add_argument("--gamma", type=float, default=2.5e-7, help="true gamma of --synthetic")
    p.add_argument("--seed", type=int, default=0, help="seed (simulation and bootstrap)")
    p.add_argument("--progress", action="store_true", help="progress bars on stderr")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..impact import (
        calibrate_synthetic,
        fit_athl,
        fit_market_data,
        market_series_from_recording,
    )

    modes = sum([bool(args.files), args.synthetic, args.orders is not None and not args.synthetic])
    if modes != 1:
        raise ValueError("give exactly one of: recording FILE(s), --orders ORDERS.csv, "
                         "or --synthetic")
    extra: dict[str, Any] = {}
    if args.synthetic:
        n = 2000
        if args.orders is not None:
            try:
                n = int(args.orders)
            except ValueError:
                raise ValueError(f"--orders={args.orders!r} must be an integer with "
                                 "--synthetic") from None
        fit, _params = calibrate_synthetic(args.eta, args.gamma, args.seed, n_orders=n)
        extra = {"true": {"eta": args.eta, "gamma": args.gamma},
                 "covered": {"eta": fit.eta.covers(args.eta),
                             "gamma": fit.gamma.covers(args.gamma)}}
    elif args.orders is not None:
        fit = fit_athl(args.orders, alpha=args.alpha, beta=args.beta,
                       fit_alpha=args.fit_exponents, fit_beta=args.fit_exponents,
                       weighting=args.weighting, bootstrap=args.bootstrap or 0,
                       seed=args.seed, progress=args.progress)
    else:
        ms = market_series_from_recording(args.files, args.venue, args.symbol, dt_s=args.dt_s,
                                          progress=args.progress)
        fit = fit_market_data(ms, interval_steps=args.interval_steps,
                              bootstrap=200 if args.bootstrap is None else args.bootstrap,
                              seed=args.seed, progress=args.progress)
    if args.json:
        emit_json({**fit.to_dict(), **extra})
    else:
        print(fit.summary())
        for k, v in extra.items():
            print(f"{k}: {v}")
    return 0
