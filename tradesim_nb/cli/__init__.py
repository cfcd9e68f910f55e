"""The ``tradesim`` command. Each subcommand lives in its own module of this package and
exposes ``register(subparsers)``; heavy imports happen inside the command's handler."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["emit_json", "main"]

#: subcommand modules, in the order ``tradesim --help`` lists them
COMMANDS = ("replay", "venue", "watch", "record", "ac", "schedule", "execute", "cost", "calibrate", "fit",
            "bench")


def emit_json(obj: Any) -> None:
    """Print one JSON object (NaN/inf become null) to stdout."""
    from ..models import json_ready

    print(json.dumps(json_ready(obj), indent=None, separators=(",", ":")))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tradesim", description=__doc__)
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        modname = f"{__name__}.{name}"
        if importlib.util.find_spec(modname) is None:
            continue
        importlib.import_module(modname).register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)  # a model file's warnings as one log line, not a traceback
    try:
        rc = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (``tradesim ... | head``): a quiet exit, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (ValueError, KeyError, FileNotFoundError) as e:
        print(f"tradesim {args.command}: error: {e}", file=sys.stderr)
        return 2
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
