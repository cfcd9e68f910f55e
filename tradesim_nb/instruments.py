"""Instruments: what a size on a venue means in base currency and in USD.

Some venues size derivatives in contracts (an OKX BTC-USDT-SWAP contract is 0.01 BTC; an
inverse BTC-USD-SWAP contract is 100 USD), others in base currency. :class:`Instrument`
converts between venue size, base quantity and quote notional. The entries come from each
venue's package (``tradesim_nb/venues/<venue>/instruments.py``), loaded on the venue's first
look-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "INSTRUMENTS",
    "ContractType",
    "Instrument",
    "InstrumentKind",
    "SizeUnit",
    "find_instrument",
    "get_instrument",
    "instruments_of",
    "register_instrument",
]

InstrumentKind = Literal["spot", "swap", "futures"]
ContractType = Literal["linear", "inverse"]
#: How an order size is given: base currency, venue contracts, or quote notional (USD).
SizeUnit = Literal["base", "contracts", "usd"]


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable instrument on one venue.

    Parameters
    ----------
    venue : str
        A venue name of :data:`tradesim_nb.venues.VENUES` (``"okx"``, ``"binance-futures"``).
    symbol : str
        The venue's instrument id (``"BTC-USDT-SWAP"``, ``"BTCUSDT"``).
    kind : {"spot", "swap", "futures"}
    base, quote : str
        Currencies (``"BTC"``, ``"USDT"``).
    tick_size : float
        Price increment (> 0).
    lot_size : float
        Size increment in the venue's size unit (> 0).
    contract_size : float
        For ``contract_type="linear"``: base units per contract (0.01 BTC); for
        ``"inverse"``: quote units (USD) per contract (100). 1.0 for spot, whose sizes are
        already in base currency.
    contract_type : {"linear", "inverse"}
    sized_in_contracts : bool
        True where the venue's book and trade sizes count contracts (OKX derivatives).
    """

    venue: str
    symbol: str
    kind: InstrumentKind
    base: str
    quote: str
    tick_size: float
    lot_size: float
    contract_size: float = 1.0
    contract_type: ContractType = "linear"
    sized_in_contracts: bool = False
    price_decimals: int = field(default=-1)

    def __post_init__(self) -> None:
        if self.kind not in ("spot", "swap", "futures"):
            raise ValueError(f"kind={self.kind!r} is not one of 'spot', 'swap', 'futures'")
        if self.contract_type not in ("linear", "inverse"):
            raise ValueError(
                f"contract_type={self.contract_type!r} is not one of 'linear', 'inverse'"
            )
        for name in ("tick_size", "lot_size", "contract_size"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}={v!r} must be a finite number > 0")
        if self.kind == "spot" and self.sized_in_contracts:
            raise ValueError("sized_in_contracts=True is not allowed for kind='spot'")
        if self.price_decimals < 0:
            object.__setattr__(self, "price_decimals", _decimals(self.tick_size))

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.symbol)

    # -- conversions --------------------------------------------------------------------
    def base_per_unit(self, price: float) -> float:
        """Base-currency quantity of one unit of venue size at ``price``."""
        if not self.sized_in_contracts:
            return 1.0
        if self.contract_type == "linear":
            return self.contract_size
        return self.contract_size / price

    def to_base(self, size: float, price: float) -> float:
        """Venue size (contracts or base) → base quantity at ``price``."""
        return size * self.base_per_unit(price)

    def from_base(self, qty_base: float, price: float) -> float:
        """Base quantity → venue size at ``price``."""
        return qty_base / self.base_per_unit(price)

    def size_from(self, amount: float, unit: SizeUnit, price: float) -> float:
        """An order amount in ``unit`` → venue size, priced at ``price`` where needed."""
        if not (math.isfinite(amount) and amount >= 0):
            raise ValueError(f"amount={amount!r} must be a finite number >= 0")
        if unit == "contracts":
            return amount if self.sized_in_contracts else amount * self.contract_size
        if unit == "base":
            return self.from_base(amount, price)
        if unit == "usd":
            if not (math.isfinite(price) and price > 0):
                raise ValueError(f"price={price!r} must be > 0 to convert a USD amount")
            return self.from_base(amount / price, price)
        raise ValueError(f"unit={unit!r} is not one of 'base', 'contracts', 'usd'")


def _decimals(x: float) -> int:
    s = f"{x:.12f}".rstrip("0")
    return len(s.split(".")[1]) if "." in s else 0


#: The registry: ``(venue, symbol) -> Instrument``. A venue's own entries (from its package,
#: :mod:`tradesim_nb.venues`) are added on the first look-up of that venue; add your own with
#: :func:`register_instrument` (they take precedence).
INSTRUMENTS: dict[tuple[str, str], Instrument] = {}
_LOADED: set[str] = set()


def _load(venue: str) -> None:
    """Add ``venue``'s entries from its package where missing (your own entries stay)."""
    _LOADED.add(venue)
    from .venues.registry import find_venue

    v = find_venue(venue)
    if v is None or v.name != venue:
        return
    for inst in v.instruments():
        INSTRUMENTS.setdefault(inst.key, inst)


def forget(venue: str) -> None:
    """Load ``venue``'s package entries again on its next look-up (a venue registered anew)."""
    _LOADED.discard(venue)


def register_instrument(instrument: Instrument) -> Instrument:
    """Add or replace an instrument in the registry and return it."""
    if instrument.venue not in _LOADED:
        _load(instrument.venue)  # the venue's own entries first: yours replace them
    INSTRUMENTS[instrument.key] = instrument
    return instrument


def find_instrument(venue: str, symbol: str) -> Instrument | None:
    """The registered instrument, or None."""
    inst = INSTRUMENTS.get((venue, symbol))
    if inst is None:  # not loaded yet, or the registry was cleared: ask the venue's package
        _load(venue)
        inst = INSTRUMENTS.get((venue, symbol))
    return inst


def instruments_of(venue: str) -> list[Instrument]:
    """Every instrument registered for ``venue``, its package's entries first."""
    _load(venue)
    return [i for (v, _), i in INSTRUMENTS.items() if v == venue]


def get_instrument(venue: str, symbol: str) -> Instrument:
    """The registered instrument, or a ``KeyError`` that lists what is known for the venue."""
    inst = find_instrument(venue, symbol)
    if inst is not None:
        return inst
    from .venues.registry import venue_names

    known = sorted(i.symbol for i in instruments_of(venue))
    venues = sorted(set(venue_names()) | {v for v, _ in INSTRUMENTS})
    more = f" and {len(known) - 20} more" if len(known) > 20 else ""
    hint = (f"known {venue} symbols: {', '.join(known[:20])}{more}" if known
            else f"known venues: {', '.join(venues)}")
    raise KeyError(
        f"unknown instrument {symbol!r} on venue {venue!r}; {hint}; "
        "add one with tradesim_nb.register_instrument(Instrument(...))"
    ) from None
