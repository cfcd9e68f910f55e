"""The old home of the impact laws, kept so that old code still imports: they now live in
:mod:`tradesim_nb.impact.laws` (``ATHLParams`` is :class:`~tradesim_nb.impact.laws.ATHLImpact`)."""

from __future__ import annotations

from ..impact.laws import (
    ATHL_2005,
    ATHLParams,
    PowerLawImpact,
    athl_cost,
    athl_permanent,
    athl_temporary,
    permanent_impact,
    sqrt_impact,
    temporary_impact,
)

__all__ = [
    "ATHL_2005",
    "ATHLParams",
    "PowerLawImpact",
    "athl_cost",
    "athl_permanent",
    "athl_temporary",
    "permanent_impact",
    "sqrt_impact",
    "temporary_impact",
]
