"""``tradesim bench fit``: ``tradesim fit`` serially and on a local Dask cluster, side by side.

The packaged Binance BTCUSDT recording (11 minutes; ``--copies`` times in a row for a longer
history) is cut into ``--files`` files by time, each starting with a REST depth snapshot of the
book at its first instant, as a recorder that rotates its files writes them
(:func:`split_recording`; every file is then a segment of its own, see
:mod:`tradesim_nb.fitting`). The same fit runs once serially and once on a
``dask.distributed`` local cluster of ``--workers`` processes (started and stopped inside the
timed run, as ``tradesim fit --workers`` does); the two model files are compared field by field
(timings aside). Reported: wall time of each run and of its build phase (replay + labels), the
speed-up, whether the results are identical, and the machine's load average at the start
(the runs share the machine with whatever else runs).
"""

from __future__ import annotations

import argparse
import gzip
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DESCRIPTION = ("tradesim fit on the Binance recording cut into N files: serial vs a local Dask "
               "cluster")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--files", type=int, default=4, help="files to cut the recording into")
    p.add_argument("--copies", type=int, default=1,
                   help="the recording played this many times in a row (a longer history: "
                        "copies x files files)")
    p.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    p.add_argument("--repeats", type=int, default=1, help="runs of each (median)")


def split_recording(paths: Sequence[str | Path], out_dir: str | Path, pieces: int, *,
                    venue: str = "binance", symbol: str = "BTCUSDT",
                    copies: int = 1) -> list[Path]:
    """Cut a Binance recording into ``pieces`` files of equal time span, each self-contained.

    Every file after the first starts with the REST depth snapshot of the book as it stood
    just before its first frame (``lastUpdateId`` = the last applied update id, the exact
    price and size strings), so the Binance sync rule bridges it to the diffs that follow, as
    after a reconnect. Files are ``<recv_ns> <frame>`` lines, gzip.

    ``copies`` > 1 writes the recording that many times one after the other (receive times
    shifted by its span plus a second; each copy starts as the recording does, with its own
    REST snapshot): a longer history of real frames, for timing.
    """
    from ..recording import read_frames
    from ..venues import get_venue

    for name, v in (("pieces", pieces), ("copies", copies)):
        if not (isinstance(v, int) and v >= 1):
            raise ValueError(f"{name}={v!r} must be an integer >= 1")
    desc = get_venue(venue)
    proto = desc.new_protocol()
    frames = list(read_frames(*[Path(p) for p in paths]))
    if not frames:
        raise ValueError("the recording holds no frames")
    t0, t1 = frames[0][0], frames[-1][0]
    cuts = [t0 + (t1 - t0) * k // pieces for k in range(1, pieces)]
    bounds = [0, *(next(i for i, (t, _) in enumerate(frames) if t >= c) for c in cuts),
              len(frames)]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for c in range(copies):
        shift = c * (t1 - t0 + 1_000_000_000)
        feed = desc.new_feed()  # each copy syncs as the recording does
        for k in range(pieces):
            tag = f"-copy{c:02d}" if copies > 1 else ""
            path = out / f"{symbol.lower()}{tag}-part{k:02d}.gz"
            files.append(path)
            with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as fh:
                book = feed.books.get(symbol)
                if k > 0 and book is not None and book.valid:
                    snap = proto.rest_frame(symbol, {
                        "lastUpdateId": book.seq,
                        "bids": [list(x) for x in book.level_strings("bid", book.n_bids)],
                        "asks": [list(x) for x in book.level_strings("ask", book.n_asks)]})
                    fh.write(f"{frames[bounds[k]][0] + shift} {snap}\n")
                for recv_ns, frame in frames[bounds[k]:bounds[k + 1]]:
                    fh.write(f"{recv_ns + shift} {frame}\n")
                    feed.on_frame(frame, recv_ns)
    return files


def _spin(n: int) -> float:
    """A pure-Python busy loop; its wall time."""
    t = time.perf_counter()
    x = 0
    for i in range(n):
        x += i
    return time.perf_counter() - t


def available_parallelism(workers: int, n: int = 5_000_000) -> float:
    """How many cores ``workers`` busy processes get together right now, measured: the same
    busy loop alone and in ``workers`` processes at once (``workers`` on an idle machine,
    less when other work shares it)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        pool.map(_spin, [1000] * workers)  # the processes are up
        alone = pool.apply(_spin, (n,))
        together = max(pool.map(_spin, [n] * workers))
    return workers * alone / together


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (the Dask workers)."""
    import resource

    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _strip(d: Any) -> Any:
    """A model file's dict without what depends on the run (timings, dates)."""
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items()
                if k not in ("fit_s", "timing_s", "created_ns", "workers")}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def same_result(a: Any, b: Any) -> bool:
    """Whether two model files hold the same models, fits and reports (timings aside)."""
    return bool(_strip(a.to_dict()) == _strip(b.to_dict()))


