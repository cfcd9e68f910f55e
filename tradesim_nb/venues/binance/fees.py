"""Binance fee schedules: spot and USDⓈ-M perpetual futures, standard rates (no BNB discount).

Both venue names of this package (spot, USD-M futures) read these tables. See
:mod:`tradesim_nb.costs.fees` for the formula and the caveats of every built-in table.
"""

from __future__ import annotations

from ...costs.fees import READ_ON, FeeSchedule, tiers_from_percent

__all__ = ["SCHEDULES", "schedules"]

SCHEDULES: tuple[FeeSchedule, ...] = (
    FeeSchedule(
        "binance", "spot",
        tiers_from_percent([
            ("VIP 0", 0.1000, 0.1000), ("VIP 1", 0.0900, 0.1000), ("VIP 2", 0.0800, 0.1000),
            ("VIP 3", 0.0420, 0.0600), ("VIP 4", 0.0420, 0.0540), ("VIP 5", 0.0360, 0.0480),
            ("VIP 6", 0.0300, 0.0420), ("VIP 7", 0.0240, 0.0360), ("VIP 8", 0.0180, 0.0300),
            ("VIP 9", 0.0120, 0.0240),
        ]),
        source_url="https://www.binance.com/en/fee/schedule",
        as_of=READ_ON,
        notes=("Standard rates without the BNB discount (25% off when paying in BNB). VIP 0 "
               "(regular) 0.1%/0.1% is stated by Binance; the VIP 1-9 figures come from a "
               "third-party copy of the table (zb-binance.com) because the official page "
               "could not be read here.")),
    FeeSchedule(
        "binance", "perpetual",
        tiers_from_percent([
            ("VIP 0", 0.0200, 0.0500), ("VIP 1", 0.0160, 0.0400), ("VIP 2", 0.0140, 0.0350),
            ("VIP 3", 0.0120, 0.0320), ("VIP 4", 0.0100, 0.0300), ("VIP 5", 0.0080, 0.0270),
            ("VIP 6", 0.0060, 0.0250), ("VIP 7", 0.0040, 0.0220), ("VIP 8", 0.0020, 0.0200),
            ("VIP 9", 0.0000, 0.0170),
        ]),
        source_url="https://www.binance.com/en/fee/futureFee",
        as_of=READ_ON,
        notes=("USDS-M perpetual futures, standard rates without the BNB discount (10%). "
               "VIP 0-6 agree between two third-party copies (zb-binance.com, babianfox.com); "
               "VIP 7-9 from one of them only; the official page could not be read here.")),
)


def schedules() -> tuple[FeeSchedule, ...]:
    return SCHEDULES
