r"""The interface every impact law implements, and the market inputs a law may need.

An impact law prices the execution of a parent order of :math:`X` base units, split into
children :math:`n_1, \dots, n_N` (unsigned: a buy and a sell cost the same), each traded over
an interval :math:`\tau` (in the law's own time unit, :attr:`ImpactLaw.time_unit_s` seconds).
Following Almgren and Chriss [AC2000]_, a law is a *temporary* part, the extra cost of a child
while it trades, and a *permanent* part, the move of the price that stays and that every later
child pays. With :math:`x_k = X - \sum_{j \le k} n_j` the holdings after child :math:`k`, the
expected cost of the schedule against the arrival price is (paper section 1.3)

.. math::

    E = \sum_{k=1}^{N} C_{tmp}(n_k, \tau) + \sum_{k=1}^{N} x_k\, \Delta_{perm}(n_k, \tau),

with :math:`C_{tmp}(n, \tau) = n\,h(n/\tau)` (:meth:`ImpactLaw.temporary_cost`) and
:math:`\Delta_{perm}(n, \tau) = \tau\,g(n/\tau)` (:meth:`ImpactLaw.permanent_impact`). This is
:meth:`ImpactLaw.schedule_cost`; :meth:`ImpactLaw.expected_cost` prices a whole parent order
(by default the equal-child schedule, a law may state its own closed form) and
:meth:`ImpactLaw.pricer` returns a precompiled function of the market inputs for the per-tick
path of :class:`~tradesim_nb.simulator.TradeSimulator`.

Adding a law = one frozen dataclass deriving from :class:`ImpactLaw` that sets
:attr:`~ImpactLaw.kind`, :attr:`~ImpactLaw.label`, :attr:`~ImpactLaw.requires` and
:attr:`~ImpactLaw.time_unit_s`, implements :meth:`~ImpactLaw.temporary_cost`,
:meth:`~ImpactLaw.permanent_impact` and :meth:`~ImpactLaw.from_fit`, and overrides
:meth:`~ImpactLaw.expected_cost` and :meth:`~ImpactLaw.pricer` where it has a closed form;
its fit lists the class in :attr:`~tradesim_nb.impact.results.ImpactFit.law_types`, and
:class:`~tradesim_nb.simulator.TradeSimulator` then accepts the law and the fit. A law whose
children interact beyond a permanent shift (transient impact that decays between children)
overrides :meth:`~ImpactLaw.schedule_cost` with its own sum.

References
----------
.. [AC2000] R. Almgren and N. Chriss, "Optimal execution of portfolio transactions",
   Journal of Risk 3(2), 5-39 (2000).
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # pragma: no cover
    from typing import Self

    from .results import ImpactFit

__all__ = [
    "SECONDS_PER_DAY",
    "FitBound",
    "ImpactLaw",
    "MarketContext",
    "Pricer",
]

FloatArray = NDArray[np.float64]

#: seconds in the "day" of daily volume and daily volatility
SECONDS_PER_DAY = 86400.0

#: which value of each fitted parameter a law is built from
FitBound = Literal["estimate", "ci_low", "ci_high"]

#: ``f(qty_base, mid, sigma_daily, daily_volume, spread) -> expected cost (quote)``: the
#: per-tick form of :meth:`ImpactLaw.expected_cost` for a fixed horizon and schedule
Pricer = Callable[[float, float, float, float, float], float]

_MARKET_INPUTS = ("mid", "sigma_daily", "daily_volume", "spread", "shares_outstanding")


def _bad(name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is invalid: allowed range is {allowed}")


def check_number(name: str, value: object, *, lo: float = 0.0, strict: bool = False,
                 allowed: str | None = None) -> float:
    """``value`` as a float, finite and ``>= lo`` (``> lo`` when ``strict``), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise _bad(name, value, allowed or f"a finite number {'>' if strict else '>='} {lo:g}")
    v = float(value)
    if not math.isfinite(v) or (v <= lo if strict else v < lo):
        raise _bad(name, value, allowed or f"a finite number {'>' if strict else '>='} {lo:g}")
    return v


def check_periods(periods: object) -> int:
    """``periods`` as an int >= 1, else ValueError."""
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
        raise _bad("periods", periods, "an integer >= 1")
    return int(periods)


def as_array(name: str, value: ArrayLike, *, lo: float | None = None, strict: bool = False,
             allowed: str = "") -> FloatArray:
    """float64 array of ``value``; every element finite and >= lo (> lo when strict).

    The error names the first bad element's value.
    """
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _bad(name, value, allowed or "numbers") from None
    bad = ~np.isfinite(a)
    if lo is not None:
        bad |= (a <= lo) if strict else (a < lo)
    if bad.any():
        first = a.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])]
        raise _bad(name, float(first), allowed or "a finite number")
    return a


