"""Impact models beyond linear Almgren-Chriss: transient impact (Obizhaeva-Wang, propagator
kernels, the price-manipulation check), nonlinear temporary impact (Almgren 2003) and the fits
of resilience and of the kernel exponent from market data."""

from __future__ import annotations

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

__all__ = [
    "BoxKernel",
    "DecayKernel",
    "ExponentialKernel",
    "GaussianKernel",
    "ManipulationReport",
    "NonlinearACParams",
    "NonlinearACSolution",
    "OWContinuous",
    "OWParams",
    "OWSolution",
    "PowerLawKernel",
    "PropagatorSolution",
    "TransientParams",
    "fit_book_depth",
    "fit_kernel_exponent",
    "fit_resilience",
    "holdings_variance",
    "kernel_from_series",
    "manipulation_check",
    "nonlinear_cost_of",
    "nonlinear_frontier",
    "nonlinear_optimal",
    "ow_continuous",
    "ow_optimal",
    "propagator_optimal",
    "resilience_from_series",
    "trade_grid",
    "transient_cost",
]
