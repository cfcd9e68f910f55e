"""Bybit fee schedules: spot and perpetual & futures base rates (Pro tiers not included).

See :mod:`tradesim_nb.costs.fees` for the formula and the caveats of every built-in table.
"""

from __future__ import annotations

from ...costs.fees import READ_ON, FeeSchedule, tiers_from_percent

__all__ = ["SCHEDULES", "schedules"]

_SOURCE = "https://www.bybit.com/en/help-center/article/Trading-Fee-Structure"

SCHEDULES: tuple[FeeSchedule, ...] = (
    FeeSchedule(
        "bybit", "spot",
        tiers_from_percent([
            ("VIP 0", 0.1000, 0.1000), ("VIP 1", 0.0675, 0.0800), ("VIP 2", 0.0650, 0.0775),
            ("VIP 3", 0.0625, 0.0750), ("VIP 4", 0.0500, 0.0600), ("VIP 5", 0.0400, 0.0500),
            ("Supreme VIP", 0.0300, 0.0450),
        ]),
        source_url=_SOURCE,
        as_of=READ_ON,
        notes=("Base rates for crypto pairs (Bybit: actual rates vary by region; fiat pairs "
               "differ). Read from a mirror of the Bybit help-centre article 000001634; "
               "Pro tiers are not included.")),
    FeeSchedule(
        "bybit", "perpetual",
        tiers_from_percent([
            ("VIP 0", 0.0200, 0.0550), ("VIP 1", 0.0180, 0.0400), ("VIP 2", 0.0160, 0.0375),
            ("VIP 3", 0.0140, 0.0350), ("VIP 4", 0.0120, 0.0320), ("VIP 5", 0.0100, 0.0320),
            ("Supreme VIP", 0.0000, 0.0300),
        ]),
        source_url=_SOURCE,
        as_of=READ_ON,
        notes=("Perpetual & futures base rates, same source and caveats as Bybit spot; "
               "Pro tiers are not included.")),
)


def schedules() -> tuple[FeeSchedule, ...]:
    return SCHEDULES
