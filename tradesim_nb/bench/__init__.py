"""Benchmarks run by ``tradesim bench NAME``: this project beside its peers, in one run.

Each module here exposes ``DESCRIPTION``, ``add_arguments(parser)``, ``run(args) -> dict``
(JSON-able, medians and ratios) and ``format_table(result) -> str``.
"""

BENCHMARKS = ("book", "client", "pipeline", "replay", "calibrate", "fit")
