"""Fit the cost models on the user's own files and write one model file (``tradesim fit``).

:func:`fit_files` reads any format :func:`tradesim_nb.formats.open_source` reads, replays it
through the venue's feed once, and from that single pass builds

* the labelled decisions of :mod:`tradesim_nb.training` (slippage of a market order filled
  after the latency, passive-fill share of a limit order at the touch), and
* the one-second market series of :mod:`tradesim_nb.impact.market_data`;

then fits, on a time-ordered split with a purge gap, the slippage mean and quantile models
(:func:`~tradesim_nb.costs.slippage.fit_slippage_model`) and the maker/taker model
(:func:`~tradesim_nb.costs.maker_taker.fit_maker_taker_model`), and :math:`\\eta`,
:math:`\\gamma` with intervals (:func:`~tradesim_nb.impact.fit.fit_market_data`), and returns
a :class:`~tradesim_nb.models.ModelFile`.

Files, segments and tasks
-------------------------
The files are cut into **units**: a file of a frame format (our ``.jsonl.gz``, the line
layouts), or the files of one day for the formats whose files are read together (Tardis
CSVs, Bybit's archive and trade dumps, grouped by the ``YYYY-MM-DD`` in their names; all of
them when a name has none), or every cryptofeed file. A unit whose own data make the book
valid within its first ``scan_s`` seconds (it holds a snapshot: a Tardis day, a Bybit archive
day, a recording that starts with a subscription) starts a **segment**; a unit that does not
(it continues the previous file's book, like the second day of the packaged Binance
recording) joins the segment before it. Each segment is one task: it replays its units with a
fresh feed, takes decisions in them only, and then replays the following files only as far as
the labels of its last decisions reach (``max(latency, passive horizon)``), so a decision
near the end of a file is labelled exactly as in a replay that runs on. Features and the
decision clock start again in each segment (its first ``warmup_s`` seconds take no
decision). The union of the segments' decisions, in time order, is what the models are
fitted on.

Serial and distributed runs do the same tasks: with a ``dask.distributed`` client (``tradesim
fit --workers N`` starts a local cluster of N processes, ``--scheduler ADDRESS`` uses yours)
the segments are built in parallel, and the three quantile regressions, the maker/taker fit
and the impact fit run as parallel tasks on the union; every task is deterministic (seeded
bootstrap, HiGHS), so the model file is identical to the serial run's, timings (``fit_s``)
aside. The workers read the files themselves: with a remote scheduler they must see the same
paths.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .models import ModelFile, file_info, holdout_report, instrument_dict
from .training import DatasetConfig, RecordingDataset

__all__ = [
    "FitSettings",
    "SegmentResult",
    "SegmentTask",
    "Unit",
    "build_segment",
    "concat_datasets",
    "default_out_path",
    "fit_files",
    "plan_segments",
]

log = logging.getLogger(__name__)

#: formats whose files are each one unit (they continue each other in the order given)
_FRAME_FORMATS = ("jsonl", "lines", "document")
_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class FitSettings:
    """How :func:`fit_files` samples, splits and fits (validated).

    Parameters
    ----------
    dataset : DatasetConfig
        Order sizes, latency, passive horizon, decision clock and warm-up.
    train_frac : float
        Share of decision times (earliest first) that train, in (0, 1); the test set starts
        after a purge gap (latency + 1 s for slippage, the passive horizon for maker/taker).
    quantiles : tuple of float
        Slippage quantiles, increasing in (0, 1).
    max_quantile_rows : int
        Rows of the quantile regressions' evenly spaced subsample (>= 100).
    impact_dt_s : float
        Grid step of the impact fit's market series, seconds (> 0).
    bootstrap : int
        Block-bootstrap resamples of the impact fit (>= 2).
    seed : int
        Seed of the bootstrap.
    min_decisions : int
        Fewer decisions than this is "too little data" (>= 30; default 480: two minutes of
        valid book at one decision every 250 ms).
    min_impact_samples : int
        Fewer one-second samples than this is too little for the impact fit (>= 20).
    scan_s : float
        How far into a unit its own book is looked for, seconds of receive time (> 0).
    """

    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    train_frac: float = 0.7
    quantiles: tuple[float, ...] = (0.5, 0.9, 0.95)
    max_quantile_rows: int = 12_000
    impact_dt_s: float = 1.0
    bootstrap: int = 200
    seed: int = 0
    min_decisions: int = 480
    min_impact_samples: int = 120
    scan_s: float = 60.0

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, DatasetConfig):
            raise ValueError(f"dataset={self.dataset!r} must be a DatasetConfig")
        if not (isinstance(self.train_frac, float | int) and 0.0 < self.train_frac < 1.0):
            raise ValueError(f"train_frac={self.train_frac!r} must be in (0, 1)")
        qs = self.quantiles
        if not qs or list(qs) != sorted(set(qs)) or not all(0 < q < 1 for q in qs):
            raise ValueError(f"quantiles={qs!r} must be increasing, each in (0, 1)")
        for name, lo in (("max_quantile_rows", 100), ("bootstrap", 2), ("min_decisions", 30),
                         ("min_impact_samples", 20)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name}={v!r} must be an integer >= {lo}")
        for name in ("impact_dt_s", "scan_s"):
            v = getattr(self, name)
            if not (isinstance(v, float | int) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}={v!r} must be a finite number > 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed={self.seed!r} must be an integer")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(d.pop("dataset"))
        return d


@dataclass(frozen=True)
class Unit:
    """Files read together into one stream (see the module docstring)."""

    paths: tuple[str, ...]
    format: str


@dataclass(frozen=True)
class SegmentTask:
    """One segment to build: its units, the units that follow it (for the last labels)."""

    index: int
    units: tuple[Unit, ...]
    following: tuple[Unit, ...]
    venue: str
    symbol: str
    settings: FitSettings
    progress: bool = False


@dataclass(frozen=True)
class SegmentResult:
    """What a segment task returns (small enough to travel back from a worker)."""

    index: int
    dataset: RecordingDataset
    series: Any  # MarketSeries or None (too few samples)
    series_t0_ns: int
    files: tuple[dict[str, Any], ...]
    stats: dict[str, Any]


# -- planning ----------------------------------------------------------------------------------
def _units(paths: Sequence[Path], fmt: str) -> list[Unit]:
    from .formats import detect

    fmts = [detect(p).format for p in paths] if fmt == "auto" else [fmt] * len(paths)
    kinds = set(fmts)
    if kinds <= set(_FRAME_FORMATS):
        return [Unit((str(p),), f) for p, f in zip(paths, fmts)]
    if len(kinds) > 1:
        from .formats import FormatError

        raise FormatError("files of formats that are not read together: "
                          + "; ".join(f"{p.name} is {f}" for p, f in zip(paths, fmts))
                          + ". Fit the files of one source at a time.")
    (only,) = kinds
    days = [_DAY.search(p.name) for p in paths]
    if only == "cryptofeed" or not all(days):
        return [Unit(tuple(str(p) for p in paths), only)]
    groups: dict[str, list[str]] = {}
    for p, m in zip(paths, days):
        assert m is not None
        groups.setdefault(m.group(1), []).append(str(p))
    return [Unit(tuple(groups[d]), only) for d in sorted(groups)]


def _open_unit(unit: Unit, venue: str, symbol: str, progress: bool = False) -> Any:
    from .formats import open_source

    return open_source(list(unit.paths), unit.format, venue=venue, symbol=symbol,
                       progress=progress)


def _own_book(unit: Unit, venue: str, symbol: str, scan_s: float) -> bool:
    """Whether ``unit``'s own data make ``symbol``'s book valid within ``scan_s`` seconds."""
    from .formats import iter_events, open_feed

    reader = _open_unit(unit, venue, symbol)
    feed = open_feed(reader, venue)
    first: int | None = None
    limit = int(scan_s * 1e9)
    for recv_ns, _ in iter_events(reader, feed):
        if first is None:
            first = recv_ns
        b = feed.books.get(symbol)
        if b is not None and b.valid:
            return True
        if recv_ns - first > limit:
            return False
    return False


def plan_segments(paths: Sequence[str | Path], venue: str, symbol: str, *,
                  format: str = "auto", scan_s: float = 60.0) -> list[tuple[Unit, ...]]:
    """The segments of ``paths`` (each a tuple of units; see the module docstring)."""
    plist = [Path(p) for p in paths]
    if not plist:
        raise ValueError("paths=[] must name at least one file")
    for p in plist:
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no such file")
    units = _units(plist, format)
    segments: list[list[Unit]] = []
    for i, u in enumerate(units):
        if i == 0 or _own_book(u, venue, symbol, scan_s):
            segments.append([u])
        else:
            log.info("%s continues the book of the file before it: same segment",
                     ", ".join(Path(p).name for p in u.paths))
            segments[-1].append(u)
    return [tuple(s) for s in segments]


# -- one segment --------------------------------------------------------------------------------
def _items(readers: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    for r in readers:
        yield from r


def build_segment(task: SegmentTask) -> SegmentResult:
    """Replay one segment (and what follows it, for the last labels): its labelled decisions,
    its market series and its files' sizes and hashes. Pure: the same task gives the same
    result wherever it runs."""
    from .formats import open_feed
    from .impact.market_data import MarketSampler
    from .training import dataset_from_recording

    st = task.settings
    readers = [_open_unit(u, task.venue, task.symbol, task.progress) for u in task.units]
    feed = open_feed(readers[0], task.venue)
    sampler = MarketSampler(task.symbol, st.impact_dt_s, source=f"{task.venue}:{task.symbol}")
    following = _items(_open_unit(u, task.venue, task.symbol) for u in task.following)
    names = [Path(p).name for u in task.units for p in u.paths]
    ds = dataset_from_recording(_items(readers), feed, task.symbol, st.dataset,
                                source=",".join(names), following=following, sampler=sampler)
    series = sampler.series(min_samples=1) if len(sampler) else None
    files = tuple({**file_info(p), "format": u.format, "segment": task.index}
                  for u in task.units for p in u.paths)
    stats = {"frames": ds.frames, "decisions": ds.n, "trades": int(ds.trades["t_ns"].size),
             "malformed": dict(feed.malformed), "apply_errors": feed.apply_errors,
             "first_ns": int(ds.meta.get("first_ns", 0)),
             "last_ns": int(ds.meta.get("last_ns", 0)),
             "warnings": [w for r in readers for w in r.warnings]}
    return SegmentResult(task.index, ds, series, int(sampler.t0_ns or 0), files, stats)


def concat_datasets(parts: Sequence[RecordingDataset], source: str | None = None
                    ) -> RecordingDataset:
    """The decisions of consecutive segments as one data set, in time order.

    Raises
    ------
    ValueError
        When the parts overlap in time or were built with different settings.
    """
    if not parts:
        raise ValueError("parts=[] must hold at least one data set")
    first = parts[0]
    for prev, p in itertools.pairwise(parts):
        if p.config != first.config or not np.array_equal(p.sizes_usd, first.sizes_usd):
            raise ValueError("data sets to join must share their DatasetConfig")
        if p.t_ns[0] <= prev.t_ns[-1]:
            raise ValueError(f"the data of {p.source} start before those of {prev.source} end "
                             "(files overlap in time): pass files that follow each other")
    if len(parts) == 1:
        return first if source is None else dataclasses.replace(first, source=source)
    cat = np.concatenate
    return RecordingDataset(
        t_ns=cat([p.t_ns for p in parts]), market=cat([p.market for p in parts]),
        sizes_usd=first.sizes_usd, walk_bps=cat([p.walk_bps for p in parts]),
        realised_bps=cat([p.realised_bps for p in parts]),
        passive_frac=cat([p.passive_frac for p in parts]),
        trades={k: cat([p.trades[k] for p in parts]) for k in first.trades},
        config=first.config,
        source=source if source is not None else ",".join(p.source for p in parts),
        frames=sum(p.frames for p in parts),
        meta={"first_ns": parts[0].meta.get("first_ns", 0),
              "last_ns": parts[-1].meta.get("last_ns", 0), "segments": len(parts)})


# -- running tasks: here or on Dask ------------------------------------------------------------
class _Serial:
    """Runs tasks here, in order (the reference of a Dask run)."""

    workers = 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], progress: bool = False,
            desc: str = "") -> list[Any]:
        from .impact._progress import progress as bar

        return [fn(x) for x in bar(items, progress and len(items) > 1, desc)]

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return _Done(fn(*args))


class _Done:
    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


class _Dask:
    """Runs tasks on a ``dask.distributed`` client; results in task order."""

    def __init__(self, client: Any) -> None:
        self.client = client
        try:
            self.workers = len(client.scheduler_info().get("workers", {})) or 1
        except Exception:  # a client that cannot say
            self.workers = 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], progress: bool = False,
            desc: str = "") -> list[Any]:
        from dask.distributed import as_completed

        from .impact._progress import progress as bar

        futs = self.client.map(fn, list(items), pure=False)
        for _ in bar(as_completed(futs), progress and len(futs) > 1, desc, total=len(futs)):
            pass
        return [f.result() for f in futs]

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)


def _maker_fit(ds: RecordingDataset, train_frac: float) -> Any:
    from .costs.maker_taker import fit_maker_taker_model

    return fit_maker_taker_model(ds, train_frac=train_frac)


def _impact_fit(series: Any, bootstrap: int, seed: int) -> Any:
    from .impact.fit import fit_market_data

    return fit_market_data(series, bootstrap=bootstrap, seed=seed)


# -- the whole fit ------------------------------------------------------------------------------
def _too_little(what: str, have: str, need: str) -> ValueError:
    return ValueError(f"too little data for a fit: {what}: {have}; {need}")


def fit_files(paths: Sequence[str | Path], venue: str | None = None, symbol: str | None = None,
              *, format: str = "auto", settings: FitSettings | None = None, client: Any = None,
              workers: int | None = None, scheduler: str | None = None,
              progress: bool = False) -> ModelFile:
    """Fit the slippage, maker/taker and impact models on ``paths`` and return the model file.

    Parameters
    ----------
    paths : sequence of path
        The files, in time order (any format :func:`tradesim_nb.formats.open_source` reads).
    venue, symbol : str, optional
        The venue key and instrument id; default what the files say (an error when they do
        not name exactly one).
    format : str
        ``"auto"`` (detected from each file's content) or a format key.
    settings : FitSettings, optional
    client : dask.distributed.Client, optional
        Run the tasks on this client.
    workers : int, optional
        Start a local cluster of this many worker processes (one thread each) for the run.
    scheduler : str, optional
        Connect to the scheduler at this address for the run.
    progress : bool
        tqdm bars (file bytes read, segments, fits).

    Returns
    -------
    ModelFile
        Not yet written: :func:`tradesim_nb.models.save_models` (``tradesim fit --out``).

    Raises
    ------
    ValueError
        Too little data (the message says how much is needed), files of mixed formats,
        overlapping files, an unknown venue or symbol.

    Notes
    -----
    ``workers=`` starts worker *processes* (pure-Python replay holds the GIL, so threads
    would not run in parallel); a script that calls it must guard its entry point with
    ``if __name__ == "__main__":``, as multiprocessing requires (the command line and
    notebooks need nothing).
    """
    st = settings or FitSettings()
    if sum(x is not None for x in (client, workers, scheduler)) > 1:
        raise ValueError("give at most one of client, workers, scheduler")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers={workers!r} must be an integer >= 1")
    venue, symbol = _venue_symbol(paths, venue, symbol, format)
    t_start = time.perf_counter()
    segments = plan_segments(paths, venue, symbol, format=format, scan_s=st.scan_s)
    own: Any = None
    cluster: Any = None
    quiet = logging.getLogger("distributed")
    level = quiet.level
    if workers is not None:
        from dask.distributed import Client, LocalCluster

        quiet.setLevel(max(level, logging.WARNING))  # the cluster's own INFO lines
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        own = client = Client(cluster)
    elif scheduler is not None:
        from dask.distributed import Client

        own = client = Client(scheduler)
    try:
        runner: Any = _Serial() if client is None else _Dask(client)
        tasks = [SegmentTask(i, seg, tuple(u for s in segments[i + 1:] for u in s), venue,
                             symbol, st, progress and client is None and len(segments) == 1)
                 for i, seg in enumerate(segments)]
        t0 = time.perf_counter()
        results: list[SegmentResult] = runner.map(build_segment, tasks, progress, "segments")
        t_build = time.perf_counter() - t0
        mf = _fit_union(results, venue, symbol, st, runner, progress)
    finally:
        if own is not None:
            own.close()
        if cluster is not None:
            cluster.close()
        quiet.setLevel(level)
    wall = time.perf_counter() - t_start
    return dataclasses.replace(mf, holdout={
        **mf.holdout, "timing_s": {"build": t_build, "total": wall},
        "workers": runner.workers if client is not None else 1})


def _venue_symbol(paths: Sequence[str | Path], venue: str | None, symbol: str | None,
                  fmt: str) -> tuple[str, str]:
    from .formats import open_source
    from .venues import get_venue

    if venue is None or symbol is None:
        r = open_source(list(paths), fmt, venue=venue, symbol=symbol)
        venue = venue or r.venue
        if symbol is None:
            if len(r.symbols) != 1:
                raise ValueError(f"the files name {len(r.symbols)} instruments "
                                 f"({', '.join(r.symbols) or 'none'}): pass symbol=")
            symbol = r.symbols[0]
        if not venue:
            raise ValueError("the files do not say which venue they come from: pass venue=")
    return get_venue(venue).name, symbol


def _fit_union(results: Sequence[SegmentResult], venue: str, symbol: str, st: FitSettings,
               runner: Any, progress: bool) -> ModelFile:
    from .costs.slippage import fit_slippage_model
    from .impact.market_data import concat_series
    from .instruments import find_instrument
    from .models import SimulatorModels

    results = sorted(results, key=lambda r: r.index)
    names = [f["name"] for r in results for f in r.files]
    ds = concat_datasets([r.dataset for r in results], source=",".join(names))
    cfg = st.dataset
    span_s = (ds.meta["last_ns"] - ds.meta["first_ns"]) / 1e9
    if ds.n < st.min_decisions:
        raise _too_little(
            f"{symbol} in {', '.join(names)}",
            f"{ds.n} decisions over {span_s:.0f} s of data",
            f"a fit needs at least {st.min_decisions} (one every {cfg.sample_every_ms:g} ms "
            f"of valid book after a {cfg.warmup_s:g} s warm-up: about "
            f"{st.min_decisions * cfg.sample_every_ms / 1e3 + cfg.warmup_s:.0f} s of data)")
    if ds.trades["t_ns"].size == 0:
        raise _too_little(
            f"{symbol} in {', '.join(names)}", "no trades",
            "the maker/taker model and the impact fit need the trade stream (a trades file "
            "beside the book, or a recording with the trade channel)")
    parts = [r.series for r in results if r.series is not None]
    n_samples = sum(len(s) for s in parts)
    if n_samples < st.min_impact_samples:
        raise _too_little(
            f"the impact fit of {symbol}", f"{n_samples} samples at {st.impact_dt_s:g} s",
            f"it needs at least {st.min_impact_samples} "
            f"({st.min_impact_samples * st.impact_dt_s:.0f} s of valid book)")
    series = concat_series(parts, [r.series_t0_ns for r in results if r.series is not None])
    # the impact fit and the maker/taker fit run beside the quantile regressions
    impact_job = runner.submit(_impact_fit, series, st.bootstrap, st.seed)
    maker_job = runner.submit(_maker_fit, ds, st.train_frac)

    def qmap(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return runner.map(fn, items, progress, "quantile fits")

    slippage = fit_slippage_model(ds, quantiles=st.quantiles, train_frac=st.train_frac,
                                  max_quantile_rows=st.max_quantile_rows, gbm=False,
                                  map_fn=qmap)
    models = SimulatorModels(slippage, maker_job.result())
    impact = impact_job.result()
    inst = find_instrument(venue, symbol)
    holdout = holdout_report(models, ds.n, impact)
    holdout["segments"] = [{k: v for k, v in r.stats.items() if k != "warnings"}
                           for r in results]
    warns = [w for r in results for w in r.stats.get("warnings", [])]
    if warns:
        holdout["warnings"] = warns
    first = int(ds.meta["first_ns"])
    last = int(ds.meta["last_ns"])
    return ModelFile(
        models=models,
        instrument=(instrument_dict(inst) if inst is not None
                    else {"venue": venue, "symbol": symbol}),
        impact=impact, files=tuple(f for r in results for f in r.files),
        time_span=(first, last), holdout=holdout, config=st.to_dict(),
        created_ns=time.time_ns())


def default_out_path(model: ModelFile) -> Path:
    """Where ``tradesim fit`` writes a model file without ``--out``: the model cache folder
    (:func:`tradesim_nb.simulator.model_cache_dir`, so the dashboard lists it), named after
    the instrument and a digest of the files and settings (the same data refit overwrite it)."""
    from .simulator import model_cache_dir

    h = hashlib.sha256()
    for f in model.files:
        h.update(f["sha256"].encode())
    h.update(repr(sorted(model.config.items())).encode())
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{model.venue}-{model.symbol}")
    return model_cache_dir() / f"fit-{safe}-{h.hexdigest()[:12]}.json"
