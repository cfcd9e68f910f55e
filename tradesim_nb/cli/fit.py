"""``tradesim fit``: fit the cost models on your data and write one model file.

``tradesim fit FILE [FILE ...] --venue V --symbol S [--format F] [--out MODEL.json] [--json]
[--workers N | --scheduler ADDRESS]`` replays the files (any format ``tradesim replay`` reads; ``--format``, default detected from
the content), builds the labelled decisions (slippage of a market order after the latency,
passive-fill share of a limit order at the touch), fits the slippage mean and quantile models
and the maker/taker model on a time-ordered split with a purge gap, fits eta and gamma with
95 % intervals from the same data, and writes one model file (JSON; see
:mod:`tradesim_nb.models`): the models, the impact fit, the instrument, the files (names,
sizes, SHA-256, time span) and the hold-out report. Without ``--out`` it goes to the model
cache folder, where the dashboard's model selector finds it.

``--workers N`` builds the files' decisions and runs the fits on a local Dask cluster of N
processes; ``--scheduler ADDRESS`` on an existing one (the workers read the files: they must
see the same paths). The model file is the same as the serial run's.

``--json`` prints one object: ``out``, ``files``, ``n_decisions``, ``slippage`` (``r2``,
``r2_walk_only``, ``coverage``), ``maker_taker`` (``auc``, ``log_loss``, ``log_loss_base``),
``impact`` (``eta``, ``gamma``: ``estimate``, ``ci_low``, ``ci_high``, ...), ``instrument``,
``time_span``, ``segments``, ``workers`` and ``timing_s``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..venues import VENUES
from . import emit_json

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("fit", help="fit slippage, maker/taker and impact models on your files",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", help="data files, in time order")
    p.add_argument("--venue", required=True, choices=tuple(VENUES),
                   help="the venue the data come from")
    p.add_argument("--symbol", required=True, help="the instrument id (e.g. BTCUSDT)")
    p.add_argument("--format", default="auto",
                   help="format of the files (default auto: detected from the content)")
    p.add_argument("--out", default=None, metavar="MODEL.json",
                   help="where to write the model file (default: the model cache folder)")
    par = p.add_mutually_exclusive_group()
    par.add_argument("--workers", type=int, default=None, metavar="N",
                     help="run on a local Dask cluster of N worker processes")
    par.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run on the Dask scheduler at ADDRESS (tcp://host:port)")
    p.add_argument("--latency-ms", type=float, default=None, dest="latency_ms",
                   help="latency of the market orders' labels (default 100)")
    p.add_argument("--horizon-s", type=float, default=None, dest="horizon_s",
                   help="how long a passive order rests (default 10)")
    p.add_argument("--bootstrap", type=int, default=200,
                   help="bootstrap resamples of the impact fit (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (and no progress bars)")
    p.set_defaults(func=_run)


def _settings(args: argparse.Namespace) -> Any:
    import dataclasses

    from ..fitting import FitSettings
    from ..training import DatasetConfig

    ds = DatasetConfig()
    if args.latency_ms is not None:
        ds = dataclasses.replace(ds, latency_ms=args.latency_ms)
    if args.horizon_s is not None:
        ds = dataclasses.replace(ds, horizon_s=args.horizon_s)
    return FitSettings(dataset=ds, bootstrap=args.bootstrap, seed=args.seed)


def report(model: Any, out: Path) -> dict[str, Any]:
    """The ``--json`` object of a fitted model file written to ``out``."""
    h = dict(model.holdout)
    return {"out": str(out), "instrument": model.fitted_on(),
            "files": [dict(f) for f in model.files],
            "time_span": {"first_ns": model.time_span[0], "last_ns": model.time_span[1],
                          "seconds": (model.time_span[1] - model.time_span[0]) / 1e9},
            "n_decisions": h.get("n_decisions"), "slippage": h.get("slippage"),
            "maker_taker": h.get("maker_taker"),
            "impact": None if h.get("impact") is None else {
                **h["impact"], "usable": model.impact_problem() is None,
                "problem": model.impact_problem()},
            "segments": h.get("segments"), "warnings": h.get("warnings", []),
            "workers": h.get("workers"), "timing_s": h.get("timing_s")}


def _run(args: argparse.Namespace) -> int:
    from ..fitting import default_out_path, fit_files
    from ..models import save_models

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers={args.workers!r} must be >= 1")
    model = fit_files(args.files, args.venue, args.symbol, format=args.format,
                      settings=_settings(args), workers=args.workers,
                      scheduler=args.scheduler, progress=not args.json)
    out = Path(args.out) if args.out else default_out_path(model)
    save_models(model, out)
    rep = report(model, out)
    if args.json:
        emit_json(rep)
    else:
        print(model.summary().replace("model file (in memory)", f"model file {out}"))
        for w in rep["warnings"]:
            print(f"  warning: {w}")
        t = rep["timing_s"] or {}
        print(f"  {len(model.files)} file(s) in {len(rep['segments'] or [])} segment(s), "
              f"{rep['workers']} worker(s), {t.get('total', float('nan')):.1f} s")
    return 0
