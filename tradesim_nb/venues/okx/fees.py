"""OKX fee schedules: spot (Lv1-Lv5, VIP 1-8) and the regular-user perpetual rate.

Copies of OKX's published base rates (see :mod:`tradesim_nb.costs.fees` for the formula and
the caveats every built-in table carries); each says where and when it was read.
"""

from __future__ import annotations

from ...costs.fees import READ_ON, FeeSchedule, tiers_from_percent

__all__ = ["SCHEDULES", "schedules"]

SCHEDULES: tuple[FeeSchedule, ...] = (
    FeeSchedule(
        "okx", "spot",
        tiers_from_percent([
            ("Lv1", 0.080, 0.100), ("Lv2", 0.075, 0.095), ("Lv3", 0.070, 0.090),
            ("Lv4", 0.065, 0.085), ("Lv5", 0.060, 0.080),
            ("VIP 1", 0.060, 0.080), ("VIP 2", 0.050, 0.070), ("VIP 3", 0.030, 0.060),
            ("VIP 4", 0.020, 0.050), ("VIP 5", 0.000, 0.040), ("VIP 6", -0.002, 0.030),
            ("VIP 7", -0.005, 0.025), ("VIP 8", -0.005, 0.020),
        ]),
        source_url="https://www.okx.com/fees",
        as_of=READ_ON,
        notes=("Spot, USDT/USDS/crypto pairs, base rates (Lv1-Lv5 by OKB holding, VIP 1-8 by "
               "30-day volume or assets) as shown on the OKX fees page in a stored copy; the "
               "copy carries no publication date. Another stored copy of an OKX fees page "
               "shows a different layout (Lvl 1 only; VIP 1 maker 0.045%/taker 0.050%), so "
               "which table is current could not be verified.")),
    FeeSchedule(
        "okx", "perpetual",
        tiers_from_percent([("Lv1", 0.020, 0.050)]),
        source_url="https://www.okx.com/fees",
        as_of=READ_ON,
        notes=("Regular-user (Lv1) USDT-margined perpetual base rate 0.020%/0.050%, "
               "corroborated only by secondary sources; the current VIP perpetual tiers could "
               "not be verified and are not included (add them with with_tier).")),
)


def schedules() -> tuple[FeeSchedule, ...]:
    return SCHEDULES
