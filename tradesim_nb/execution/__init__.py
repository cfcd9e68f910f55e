"""Executing schedules: on the synthetic market, on replayed books, and impact-aware.

* :mod:`.books` -- what ``tradesim_nb/execution.py`` held (every public name re-exported here,
  so ``from tradesim_nb.execution import X`` keeps working): trade lists on the synthetic
  market (Monte Carlo against Almgren-Chriss) and on untouched replayed books.
* :mod:`.schedules` -- :class:`Schedule`, the one type for TWAP, VWAP, POV and every model's
  optimum.
* :mod:`.tape` -- :class:`BookTape`, a recording sampled on a clock.
* :mod:`.impact_replay` -- the impact-aware replay: children that deplete and shift the books
  they meet, the shortfall split into spread, temporary, permanent, timing and fees.
"""

from __future__ import annotations

from .books import (
    ExecutionResult,
    MonteCarloResult,
    ac_schedule,
    execute_on_books,
    execute_schedule,
    monte_carlo,
    replay_books,
    simulate_executions,
    twap,
)
from .impact_replay import (
    COMPONENTS,
    ExecutionModels,
    ReplayComparison,
    ReplayImpact,
    ReplayRun,
    fit_execution_models,
    replay_many,
    replay_schedule,
    standard_schedules,
)
from .schedules import Schedule, volume_profile
from .tape import BookTape, tape_from_recording

__all__ = [
    "COMPONENTS",
    "BookTape",
    "ExecutionModels",
    "ExecutionResult",
    "MonteCarloResult",
    "ReplayComparison",
    "ReplayImpact",
    "ReplayRun",
    "Schedule",
    "ac_schedule",
    "execute_on_books",
    "execute_schedule",
    "fit_execution_models",
    "monte_carlo",
    "replay_books",
    "replay_many",
    "replay_schedule",
    "simulate_executions",
    "standard_schedules",
    "tape_from_recording",
    "twap",
    "volume_profile",
]
