"""``tradesim bench NAME [--json]``: side-by-side timings (see tradesim_nb.bench)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from typing import Any

from ..bench import BENCHMARKS
from . import emit_json


def _available() -> list[str]:
    return [b for b in BENCHMARKS
            if importlib.util.find_spec(f"tradesim_nb.bench.{b}") is not None]


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="benchmarks against peers, side by side")
    bsub = p.add_subparsers(dest="bench", required=True)
    for name in _available():
        mod = importlib.import_module(f"tradesim_nb.bench.{name}")
        bp = bsub.add_parser(name, help=mod.DESCRIPTION, description=mod.DESCRIPTION)
        bp.add_argument("--json", action="store_true", help="print one JSON object")
        mod.add_arguments(bp)
        bp.set_defaults(func=_runner(name))
    ap = bsub.add_parser("all", help="every benchmark with its default settings")
    ap.add_argument("--json", action="store_true")
    ap.set_defaults(func=_run_all)


def _runner(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        mod = importlib.import_module(f"tradesim_nb.bench.{name}")
        res = mod.run(args)
        if args.json:
            emit_json(res)
        else:
            print(mod.format_table(res))
        return 0

    return run


def _run_all(args: argparse.Namespace) -> int:
    out: dict[str, Any] = {}
    for name in _available():
        mod = importlib.import_module(f"tradesim_nb.bench.{name}")
        bp = argparse.ArgumentParser()
        mod.add_arguments(bp)
        res = mod.run(bp.parse_args([]))
        out[name] = res
        if not args.json:
            print(f"== {name}: {mod.DESCRIPTION}")
            print(mod.format_table(res))
            print()
    if args.json:
        emit_json(out)
    return 0
