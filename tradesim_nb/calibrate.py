"""The old home of the impact fits, kept so that old code still imports: everything here now
lives in :mod:`tradesim_nb.impact` (fits in :mod:`tradesim_nb.impact.fit`, results in
:mod:`tradesim_nb.impact.results`, market series in :mod:`tradesim_nb.impact.market_data`,
synthetic data in :mod:`tradesim_nb.impact.synthetic`, intervals in
:mod:`tradesim_nb.impact.intervals`, the Dask runner in :mod:`tradesim_nb.impact.distributed`).
"""

from __future__ import annotations

from .impact.distributed import (
    CalibrationTask,
    TaskKind,
    calibrate_many,
    calibrate_serial,
    run_task,
)
from .impact.fit import fit_ac_records, fit_athl, fit_market_data
from .impact.intervals import newey_west_ols
from .impact.market_data import (
    MarketSeries,
    market_series_from_recording,
    market_series_from_synthetic,
)
from .impact.records import ORDER_COLUMNS, Weighting, load_orders
from .impact.results import Estimate, ImpactFit
from .impact.synthetic import calibrate_synthetic, simulate_orders

__all__ = [
    "ORDER_COLUMNS",
    "CalibrationTask",
    "Estimate",
    "ImpactFit",
    "MarketSeries",
    "TaskKind",
    "Weighting",
    "calibrate_many",
    "calibrate_serial",
    "calibrate_synthetic",
    "fit_ac_records",
    "fit_athl",
    "fit_market_data",
    "load_orders",
    "market_series_from_recording",
    "market_series_from_synthetic",
    "newey_west_ols",
    "run_task",
    "simulate_orders",
]
