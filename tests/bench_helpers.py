"""Helpers shared by the benchmark tests."""
from __future__ import annotations

import argparse
from typing import Any


def bench_args(bench: Any, **kw: object) -> argparse.Namespace:
    """The options of benchmark module ``bench`` at their defaults, with ``kw`` set."""
    p = argparse.ArgumentParser()
    bench.add_arguments(p)
    ns = p.parse_args([])
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns
