r"""Exchange fee schedules (maker/taker, per tier) and the fee of an order.

.. math::

    \text{fee}_{\text{USD}} = \text{notional}_{\text{USD}}\,
        \frac{s\,m + (1 - s)\,t}{10^4}

with maker rate :math:`m` and taker rate :math:`t` in basis points and maker share
:math:`s \in [0, 1]` (the fraction of the notional filled passively). A negative maker rate is a
rebate.

The built-in tables (one module per venue, ``tradesim_nb/venues/<venue>/fees.py``, gathered
through the venue registry) are copies of the venues' published base rates (no token
discounts, no regional variants, no promotional zero-fee pairs). Each carries the page it was
read from and the date it was read (``as_of``); venues change these tables, so check the
source before relying on a figure, or build your own :class:`FeeSchedule` / use
:meth:`FeeSchedule.with_tier`. Where a figure could not be verified against the venue's own
page, ``notes`` says so.

Examples
--------
>>> s = get_fee_schedule("okx", "spot")
>>> s.tier("Lv1").taker_bps
10.0
>>> fee_usd(100_000.0, "VIP 5", maker_share=1.0, schedule=s)
0.0
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    from ..instruments import Instrument

__all__ = [
    "READ_ON",
    "SCHEDULES",
    "FeeSchedule",
    "FeeTier",
    "Product",
    "available_schedules",
    "fee_usd",
    "get_fee_schedule",
    "schedule_for",
    "tiers_from_percent",
]

Product = Literal["spot", "perpetual"]

#: |rate| above this many bps is rejected as a probable unit mistake (percent vs bps)
_MAX_ABS_BPS = 1000.0


def _norm(name: str) -> str:
    """Tier-name key: case, spaces, dashes and underscores ignored ('VIP 1' == 'vip1')."""
    return re.sub(r"[\s_\-]+", "", name).lower()


@dataclass(frozen=True)
class FeeTier:
    """One fee tier.

    Parameters
    ----------
    name : str
        As the venue writes it (``"Lv1"``, ``"VIP 3"``, ``"Supreme VIP"``).
    maker_bps, taker_bps : float
        Rates in basis points (0.02% = 2 bps); negative means a rebate. ``|rate| < 1000``.
    """

    name: str
    maker_bps: float
    taker_bps: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name={self.name!r} is invalid: allowed range is a non-empty string")
        for attr in ("maker_bps", "taker_bps"):
            v = getattr(self, attr)
            ok = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
            if not ok or not math.isfinite(float(v)) or abs(float(v)) >= _MAX_ABS_BPS:
                raise ValueError(f"{attr}={v!r} is invalid: allowed range is a finite number of "
                                 f"basis points with |{attr}| < {_MAX_ABS_BPS:g}")
            object.__setattr__(self, attr, float(v))

    def rate_bps(self, maker_share: ArrayLike = 0.0) -> Any:
        r"""Blended rate :math:`s\,m + (1-s)\,t` in bps for maker share :math:`s`."""
        s = _maker_share(maker_share)
        out = s * self.maker_bps + (1.0 - s) * self.taker_bps
        return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class FeeSchedule:
    """The fee tiers of one venue and product, with provenance.

    Parameters
    ----------
    venue, product : str
    tiers : tuple of FeeTier
        Non-empty, unique names (compared ignoring case and spaces).
    source_url : str
        Where the figures were read.
    as_of : str
        ISO date (YYYY-MM-DD) the figures were read.
    notes : str
        Caveats, including which figures could not be verified.
    """

    venue: str
    product: str
    tiers: tuple[FeeTier, ...]
    source_url: str
    as_of: str
    notes: str = ""
    _index: dict[str, FeeTier] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tiers = tuple(self.tiers)
        if not tiers or not all(isinstance(t, FeeTier) for t in tiers):
            raise ValueError(f"tiers={self.tiers!r} is invalid: allowed range is a non-empty "
                             "sequence of FeeTier")
        index: dict[str, FeeTier] = {}
        for t in tiers:
            k = _norm(t.name)
            if k in index:
                raise ValueError(f"tiers: duplicate tier name {t.name!r}; names must be unique")
            index[k] = t
        try:
            _dt.date.fromisoformat(self.as_of)
        except (TypeError, ValueError):
            raise ValueError(f"as_of={self.as_of!r} is invalid: allowed range is an ISO date "
                             "YYYY-MM-DD") from None
        object.__setattr__(self, "tiers", tiers)
        object.__setattr__(self, "_index", index)

    @property
    def tier_names(self) -> list[str]:
        """The tier names, in table order."""
        return [t.name for t in self.tiers]

    def tier(self, name: str) -> FeeTier:
        """The tier called ``name`` (case and spaces ignored); ValueError lists the tiers."""
        t = self._index.get(_norm(name)) if isinstance(name, str) else None
        if t is None:
            raise ValueError(f"tier={name!r} is not in the {self.venue} {self.product} schedule; "
                             f"allowed: {', '.join(self.tier_names)}")
        return t

    def with_tier(self, tier: FeeTier | str, maker_bps: float | None = None,
                  taker_bps: float | None = None) -> FeeSchedule:
        """A copy with one tier replaced (same name) or appended (new name).

        ``with_tier(FeeTier("My deal", -0.5, 3.0))`` adds or replaces a whole tier;
        ``with_tier("VIP 1", taker_bps=3.5)`` overrides one rate of an existing tier.
        """
        if isinstance(tier, str):
            base = self.tier(tier)
            new = FeeTier(base.name,
                          base.maker_bps if maker_bps is None else maker_bps,
                          base.taker_bps if taker_bps is None else taker_bps)
        elif isinstance(tier, FeeTier):
            if maker_bps is not None or taker_bps is not None:
                raise ValueError("maker_bps/taker_bps overrides apply only to a tier name; "
                                 "pass a complete FeeTier instead")
            new = tier
        else:
            raise ValueError(f"tier={tier!r} is invalid: allowed range is a FeeTier or a tier name")
        key = _norm(new.name)
        tiers = [new if _norm(t.name) == key else t for t in self.tiers]
        if key not in self._index:
            tiers.append(new)
        return replace(self, tiers=tuple(tiers),
                       notes=(self.notes + " " if self.notes else "") + f"[user override: {new.name}]")

    def fee_usd(self, notional_usd: ArrayLike, tier: str, maker_share: ArrayLike = 0.0) -> Any:
        """Fee in USD of ``notional_usd`` at ``tier``; see :func:`fee_usd`."""
        return fee_usd(notional_usd, self.tier(tier), maker_share)


def _maker_share(maker_share: ArrayLike) -> Any:
    s = np.asarray(maker_share, dtype=np.float64)
    bad = ~np.isfinite(s) | (s < 0.0) | (s > 1.0)
    if bad.any():
        first = float(s.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])])
        raise ValueError(f"maker_share={first!r} is invalid: allowed range is 0 <= maker_share <= 1")
    return s


def fee_usd(notional_usd: ArrayLike, tier: FeeTier | str, maker_share: ArrayLike = 0.0,
            schedule: FeeSchedule | None = None) -> Any:
    r"""Fee of an order: :math:`\text{notional}\,(s\,m + (1-s)\,t)/10^4` (negative = rebate).

    Parameters
    ----------
    notional_usd : array_like
        Traded notional in USD, >= 0.
    tier : FeeTier or str
        A tier, or a tier name looked up in ``schedule``.
    maker_share : array_like
        Fraction filled as maker, in [0, 1] (0 = all taker).
    schedule : FeeSchedule, optional
        Required when ``tier`` is a name.

    Returns
    -------
    float or ndarray
    """
    if isinstance(tier, str):
        if schedule is None:
            raise ValueError(f"tier={tier!r} is a name: pass schedule=get_fee_schedule(venue, "
                             "product) or a FeeTier")
        tier = schedule.tier(tier)
    if not isinstance(tier, FeeTier):
        raise ValueError(f"tier={tier!r} is invalid: allowed range is a FeeTier or a tier name")
    n = np.asarray(notional_usd, dtype=np.float64)
    bad = ~np.isfinite(n) | (n < 0)
    if bad.any():
        first = float(n.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])])
        raise ValueError(f"notional_usd={first!r} is invalid: allowed range is notional_usd >= 0")
    out = n * np.asarray(tier.rate_bps(maker_share)) * 1e-4
    return float(out) if np.ndim(out) == 0 else out


# ------------------------------------------------------------------------- built-in tables
# Each venue's tables live in its package (``tradesim_nb/venues/<venue>/fees.py``), copied in
# percent as published and converted to bps (x 100) by :func:`tiers_from_percent`.

def tiers_from_percent(rows: list[tuple[str, float, float]]) -> tuple[FeeTier, ...]:
    """``(name, maker %, taker %)`` rows as published -> tiers in bps."""
    return tuple(FeeTier(n, round(m * 100, 6), round(t * 100, 6)) for n, m, t in rows)


#: the date the built-in tables were read
READ_ON = "2026-11-25"


def _schedules() -> dict[tuple[str, str], FeeSchedule]:
    """Every venue's own tables, keyed ``(venue, product)`` (a table shared by several venue
    names, such as OKX's read by the GoQuant relay, once under its own venue)."""
    from ..venues.registry import VENUES

    out: dict[tuple[str, str], FeeSchedule] = {}
    for name in VENUES:
        for s in VENUES[name].fee_schedules():
            out.setdefault((s.venue, s.product), s)
    return out


class _Schedules(Mapping[tuple[str, str], FeeSchedule]):
    """``(venue, product) -> FeeSchedule`` over the venue packages, read when first used."""

    def __getitem__(self, key: tuple[str, str]) -> FeeSchedule:
        return _schedules()[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(_schedules())

    def __len__(self) -> int:
        return len(_schedules())


#: every built-in table, ``(venue, product) -> FeeSchedule`` (from the venue packages)
SCHEDULES: Mapping[tuple[str, str], FeeSchedule] = _Schedules()


def available_schedules() -> list[tuple[str, str]]:
    """The (venue, product) pairs with a built-in table."""
    return sorted(_schedules())


def _product(product: str) -> str:
    p = product.strip().lower() if isinstance(product, str) else product
    return "perpetual" if p in ("swap", "perp", "perpetuals", "futures") else p


def get_fee_schedule(venue: str, product: str = "spot") -> FeeSchedule:
    """The built-in schedule of ``venue`` (a name of :data:`tradesim_nb.venues.VENUES` or one
    of its aliases; the venue's package says which tables it reads) and ``product``
    ("spot", "perpetual"; "swap" and "futures" are accepted for "perpetual").

    Raises
    ------
    ValueError
        Listing the venues, or the products of the venue, that exist.
    """
    from ..venues.registry import find_venue

    v = find_venue(venue.strip().lower()) if isinstance(venue, str) else None
    if v is None:
        venues = sorted({k[0] for k in _schedules()})
        raise ValueError(f"venue={venue!r} has no fee schedule; allowed: {', '.join(venues)} "
                         "(and the venues that read their tables)")
    p = _product(product)
    tables = {s.product: s for s in v.fee_schedules()}
    if p not in tables:
        raise ValueError(f"product={product!r} has no {v.name} fee schedule; allowed: "
                         f"{', '.join(sorted(tables))}")
    return tables[p]


def schedule_for(instrument: Instrument) -> FeeSchedule:
    """The built-in schedule an order on ``instrument`` pays: the venue's own table for that
    instrument where it publishes one per instrument, else its spot table for spot and the
    perpetual table for swaps and dated futures."""
    from ..venues.registry import find_venue

    v = find_venue(instrument.venue)
    if v is not None and v.fee_schedule_for is not None:
        return v.fee_schedule_for(instrument)
    return get_fee_schedule(instrument.venue,
                            "spot" if instrument.kind == "spot" else "perpetual")
