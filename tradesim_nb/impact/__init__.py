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
* :mod:`~tradesim_nb.impact.distributed` — many fits on Dask;
* :mod:`~tradesim_nb.impact.transient` — transient impact: Obizhaeva-Wang, propagator decay
  kernels, the optimum of a kernel and the price-manipulation check;
* :mod:`~tradesim_nb.impact.nonlinear` — nonlinear temporary impact (Almgren 2003);
* :mod:`~tradesim_nb.impact.resilience` — fits of the book's resilience and of the kernel
  exponent from market data.

Importing this package loads numpy only: pandas, scipy and dask load when a fit needs them,
and the transient, nonlinear and resilience names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

#: names of the transient/nonlinear/resilience modules -> module (imported on first use)
_LAZY: dict[str, str] = {
    "BoxKernel": "transient",
    "DecayKernel": "transient",
    "ExponentialKernel": "transient",
    "GaussianKernel": "transient",
    "ManipulationReport": "transient",
    "NonlinearACParams": "nonlinear",
    "NonlinearACSolution": "nonlinear",
    "OWContinuous": "transient",
    "OWParams": "transient",
    "OWSolution": "transient",
    "PowerLawKernel": "transient",
    "PropagatorSolution": "transient",
    "TransientParams": "transient",
    "fit_book_depth": "resilience",
    "fit_kernel_exponent": "resilience",
    "fit_resilience": "resilience",
    "holdings_variance": "transient",
    "kernel_from_series": "resilience",
    "manipulation_check": "transient",
    "nonlinear_cost_of": "nonlinear",
    "nonlinear_frontier": "nonlinear",
    "nonlinear_optimal": "nonlinear",
    "ow_continuous": "transient",
    "ow_optimal": "transient",
    "propagator_optimal": "transient",
    "resilience_from_series": "resilience",
    "trade_grid": "transient",
    "transient_cost": "transient",
}

__all__ = [
    "ATHL_2005",
    "ORDER_COLUMNS",
    "SECONDS_PER_DAY",
    "ATHLImpact",
    "ATHLParams",
    "BoxKernel",
    "CalibrationTask",
    "DecayKernel",
    "Estimate",
    "ExponentialKernel",
    "GaussianKernel",
    "ImpactFit",
    "ImpactLaw",
    "LinearImpact",
    "ManipulationReport",
    "MarketContext",
    "MarketSeries",
    "NonlinearACParams",
    "NonlinearACSolution",
    "OWContinuous",
    "OWParams",
    "OWSolution",
    "PowerLawImpact",
    "PowerLawKernel",
    "Pricer",
    "PropagatorSolution",
    "RuleOfThumbImpact",
    "SquareRootImpact",
    "TransientParams",
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
    "fit_book_depth",
    "fit_kernel_exponent",
    "fit_market_data",
    "fit_resilience",
    "holdings_variance",
    "kernel_from_series",
    "load_orders",
    "manipulation_check",
    "market_series_from_recording",
    "market_series_from_synthetic",
    "newey_west_ols",
    "nonlinear_cost_of",
    "nonlinear_frontier",
    "nonlinear_optimal",
    "ow_continuous",
    "ow_optimal",
    "percentile_estimate",
    "permanent_impact",
    "propagator_optimal",
    "resilience_from_series",
    "run_task",
    "simulate_orders",
    "sqrt_impact",
    "temporary_impact",
    "trade_grid",
    "transient_cost",
]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .nonlinear import (
        NonlinearACParams,
        NonlinearACSolution,
        nonlinear_cost_of,
        nonlinear_frontier,
        nonlinear_optimal,
    )
    from .resilience import (
        fit_book_depth,
        fit_kernel_exponent,
        fit_resilience,
        kernel_from_series,
        resilience_from_series,
    )
    from .transient import (
        BoxKernel,
        DecayKernel,
        ExponentialKernel,
        GaussianKernel,
        ManipulationReport,
        OWContinuous,
        OWParams,
        OWSolution,
        PowerLawKernel,
        PropagatorSolution,
        TransientParams,
        holdings_variance,
        manipulation_check,
        ow_continuous,
        ow_optimal,
        propagator_optimal,
        trade_grid,
        transient_cost,
    )
