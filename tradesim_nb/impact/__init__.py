"""Market impact: laws as objects, the fits that return them, and their intervals.

* :mod:`~tradesim_nb.impact.base` — the interface (:class:`ImpactLaw`) and the market inputs
  (:class:`MarketContext`);
* :mod:`~tradesim_nb.impact.laws` — linear Almgren-Chriss, its rule of thumb, power law,
  ATHL 2005, square root, and their vectorised formulas;
* :mod:`~tradesim_nb.impact.results` — :class:`ImpactFit`, the immutable result of a fit;
* :mod:`~tradesim_nb.impact.records` — parent-order records;
* :mod:`~tradesim_nb.impact.fit` — :func:`fit_athl`, :func:`fit_ac_records`,
  :func:`fit_market_data`;
* :mod:`~tradesim_nb.impact.intervals` — sandwich, Newey-West and bootstrap intervals;
* :mod:`~tradesim_nb.impact.market_data` — recordings and the synthetic market as
  :class:`MarketSeries`;
* :mod:`~tradesim_nb.impact.synthetic` — data with a known truth;
* :mod:`~tradesim_nb.impact.distributed` — many fits on Dask.

Importing this package loads numpy only (pandas, scipy and dask load when a fit needs them).
"""

from .base import SECONDS_PER_DAY, ImpactLaw, MarketContext, Pricer
from .distributed import CalibrationTask, calibrate_many, calibrate_serial, run_task
from .fit import fit_ac_records, fit_athl, fit_market_data
from .intervals import block_indices, cluster_sandwich, newey_west_ols, percentile_estimate
from .laws import (
    ATHL_2005,
    ATHLImpact,
    ATHLParams,
    LinearImpact,
    PowerLawImpact,
    RuleOfThumbImpact,
    SquareRootImpact,
    athl_cost,
    athl_permanent,
    athl_temporary,
    permanent_impact,
    sqrt_impact,
    temporary_impact,
)
from .market_data import MarketSeries, market_series_from_recording, market_series_from_synthetic
from .records import ORDER_COLUMNS, load_orders
from .results import Estimate, ImpactFit
from .synthetic import calibrate_synthetic, simulate_orders

__all__ = [
    "ATHL_2005",
    "ORDER_COLUMNS",
    "SECONDS_PER_DAY",
    "ATHLImpact",
    "ATHLParams",
    "CalibrationTask",
    "Estimate",
    "ImpactFit",
    "ImpactLaw",
    "LinearImpact",
    "MarketContext",
    "MarketSeries",
    "PowerLawImpact",
    "Pricer",
    "RuleOfThumbImpact",
    "SquareRootImpact",
    "athl_cost",
    "athl_permanent",
    "athl_temporary",
    "block_indices",
    "calibrate_many",
    "calibrate_serial",
    "calibrate_synthetic",
    "cluster_sandwich",
    "fit_ac_records",
    "fit_athl",
    "fit_market_data",
    "load_orders",
    "market_series_from_recording",
    "market_series_from_synthetic",
    "newey_west_ols",
    "percentile_estimate",
    "permanent_impact",
    "run_task",
    "simulate_orders",
    "sqrt_impact",
    "temporary_impact",
]