def scalar_or_array(x: FloatArray) -> Any:
    """Scalars in, Python float out; arrays in, array out."""
    return float(x) if x.ndim == 0 else x


def signed_power(x: FloatArray, p: FloatArray | float) -> FloatArray:
    """:math:`\\mathrm{sgn}(x)|x|^p` with :math:`0^p = 0`."""
    return np.sign(x) * np.abs(x) ** p


@dataclass(frozen=True, slots=True)
class MarketContext:
    """The market inputs a law may need; each is optional (NaN = not known).

    Parameters
    ----------
    mid : float
        Mid (arrival) price, quote per base unit (> 0).
    sigma_daily : float
        Volatility of the mid, a fraction of the price per square root of a day (>= 0),
        e.g. 0.02 for 2 %/day.
    daily_volume : float
        Base units traded per day (> 0).
    spread : float
        Bid-ask spread, quote per base unit (>= 0).
    shares_outstanding : float
        :math:`\\Theta` of the ATHL turnover factor (> 0); NaN leaves the factor out.
    """

    mid: float = math.nan
    sigma_daily: float = math.nan
    daily_volume: float = math.nan
    spread: float = math.nan
    shares_outstanding: float = math.nan

    def __post_init__(self) -> None:
        for name, strict in (("mid", True), ("sigma_daily", False), ("daily_volume", True),
                             ("spread", False), ("shares_outstanding", True)):
            v = getattr(self, name)
            if isinstance(v, float | int) and not isinstance(v, bool) and math.isnan(v):
                continue
            object.__setattr__(self, name, check_number(name, v, strict=strict,
                                                        allowed=f"NaN (unknown) or a finite "
                                                        f"number {'>' if strict else '>='} 0"))

    @classmethod
    def from_tick(cls, mid: float, vol_bps: float = math.nan, daily_volume: float = math.nan,
                  spread: float = math.nan) -> MarketContext:
        """From the units of a tick: volatility in bps per square root of a *second*.

        .. math:: \\sigma_{daily} = 10^{-4}\\,\\sigma_{bps}\\sqrt{86400}
        """
        return cls(mid, vol_bps * 1e-4 * math.sqrt(SECONDS_PER_DAY), daily_volume, spread)

    def has(self, name: str) -> bool:
        """True when the input ``name`` is known (not NaN)."""
        return not math.isnan(getattr(self, name))

    def require(self, names: frozenset[str], who: str) -> None:
        """ValueError naming every input of ``names`` that is not known."""
        missing = [n for n in _MARKET_INPUTS if n in names and not self.has(n)]
        if missing:
            raise ValueError(f"{who} needs market={missing} (MarketContext fields); got "
                             f"{self!r}")


_NO_MARKET = MarketContext()


