"""The GoQuant relay carries OKX books: an order on them pays OKX's fees."""

from __future__ import annotations

from ...costs.fees import FeeSchedule
from ..okx.fees import SCHEDULES

__all__ = ["schedules"]


def schedules() -> tuple[FeeSchedule, ...]:
    return SCHEDULES