def run(args: argparse.Namespace) -> dict[str, Any]:
    import statistics

    from ..datasets import binance_spot_files
    from ..fitting import fit_files

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    share = available_parallelism(args.workers)
    with tempfile.TemporaryDirectory(prefix="tradesim-bench-fit-") as tmp:
        files = split_recording(binance_spot_files(), tmp, args.files, copies=args.copies)
        rows: dict[str, list[tuple[float, float]]] = {"serial": [], "dask": []}
        cpu: dict[str, list[float]] = {"serial": [], "dask": []}
        results: dict[str, Any] = {}
        for _ in range(args.repeats):
            for name, kw in (("serial", {}), ("dask", {"workers": args.workers})):
                t = time.perf_counter()
                c0 = _cpu_s()
                m = fit_files(files, "binance", "BTCUSDT", **kw)  # type: ignore[arg-type]
                wall = time.perf_counter() - t
                cpu[name].append(_cpu_s() - c0)
                rows[name].append((wall, float(m.holdout["timing_s"]["build"])))
                results[name] = m
    med = {n: (statistics.median(w for w, _ in r), statistics.median(b for _, b in r))
           for n, r in rows.items()}
    return {"files": args.files * args.copies, "copies": args.copies, "workers": args.workers,
            "repeats": args.repeats,
            "cpus": os.cpu_count(), "load_avg_1_5_15": list(load),
            "serial_s": med["serial"][0], "dask_s": med["dask"][0],
            "serial_build_s": med["serial"][1], "dask_build_s": med["dask"][1],
            "speedup": med["serial"][0] / med["dask"][0],
            "build_speedup": med["serial"][1] / med["dask"][1],
            "identical": same_result(results["serial"], results["dask"]),
            "serial_cpu_s": statistics.median(cpu["serial"]),
            "dask_cpu_s": statistics.median(cpu["dask"]),
            "available_parallelism": share,
            "n_decisions": results["serial"].holdout["n_decisions"]}


def format_table(r: dict[str, Any]) -> str:
    la = ", ".join(f"{x:.2f}" for x in r["load_avg_1_5_15"])
    return "\n".join([
        f"tradesim fit, Binance BTCUSDT recording x{r['copies']} in {r['files']} files "
        f"({r['n_decisions']} decisions); {r['cpus']} CPUs, load average {la} at the start",
        f"{'run':<22}{'total s':>10}{'build s':>10}",
        f"{'serial':<22}{r['serial_s']:>10.2f}{r['serial_build_s']:>10.2f}",
        f"{'dask, ' + str(r['workers']) + ' workers':<22}{r['dask_s']:>10.2f}"
        f"{r['dask_build_s']:>10.2f}",
        f"speed-up {r['speedup']:.2f}x overall (cluster start included), "
        f"{r['build_speedup']:.2f}x on the build; identical results: {r['identical']}",
        f"CPU seconds (all processes): serial {r['serial_cpu_s']:.1f}, dask "
        f"{r['dask_cpu_s']:.1f}; {r['workers']} busy processes got "
        f"{r['available_parallelism']:.2f} cores together when measured",
    ])
