"""Executing schedules: on the synthetic market, on replayed books, and (soon) impact-aware.

:mod:`.books` holds what ``tradesim_nb/execution.py`` held; every public name it had is
re-exported here, so ``from tradesim_nb.execution import X`` keeps working.
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

__all__ = [
    "ExecutionResult",
    "MonteCarloResult",
    "ac_schedule",
    "execute_on_books",
    "execute_schedule",
    "monte_carlo",
    "replay_books",
    "simulate_executions",
    "twap",
]