class ImpactLaw(ABC):
    """What every impact law offers (see the module docstring for the cost of a schedule).

    Sizes are base units, unsigned (buys and sells cost alike); costs are in the quote
    currency (USD for a USD-quoted instrument), positive; times are in the law's time unit,
    :attr:`time_unit_s` seconds (an Almgren-Chriss :math:`\\eta` has that unit in it).

    Attributes
    ----------
    kind : str
        Short name (``"linear"``, ``"power-law"``, ``"athl"``, ``"square-root"``, ...).
    label : str
        How :class:`~tradesim_nb.simulator.CostEstimate.impact_model` names the law.
    requires : frozenset of str
        The :class:`MarketContext` fields the law's costs need (``mid``, ``sigma_daily``,
        ``daily_volume``, ``spread``).
    time_unit_s : float
        Seconds per time unit of the law's :math:`\\tau` and horizon.
    """

    __slots__ = ()

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset()
    time_unit_s: float

    # -- what a law must define ----------------------------------------------------------
    @abstractmethod
    def temporary_cost(self, n: ArrayLike, tau: float,
                       market: MarketContext | None = None) -> Any:
        """Temporary cost :math:`C_{tmp}(n, \\tau) = n\\,h(n/\\tau)` of a child of ``n`` base
        units traded over ``tau`` (quote currency; float, or an array for an array ``n``)."""

    @abstractmethod
    def permanent_impact(self, n: ArrayLike, tau: float,
                         market: MarketContext | None = None) -> Any:
        """Permanent price move :math:`\\Delta_{perm}(n, \\tau) = \\tau\\,g(n/\\tau)` left by a
        child (quote per base unit)."""

    @classmethod
    @abstractmethod
    def from_fit(cls, fit: ImpactFit, at: FitBound = "estimate") -> Self:
        """The law with the parameters of ``fit`` (its estimates, or the lower or upper
        ends of their 95 % intervals)."""

    # -- what a law gets, and may override with a closed form -------------------------------
    def schedule_cost(self, trade_list: ArrayLike, tau: float,
                      market: MarketContext | None = None) -> float:
        """Expected cost of a schedule (quote currency), the module docstring's :math:`E`.

        Parameters
        ----------
        trade_list : array_like, shape (N,)
            Child sizes :math:`n_k` (base units) in trading order, positive in the order's
            direction (a negative child trades back).
        tau : float
            Interval of one child, in the law's time unit (> 0).
        market : MarketContext, optional
            Needed by laws with :attr:`requires`.
        """
        n = as_array("trade_list", trade_list, allowed="finite child sizes")
        if n.ndim != 1 or n.size == 0:
            raise _bad("trade_list", f"array of shape {n.shape}", "a non-empty 1-d array")
        t = check_number("tau", tau, strict=True)
        x = n.sum() - np.cumsum(n)
        tmp = np.asarray(self.temporary_cost(n, t, market), dtype=np.float64)
        perm = np.asarray(self.permanent_impact(n, t, market), dtype=np.float64)
        return float(tmp.sum() + np.dot(x, perm))

    def expected_cost(self, size: float, horizon: float, market: MarketContext | None = None,
                      *, periods: int = 1, risk_aversion: float = 0.0) -> float:
        """Expected cost of a parent order of ``size`` base units over ``horizon`` (quote).

        By default the schedule of ``periods`` equal children (:meth:`schedule_cost`);
        ``risk_aversion`` other than 0 is only meaningful for laws with a mean-variance
        optimum (:class:`~tradesim_nb.impact.laws.LinearImpact`).
        """
        x = check_number("size", size)
        h = check_number("horizon", horizon, strict=True)
        n = check_periods(periods)
        self._no_risk_aversion(risk_aversion)
        return self.schedule_cost(np.full(n, x / n), h / n, market)

    def pricer(self, horizon: float, periods: int = 1, risk_aversion: float = 0.0) -> Pricer:
        """The per-tick form of :meth:`expected_cost` for a fixed horizon and schedule.

        Returns ``f(qty_base, mid, sigma_daily, daily_volume, spread) -> cost``; arguments
        the law does not :attr:`require <requires>` are ignored (pass NaN). Validates the
        horizon and schedule now, so that the function itself does no checking. Laws with a
        closed form return a closure of a few float operations.
        """
        h = check_number("horizon", horizon, strict=True)
        n = check_periods(periods)
        self._no_risk_aversion(risk_aversion)

        def price(x: float, mid: float, sigma_daily: float, daily_volume: float,
                  spread: float) -> float:
            m = MarketContext(mid, sigma_daily, daily_volume, spread)
            return self.expected_cost(x, h, m, periods=n)

        return price

    def impact_only(self) -> Self:
        """The law without a fixed cost per unit (e.g. Almgren-Chriss :math:`\\epsilon`).

        A trade simulator that prices the spread and fees separately uses this form so that
        they are not counted twice; laws without such a term return themselves.
        """
        return self

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., <parameters>}`` (JSON-ready)."""
        out: dict[str, Any] = {"kind": self.kind}
        if dataclasses.is_dataclass(self):
            out.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        return out

    # -- helpers ----------------------------------------------------------------------------
    def _market(self, market: MarketContext | None, who: str) -> MarketContext:
        m = _NO_MARKET if market is None else market
        if self.requires:
            m.require(self.requires, f"{type(self).__name__}.{who}")
        return m

    def _no_risk_aversion(self, risk_aversion: float) -> None:
        lam = check_number("risk_aversion", risk_aversion, lo=-math.inf)
        if lam != 0.0:
            raise _bad("risk_aversion", risk_aversion,
                       f"0 for {type(self).__name__} (only the linear law has a mean-variance "
                       "optimal schedule)")


def fit_value(fit: ImpactFit, name: str, at: FitBound = "estimate", *,
              default: float | None = None, lo: float = 0.0) -> float:
    """The value of parameter ``name`` in ``fit`` for :meth:`ImpactLaw.from_fit`.

    ``at="estimate"`` is the point estimate as it is (a law rejects it when it lies outside
    its allowed range). ``"ci_low"``/``"ci_high"`` are the ends of the 95 % interval cut at
    ``lo``, the parameter's allowed lower bound (an interval of a coefficient >= 0 may reach
    below 0). A parameter the fit does not have gives ``default`` (KeyError when None).
    """
    if at not in ("estimate", "ci_low", "ci_high"):
        raise _bad("at", at, "'estimate', 'ci_low' or 'ci_high'")
    if name not in fit:
        if default is None:
            raise KeyError(f"the {fit.method} fit has no parameter {name!r}")
        return float(default)
    v = float(getattr(fit[name], at))
    return v if at == "estimate" or math.isnan(v) else max(v, lo)
