"""Rows per second of the Tardis reader on the Binance recording converted to Tardis CSV.

The packaged Binance BTCUSDT recording is replayed natively and written as an
``incremental_book_L2`` file (the converter of ``tests/formats_helpers.py``), repeated
``--repeat`` times to make it longer. Three figures, each the median of ``--runs`` runs:

* ``chunks``: :meth:`TardisReader.iter_chunks` (read, decompress, parse, validate, group rows
  into updates; the columnar API a vectorised book path would use);
* ``events``: iterating the reader (BookSnapshot/BookDelta objects built);
* ``replay``: the reader driving ``get_feed("binance")`` (every update applied to the book).

Run from the repository root::

    .venv/bin/python benchmarks/tardis_reader.py --repeat 10 --gzip --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from formats_helpers import write_tardis_l2

from tradesim_nb import formats, get_feed
from tradesim_nb.formats.tardis import TardisReader


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10, help="copies of the replay in the file")
    ap.add_argument("--runs", type=int, default=3, help="runs of each measure (median)")
    ap.add_argument("--gzip", action="store_true", help="write .csv.gz (as Tardis serves)")
    ap.add_argument("--chunk-rows", type=int, default=1 << 16)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / ("l2.csv.gz" if a.gzip else "l2.csv")
        rows = write_tardis_l2(p, repeat=a.repeat)
        size = p.stat().st_size

        def chunks() -> int:
            return sum(len(c) for c in TardisReader(p, chunk_rows=a.chunk_rows).iter_chunks())

        def events() -> int:
            return sum(len(item) for _, item in TardisReader(p, chunk_rows=a.chunk_rows))

        def replay() -> int:
            reader = formats.open_source(p, chunk_rows=a.chunk_rows)
            feed = get_feed("binance")
            formats.consume(reader, feed)
            st = feed.summary()["instruments"]["BTCUSDT"]
            assert st["gaps"] == 0 and st["book_valid"], st
            return st["snapshots"] + st["deltas"]

        out: dict[str, object] = {"rows": rows, "file_bytes": size, "gzip": a.gzip,
                                  "repeat": a.repeat, "chunk_rows": a.chunk_rows}
        for name, fn in (("chunks", chunks), ("events", events), ("replay", replay)):
            times = []
            for _ in range(a.runs):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            med = statistics.median(times)
            out[f"{name}_rows_per_s"] = round(rows / med)
            out[f"{name}_s"] = round(med, 3)
    if a.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>22}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
