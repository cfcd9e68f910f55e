"""Many impact fits at once on Dask, with results identical to the serial run.

A :class:`CalibrationTask` names its data, its method and its seed, so where it runs does
not change its result; :func:`calibrate_many` maps :func:`run_task` over a
``dask.distributed`` client (a local cluster by default), :func:`calibrate_serial` is the
reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._progress import progress as _progress
from .fit import fit_athl, fit_market_data
from .market_data import market_series_from_recording
from .results import ImpactFit
from .synthetic import calibrate_synthetic, simulate_orders

__all__ = ["CalibrationTask", "TaskKind", "calibrate_many", "calibrate_serial", "run_task"]

TaskKind = Literal["synthetic", "athl-simulated", "orders", "recording"]


@dataclass(frozen=True, slots=True)
class CalibrationTask:
    """One fit to run: what data, which method, which seed (so results are reproducible).

    Parameters
    ----------
    kind : {"synthetic", "athl-simulated", "orders", "recording"}
        ``"synthetic"``: :func:`~tradesim_nb.impact.synthetic.calibrate_synthetic` with
        ``eta``, ``gamma``, ``seed``, ``n``; ``"athl-simulated"``:
        :func:`~tradesim_nb.impact.synthetic.simulate_orders` +
        :func:`~tradesim_nb.impact.fit.fit_athl`; ``"orders"``: ``fit_athl`` on the CSV
        ``paths[0]``; ``"recording"``: :func:`~tradesim_nb.impact.fit.fit_market_data` on
        ``paths`` replayed through ``venue``.
    seed : int
    eta, gamma : float
        True values of the simulated kinds.
    n : int
        Orders simulated (>= 10).
    paths : tuple of str
        Files of ``"orders"`` and ``"recording"``.
    venue, symbol : str
        Of ``"recording"``.
    options : tuple of (name, value)
        Keyword arguments of the fit (``dt_s`` goes to the recording's series).
    """

    kind: TaskKind
    seed: int = 0
    eta: float = 0.142
    gamma: float = 0.314
    n: int = 2000
    paths: tuple[str, ...] = ()
    venue: str = "binance"
    symbol: str = "BTCUSDT"
    options: tuple[tuple[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in ("synthetic", "athl-simulated", "orders", "recording"):
            raise ValueError(f"kind={self.kind!r} is not one of 'synthetic', 'athl-simulated', "
                             "'orders', 'recording'")
        if self.kind in ("orders", "recording") and not self.paths:
            raise ValueError(f"paths=() must name at least one file for kind={self.kind!r}")
        if not (isinstance(self.n, int) and self.n >= 10):
            raise ValueError(f"n={self.n!r} must be an integer >= 10")


def run_task(task: CalibrationTask) -> ImpactFit:
    """Run one :class:`CalibrationTask` (pure: same task, same result)."""
    opts: Mapping[str, Any] = dict(task.options)
    if task.kind == "synthetic":
        return calibrate_synthetic(task.eta, task.gamma, task.seed, n_orders=task.n, **opts)[0]
    if task.kind == "athl-simulated":
        recs = simulate_orders(task.n, gamma=task.gamma, eta=task.eta, seed=task.seed)
        return fit_athl(recs, seed=task.seed, **opts)
    if task.kind == "orders":
        return fit_athl(task.paths[0], seed=task.seed, **opts)
    dt = float(opts.get("dt_s", 1.0))
    ms = market_series_from_recording(task.paths, task.venue, task.symbol, dt_s=dt)
    rest = {k: v for k, v in opts.items() if k != "dt_s"}
    return fit_market_data(ms, seed=task.seed, **rest)


def calibrate_many(tasks: Sequence[CalibrationTask], client: Any = None, *,
                   progress: bool = False, n_workers: int = 2) -> list[ImpactFit]:
    """Run many fits in parallel on Dask; results in task order, identical to the serial run.

    With ``client=None`` a :class:`dask.distributed.LocalCluster` (threads, ``processes=False``,
    ``n_workers`` workers) is started and closed afterwards; any ``Client`` can be passed
    instead. Every task carries its own seed, so where it runs does not change its result.
    """
    tasks = list(tasks)
    for t in tasks:
        if not isinstance(t, CalibrationTask):
            raise ValueError(f"tasks must hold CalibrationTask items, got {type(t).__name__}")
    if not tasks:
        return []
    from dask.distributed import Client, LocalCluster, as_completed

    own = client is None
    cluster = None
    if own:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=False,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futs = client.map(run_task, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futs)}
        out: list[ImpactFit | None] = [None] * len(tasks)
        for fut in _progress(as_completed(futs), progress, "calibrate", total=len(futs)):
            out[index[fut.key]] = fut.result()
        return [o for o in out if o is not None]
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def calibrate_serial(tasks: Sequence[CalibrationTask], *, progress: bool = False
                     ) -> list[ImpactFit]:
    """The serial reference of :func:`calibrate_many`."""
    return [run_task(t) for t in _progress(tasks, progress, "calibrate")]
