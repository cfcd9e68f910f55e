r"""Market-impact laws as objects: linear Almgren-Chriss, power law, ATHL 2005, square root.

Every law derives from :class:`~tradesim_nb.impact.base.ImpactLaw` (temporary cost of a child,
permanent move, cost of a schedule, expected cost of a parent order, a per-tick pricer) and is
what a fit returns (:attr:`tradesim_nb.impact.results.ImpactFit.law`) and what
:class:`~tradesim_nb.simulator.TradeSimulator` accepts as ``impact=``.

* :class:`LinearImpact` — Almgren and Chriss [AC2000]_: :math:`h(v) = \epsilon\,\mathrm{sgn}(v)
  + \eta v`, :math:`g(v) = \gamma v`, price units; the mean-variance optimum of
  :mod:`tradesim_nb.costs.almgren_chriss`.
* :class:`RuleOfThumbImpact` — the linear law with :math:`\eta, \gamma` from the spread and the
  daily volume (the paper's rule of thumb), the simulator's default.
* :class:`PowerLawImpact` — :math:`h(v) = \eta\,\mathrm{sgn}(v)|v|^{\beta}`,
  :math:`g(v) = \gamma\,\mathrm{sgn}(v)|v|^{\alpha}`.
* :class:`ATHLImpact` — Almgren, Thum, Hauptmann and Li [ATHL2005]_ in normalised form.
* :class:`SquareRootImpact` — :math:`\Delta = Y\sigma(|Q|/V)^{\delta}` [Toth2011]_.

The vectorised functions below (:func:`temporary_impact`, :func:`athl_cost`,
:func:`sqrt_impact`, ...) are the formulas the laws evaluate; they validate their inputs
(``ValueError`` naming the parameter, the first bad value and the allowed range).

Power laws for a trading rate :math:`v` (units per time unit, signed: buy > 0, sell < 0):

.. math::

    h(v) = \eta\,\mathrm{sgn}(v)\,|v|^{\beta} \quad\text{(temporary)}, \qquad
    g(v) = \gamma\,\mathrm{sgn}(v)\,|v|^{\alpha} \quad\text{(permanent)} .

:math:`\alpha = \beta = 1` is the linear model of Almgren & Chriss (2000).

ATHL (2005) in normalised form, for an order of :math:`X` shares executed over a duration
:math:`T` (fraction of a trading day), daily volume :math:`V`, daily volatility :math:`\sigma`
and, optionally, shares outstanding :math:`\Theta`; costs are fractions of the price:

.. math::

    I = \gamma\,\sigma\,\mathrm{sgn}(X)\Big|\frac{X}{V}\Big|^{\alpha}
        \Big(\frac{\Theta}{V}\Big)^{\delta}, \qquad
    J = \frac{I}{2} + \eta\,\sigma\,\mathrm{sgn}(X)\Big|\frac{X}{V T}\Big|^{\beta} .

:math:`I` is the permanent impact, :math:`J` the realised cost of the execution (average
fill versus the pre-trade price). The paper's estimates on 2001-2003 US equities are
:math:`\gamma = 0.314`, :math:`\eta = 0.142`, :math:`\alpha = 0.891 \pm 0.10` (consistent with
1), :math:`\beta = 0.600 \pm 0.038`, :math:`\delta = 1/4` (:data:`ATHL_2005`); they are a starting
point, not a calibration for any other market. (The 3/5 exponent is stated in the paper's
abstract; the other point estimates are the commonly quoted ones and could not be re-checked
against the paper's text when this module was written.)

Square-root law: the impact of a metaorder of size :math:`Q` is

.. math:: \Delta = Y\,\sigma\,\Big(\frac{|Q|}{V}\Big)^{1/2}\mathrm{sgn}(Q)

with :math:`Y` of order one ([Toth2011]_, [Bouchaud2018]_); ``exponent`` generalises
:math:`1/2`.

References
----------
.. [ATHL2005] R. Almgren, C. Thum, E. Hauptmann and H. Li, "Direct estimation of equity market
   impact", Risk 18(7), 58-62 (2005).
.. [AC2000] R. Almgren and N. Chriss, "Optimal execution of portfolio transactions",
   Journal of Risk 3(2), 5-39 (2000).
.. [Toth2011] B. Tóth, Y. Lempérière, C. Deremble, J. de Lataillade, J. Kockelkoren and
   J.-P. Bouchaud, "Anomalous price impact and the critical nature of liquidity in financial
   markets", Physical Review X 1, 021006 (2011).
.. [Bouchaud2018] J.-P. Bouchaud, J. Bonart, J. Donier and M. Gould, *Trades, Quotes and
   Prices*, Cambridge University Press (2018), ch. 12.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .base import (
    SECONDS_PER_DAY,
    FitBound,
    ImpactLaw,
    MarketContext,
    Pricer,
    as_array,
    check_number,
    check_periods,
    fit_value,
    scalar_or_array,
    signed_power,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..costs.almgren_chriss import ACParams, ACSolution
    from .results import ImpactFit

__all__ = [
    "ATHL_2005",
    "ATHLImpact",
    "ATHLParams",
    "LinearImpact",
    "PowerLawImpact",
    "RuleOfThumbImpact",
    "SquareRootImpact",
    "athl_cost",
    "athl_permanent",
    "athl_permanent_unit",
    "athl_temporary",
    "athl_temporary_unit",
    "permanent_impact",
    "sqrt_impact",
    "temporary_impact",
]

log = logging.getLogger(__name__)

_AC_CACHE_MAX = 4096


# ---------------------------------------------------------------------------------------
# the formulas, vectorised
# ---------------------------------------------------------------------------------------
def temporary_impact(rate: ArrayLike, eta: ArrayLike, beta: ArrayLike = 1.0) -> Any:
    r"""Temporary impact :math:`h(v) = \eta\,\mathrm{sgn}(v)|v|^\beta` (price per unit).

    Parameters
    ----------
    rate : array_like
        Signed trading rate :math:`v` (units per time unit).
    eta : array_like
        Coefficient, >= 0.
    beta : array_like
        Exponent, > 0 (1 = Almgren-Chriss linear; about 0.6 in ATHL (2005)).

    Returns
    -------
    float or ndarray
        :math:`h(v)`, price per unit.
    """
    v = as_array("rate", rate, allowed="finite numbers")
    e = as_array("eta", eta, lo=0.0, allowed="eta >= 0")
    b = as_array("beta", beta, lo=0.0, strict=True, allowed="beta > 0")
    return scalar_or_array(e * signed_power(v, b))


def permanent_impact(rate: ArrayLike, gamma: ArrayLike, alpha: ArrayLike = 1.0) -> Any:
    r"""Permanent impact :math:`g(v) = \gamma\,\mathrm{sgn}(v)|v|^\alpha` (price per time unit).

    Parameters
    ----------
    rate : array_like
        Signed trading rate :math:`v`.
    gamma : array_like
        Coefficient, >= 0.
    alpha : array_like
        Exponent, > 0 (1 is the only value without dynamic arbitrage, Almgren and Chriss (2000)).

    Returns
    -------
    float or ndarray
        :math:`g(v)`, price per time unit.
    """
    v = as_array("rate", rate, allowed="finite numbers")
    g = as_array("gamma", gamma, lo=0.0, allowed="gamma >= 0")
    a = as_array("alpha", alpha, lo=0.0, strict=True, allowed="alpha > 0")
    return scalar_or_array(g * signed_power(v, a))


def athl_permanent(size: ArrayLike, adv: ArrayLike, sigma: ArrayLike, gamma: ArrayLike,
                   alpha: ArrayLike = 1.0, *, shares_outstanding: ArrayLike | None = None,
                   delta: ArrayLike = 0.25) -> Any:
    r"""ATHL permanent impact :math:`I = \gamma\sigma\,\mathrm{sgn}(X)|X/V|^\alpha(\Theta/V)^\delta`.

    Parameters
    ----------
    size : array_like
        :math:`X`, signed order size (buy > 0), in the units of ``adv``.
    adv : array_like
        :math:`V`, average daily volume, > 0.
    sigma : array_like
        Daily volatility (fraction of price), >= 0.
    gamma : array_like
        >= 0 (0.314 in ATHL (2005)).
    alpha : array_like
        > 0 (1 by default; 0.891 +- 0.10 estimated in ATHL (2005)).
    shares_outstanding : array_like, optional
        :math:`\Theta`, > 0. When given, the factor :math:`(\Theta/V)^\delta` is applied.
    delta : array_like
        Exponent of the turnover factor, 1/4 in ATHL (2005).

    Returns
    -------
    float or ndarray
        Fraction of the pre-trade price (multiply by 1e4 for bps).
    """
    x = as_array("size", size, allowed="finite numbers")
    v = as_array("adv", adv, lo=0.0, strict=True, allowed="adv > 0")
    s = as_array("sigma", sigma, lo=0.0, allowed="sigma >= 0")
    g = as_array("gamma", gamma, lo=0.0, allowed="gamma >= 0")
    a = as_array("alpha", alpha, lo=0.0, strict=True, allowed="alpha > 0")
    turnover = None
    if shares_outstanding is not None:
        th = as_array("shares_outstanding", shares_outstanding, lo=0.0, strict=True,
                      allowed="shares_outstanding > 0")
        d = as_array("delta", delta, lo=0.0, allowed="delta >= 0")
        turnover = (th / v) ** d
    return scalar_or_array(g * athl_permanent_unit(x / v, s, a, turnover))


def athl_temporary(size: ArrayLike, adv: ArrayLike, duration: ArrayLike, sigma: ArrayLike,
                   eta: ArrayLike, beta: ArrayLike = 0.6) -> Any:
    r"""ATHL temporary component :math:`K = \eta\sigma\,\mathrm{sgn}(X)|X/(VT)|^\beta`.

    Parameters
    ----------
    size : array_like
        :math:`X`, signed order size.
    adv : array_like
        :math:`V`, daily volume, > 0.
    duration : array_like
        :math:`T`, execution time in days (fraction of a trading day), > 0.
    sigma : array_like
        Daily volatility (fraction of price), >= 0.
    eta : array_like
        >= 0 (0.142 in ATHL (2005)).
    beta : array_like
        > 0 (0.6 in ATHL (2005)).

    Returns
    -------
    float or ndarray
        Fraction of price. The realised cost is :math:`J = I/2 + K` (:func:`athl_cost`).
    """
    x = as_array("size", size, allowed="finite numbers")
    v = as_array("adv", adv, lo=0.0, strict=True, allowed="adv > 0")
    t = as_array("duration", duration, lo=0.0, strict=True, allowed="duration > 0 (days)")
    s = as_array("sigma", sigma, lo=0.0, allowed="sigma >= 0")
    e = as_array("eta", eta, lo=0.0, allowed="eta >= 0")
    b = as_array("beta", beta, lo=0.0, strict=True, allowed="beta > 0")
    return scalar_or_array(e * athl_temporary_unit(x / (v * t), s, b))


def athl_permanent_unit(xv: Any, sigma: Any, alpha: Any, turnover: Any = None) -> Any:
    r""":math:`I/\gamma = \sigma\,\mathrm{sgn}(x)|x|^\alpha(\Theta/V)^\delta` for
    :math:`x = X/V`, unvalidated: the formula of :func:`athl_permanent` and of the ATHL fit's
    inner loop (``turnover`` = :math:`(\Theta/V)^\delta`, None for 1)."""
    out = sigma * signed_power(xv, alpha)
    return out if turnover is None else out * turnover


def athl_temporary_unit(rate: Any, sigma: Any, beta: Any) -> Any:
    r""":math:`K/\eta = \sigma\,\mathrm{sgn}(r)|r|^\beta` for :math:`r = X/(VT)`, unvalidated:
    the formula of :func:`athl_temporary` and of the ATHL fit's inner loop."""
    return sigma * signed_power(rate, beta)


def athl_cost(size: ArrayLike, adv: ArrayLike, duration: ArrayLike, sigma: ArrayLike,
              gamma: ArrayLike = 0.314, eta: ArrayLike = 0.142, alpha: ArrayLike = 1.0,
              beta: ArrayLike = 0.6, *, shares_outstanding: ArrayLike | None = None,
              delta: ArrayLike = 0.25) -> Any:
    r"""ATHL realised cost :math:`J = I/2 + \eta\sigma\,\mathrm{sgn}(X)|X/(VT)|^\beta`.

    Defaults are the published estimates of ATHL (2005) (US equities), see
    :data:`ATHL_2005`. Arguments as in :func:`athl_permanent` and :func:`athl_temporary`.

    Returns
    -------
    float or ndarray
        Signed fraction of the pre-trade price (a cost for both buys and sells when
        multiplied by ``sign(size)``).
    """
    i = athl_permanent(size, adv, sigma, gamma, alpha, shares_outstanding=shares_outstanding,
                       delta=delta)
    k = athl_temporary(size, adv, duration, sigma, eta, beta)
    return scalar_or_array(np.asarray(0.5 * np.asarray(i) + np.asarray(k), dtype=np.float64))


def sqrt_impact(size: ArrayLike, adv: ArrayLike, sigma: ArrayLike, Y: ArrayLike = 1.0,
                exponent: ArrayLike = 0.5) -> Any:
    r"""Square-root law :math:`\Delta = Y\sigma\,\mathrm{sgn}(Q)(|Q|/V)^{\text{exponent}}`.

    Parameters
    ----------
    size : array_like
        :math:`Q`, signed metaorder size, in the units of ``adv``.
    adv : array_like
        :math:`V`, daily volume, > 0.
    sigma : array_like
        Daily volatility (fraction of price), >= 0.
    Y : array_like
        Prefactor, >= 0; of order 1 empirically (Tóth et al. (2011), Bouchaud et al. (2018)).
    exponent : array_like
        > 0; 1/2 is the square-root law.

    Returns
    -------
    float or ndarray
        Fraction of the pre-trade price.
    """
    q = as_array("size", size, allowed="finite numbers")
    v = as_array("adv", adv, lo=0.0, strict=True, allowed="adv > 0")
    s = as_array("sigma", sigma, lo=0.0, allowed="sigma >= 0")
    y = as_array("Y", Y, lo=0.0, allowed="Y >= 0")
    e = as_array("exponent", exponent, lo=0.0, strict=True, allowed="exponent > 0")
    return scalar_or_array(y * s * signed_power(q / v, e))


def _pos(name: str, value: float, *, strict: bool, allowed: str) -> float:
    return check_number(name, value, strict=strict, allowed=allowed)


def _tau(tau: float) -> float:
    return check_number("tau", tau, strict=True, allowed="tau > 0 (the law's time unit)")


def _children(n: ArrayLike) -> Any:
    return as_array("n", n, allowed="finite child sizes (base units)")


# ---------------------------------------------------------------------------------------
# Almgren-Chriss linear
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LinearImpact(ImpactLaw):
    r"""The linear impact of Almgren and Chriss Almgren and Chriss (2000) in price units.

    .. math::

        h(v) = \epsilon\,\mathrm{sgn}(v) + \eta\,v, \qquad g(v) = \gamma\,v,

    so a child of :math:`n` units traded over :math:`\tau` costs
    :math:`C_{tmp} = \epsilon|n| + \eta n^2/\tau` and moves the price by :math:`\gamma n` for
    good. A schedule costs (paper eq. 8)

    .. math::

        E = \tfrac12\gamma X^2 + \epsilon\sum_k|n_k| + \frac{\tilde\eta}{\tau}\sum_k n_k^2,
        \qquad \tilde\eta = \eta - \tfrac12\gamma\tau,

    and the expected cost of a parent order is that of the mean-variance optimal schedule of
    :func:`~tradesim_nb.costs.almgren_chriss.optimal_execution` (for :math:`\lambda = 0` the
    equal-child schedule, :math:`E = \epsilon X + X^2(\eta/T + \tfrac12\gamma(1 - 1/N))`).

    Parameters
    ----------
    eta : float
        Temporary impact, quote x time unit / base^2 (>= 0; the optimum needs > 0).
    gamma : float
        Permanent impact, quote per base unit traded (>= 0).
    epsilon : float
        Fixed cost per unit, quote (half spread plus fees; >= 0).
    time_unit_s : float
        Seconds per time unit of :math:`\eta` and of the horizon (> 0); 1 for the fits of
        recordings (seconds), the market's unit for the synthetic market.
    """

    eta: float
    gamma: float = 0.0
    epsilon: float = 0.0
    time_unit_s: float = 1.0

    kind = "linear"
    label = "almgren-chriss"

    def __post_init__(self) -> None:
        for name in ("eta", "gamma", "epsilon"):
            object.__setattr__(self, name, _pos(name, getattr(self, name), strict=False,
                                                allowed=f"{name} >= 0"))
        object.__setattr__(self, "time_unit_s", _pos("time_unit_s", self.time_unit_s,
                                                     strict=True, allowed="time_unit_s > 0"))

    def temporary_cost(self, n: ArrayLike, tau: float,
                       market: MarketContext | None = None) -> Any:
        r""":math:`\epsilon|n| + \eta n^2/\tau` (quote)."""
        a = _children(n)
        return scalar_or_array(self.epsilon * np.abs(a) + self.eta * a * a / _tau(tau))

    def permanent_impact(self, n: ArrayLike, tau: float,
                         market: MarketContext | None = None) -> Any:
        r""":math:`\gamma n` (quote per base unit)."""
        _tau(tau)
        return scalar_or_array(self.gamma * _children(n))

    def schedule_cost(self, trade_list: ArrayLike, tau: float,
                      market: MarketContext | None = None) -> float:
        r""":math:`E = \tfrac12\gamma X^2 + \epsilon\sum|n_k| + (\tilde\eta/\tau)\sum n_k^2`
        with :math:`X = \sum n_k` (paper eq. 8; equal to the generic sum of the interface)."""
        n = as_array("trade_list", trade_list, allowed="finite child sizes")
        if n.ndim != 1 or n.size == 0:
            raise ValueError(f"trade_list=array of shape {n.shape} is invalid: allowed range "
                             "is a non-empty 1-d array")
        t = _tau(tau)
        x = float(n.sum())
        return float(0.5 * self.gamma * x * x + self.epsilon * np.abs(n).sum()
                     + (self.eta - 0.5 * self.gamma * t) / t * np.dot(n, n))

    def ac_params(self, size: float, horizon: float, periods: int = 1, sigma: float = 0.0,
                  risk_aversion: float = 0.0) -> ACParams:
        """The Almgren-Chriss problem of a parent order under this law.

        Parameters
        ----------
        size : float
            Base units (> 0).
        horizon : float
            In the law's time unit (> 0).
        periods : int
            Number of children (>= 1).
        sigma : float
            Volatility of the price, quote per square root of the law's time unit (>= 0).
        risk_aversion : float
            :math:`\\lambda` per quote unit.

        Returns
        -------
        ACParams
            Raises ValueError (from ACParams) when the problem is not valid, e.g.
            :math:`\\tilde\\eta \\le 0`.
        """
        from ..costs.almgren_chriss import ACParams

        return ACParams(size=size, horizon=horizon, periods=periods, sigma=sigma,
                        epsilon=self.epsilon, eta=self.eta, gamma=self.gamma,
                        risk_aversion=risk_aversion)

    def optimal_schedule(self, size: float, horizon: float, periods: int = 1,
                         sigma: float = 0.0, risk_aversion: float = 0.0) -> ACSolution:
        """The mean-variance optimal schedule (:func:`~tradesim_nb.costs.almgren_chriss.
        optimal_execution`) of :meth:`ac_params`."""
        from ..costs.almgren_chriss import optimal_execution

        return optimal_execution(self.ac_params(size, horizon, periods, sigma, risk_aversion))

    def sigma_price(self, market: MarketContext | None) -> float:
        r"""The price volatility per square root of the law's time unit,
        :math:`S\,\sigma_{daily}\sqrt{u/86400}`; 0 when the market does not say."""
        if market is None or not (market.has("mid") and market.has("sigma_daily")):
            return 0.0
        return market.mid * market.sigma_daily * math.sqrt(self.time_unit_s / SECONDS_PER_DAY)

    def expected_cost(self, size: float, horizon: float, market: MarketContext | None = None,
                      *, periods: int = 1, risk_aversion: float = 0.0) -> float:
        r"""Expected cost of the optimal schedule of ``size`` over ``horizon`` in ``periods``.

        :math:`\lambda = 0`: :math:`E = \epsilon X + X^2(\eta/T + \tfrac12\gamma(1 - 1/N))`.
        Otherwise :func:`~tradesim_nb.costs.almgren_chriss.optimal_execution` with the
        price volatility of :meth:`sigma_price` (``market.mid`` and ``market.sigma_daily``
        needed). ValueError when the Almgren-Chriss problem is not valid.
        """
        x = check_number("size", size)
        lam = check_number("risk_aversion", risk_aversion, lo=-math.inf)
        sigma = self.sigma_price(market) if lam != 0.0 else 0.0
        if lam != 0.0 and not sigma > 0:
            raise ValueError(f"risk_aversion={risk_aversion!r} needs the volatility: "
                             "market.mid and market.sigma_daily")
        p = self.ac_params(1.0, horizon, periods, sigma, lam)  # validates the problem
        if x == 0.0:
            return 0.0
        if lam == 0.0:
            return self.epsilon * x + x * x * (self.eta / p.horizon
                                               + 0.5 * self.gamma * (1.0 - 1.0 / p.periods))
        return self.optimal_schedule(x, p.horizon, p.periods, sigma, lam).expected_cost

    def pricer(self, horizon: float, periods: int = 1, risk_aversion: float = 0.0) -> Pricer:
        r"""Per-tick expected cost: :math:`(\epsilon + c\,x)\,x`.

        :math:`\lambda = 0`: :math:`c = \eta/T + \tfrac12\gamma(1 - 1/N)`, fixed. With
        :math:`\lambda > 0` the unit cost :math:`c` (the optimum's :math:`E` at :math:`X = 1`,
        :math:`\epsilon = 0`; :math:`E` is :math:`\epsilon X + c X^2` because :math:`\kappa`
        does not depend on :math:`X`) is solved once per price volatility rounded to 3
        significant digits and cached (a solve costs about 0.3 ms).
        """
        lam = check_number("risk_aversion", risk_aversion, allowed="risk_aversion >= 0")
        p = self.ac_params(1.0, horizon, periods, 0.0, 0.0)  # validates eta_tilde > 0 now
        eps = self.epsilon
        if lam == 0.0:
            c = self.eta / p.horizon + 0.5 * self.gamma * (1.0 - 1.0 / p.periods)

            def price(x: float, mid: float, sigma_daily: float, daily_volume: float,
                      spread: float) -> float:
                return (eps + c * x) * x

            return price
        unit = dataclasses.replace(self, epsilon=0.0)
        k = math.sqrt(self.time_unit_s / SECONDS_PER_DAY)
        cache: dict[float, float] = {}

        def price_risk(x: float, mid: float, sigma_daily: float, daily_volume: float,
                       spread: float) -> float:
            key = float(f"{mid * sigma_daily * k:.3g}")
            c = cache.get(key)
            if c is None:
                c = unit.optimal_schedule(1.0, p.horizon, p.periods, key, lam).expected_cost
                if len(cache) > _AC_CACHE_MAX:
                    cache.clear()
                cache[key] = c
            return (eps + c * x) * x

        return price_risk

    def impact_only(self) -> LinearImpact:
        """The law with :math:`\\epsilon = 0`."""
        return self if self.epsilon == 0.0 else dataclasses.replace(self, epsilon=0.0)

    @classmethod
    def from_fit(cls, fit: ImpactFit, at: FitBound = "estimate") -> LinearImpact:
        """``eta``, ``gamma`` and (when fitted) ``epsilon`` of ``fit``; the time unit from
        its ``info["time_unit_s"]`` (1 s when absent)."""
        info = dict(fit.info)
        return cls(eta=fit_value(fit, "eta", at), gamma=fit_value(fit, "gamma", at),
                   epsilon=fit_value(fit, "epsilon", at, default=0.0),
                   time_unit_s=float(info.get("time_unit_s", 1.0)))


@dataclass(frozen=True, slots=True)
class RuleOfThumbImpact(ImpactLaw):
    r"""Linear Almgren-Chriss impact with :math:`\eta, \gamma` from the spread :math:`s` and the
    daily volume :math:`V` Almgren and Chriss (2000) (section 4.1's rule of thumb).

    Trading a share ``temporary_share`` of the daily volume per day costs one spread, and a
    share ``permanent_share`` of it moves the price for good by one spread:

    .. math::

        \eta = \frac{s}{f_{tmp} V}\cdot\frac{86400}{u}, \qquad
        \gamma = \frac{s}{f_{perm} V}

    (:math:`u` = ``time_unit_s``; :math:`\eta` per base unit per time unit). Given ``eta`` or
    ``gamma`` override the rule for that coefficient. :meth:`resolve` gives the
    :class:`LinearImpact` of a market. On a one-tick market such as Binance BTCUSDT the rule
    gives a very small impact; a calibrated law is the real estimate.

    Parameters
    ----------
    eta, gamma : float or None
        Fixed coefficients (> 0 and >= 0), None = from the rule.
    temporary_share, permanent_share : float
        :math:`f_{tmp}` (default 0.01) and :math:`f_{perm}` (default 0.1), in (0, 1].
    time_unit_s : float
        Seconds per time unit (> 0), 1 by default.
    """

    eta: float | None = None
    gamma: float | None = None
    temporary_share: float = 0.01
    permanent_share: float = 0.1
    time_unit_s: float = 1.0

    kind = "rule-of-thumb"
    label = "almgren-chriss, rule-of-thumb eta/gamma"
    requires = frozenset({"spread", "daily_volume"})

    def __post_init__(self) -> None:
        if self.eta is not None:
            object.__setattr__(self, "eta", _pos("eta", self.eta, strict=True,
                                                 allowed="eta > 0 (or None)"))
        if self.gamma is not None:
            object.__setattr__(self, "gamma", _pos("gamma", self.gamma, strict=False,
                                                   allowed="gamma >= 0 (or None)"))
        for name in ("temporary_share", "permanent_share"):
            v = _pos(name, getattr(self, name), strict=True, allowed=f"0 < {name} <= 1")
            if v > 1.0:
                raise ValueError(f"{name}={v!r} is invalid: allowed range is 0 < {name} <= 1")
            object.__setattr__(self, name, v)
        object.__setattr__(self, "time_unit_s", _pos("time_unit_s", self.time_unit_s,
                                                     strict=True, allowed="time_unit_s > 0"))

    @property
    def _k_eta(self) -> float:
        return SECONDS_PER_DAY / (self.temporary_share * self.time_unit_s)

    def resolve(self, market: MarketContext | None) -> LinearImpact:
        """The linear law on a market with a known ``spread`` and ``daily_volume``."""
        m = self._market(market, "resolve")
        s, v = m.spread, m.daily_volume
        eta = self.eta if self.eta is not None else s / v * self._k_eta
        gamma = self.gamma if self.gamma is not None else s / (self.permanent_share * v)
        return LinearImpact(eta=eta, gamma=gamma, epsilon=0.0, time_unit_s=self.time_unit_s)

    def temporary_cost(self, n: ArrayLike, tau: float,
                       market: MarketContext | None = None) -> Any:
        """:meth:`LinearImpact.temporary_cost` of :meth:`resolve`."""
        return self.resolve(market).temporary_cost(n, tau)

    def permanent_impact(self, n: ArrayLike, tau: float,
                         market: MarketContext | None = None) -> Any:
        """:meth:`LinearImpact.permanent_impact` of :meth:`resolve`."""
        return self.resolve(market).permanent_impact(n, tau)

    def schedule_cost(self, trade_list: ArrayLike, tau: float,
                      market: MarketContext | None = None) -> float:
        """:meth:`LinearImpact.schedule_cost` of :meth:`resolve`."""
        return self.resolve(market).schedule_cost(trade_list, tau)

    def expected_cost(self, size: float, horizon: float, market: MarketContext | None = None,
                      *, periods: int = 1, risk_aversion: float = 0.0) -> float:
        """:meth:`LinearImpact.expected_cost` of :meth:`resolve`."""
        return self.resolve(market).expected_cost(size, horizon, market, periods=periods,
                                                  risk_aversion=risk_aversion)

    def pricer(self, horizon: float, periods: int = 1, risk_aversion: float = 0.0) -> Pricer:
        r"""Per-tick cost :math:`(\eta B + \gamma A)\,x^2` with :math:`\eta, \gamma` from the
        tick's spread and daily volume, :math:`B = 1/T`, :math:`A = \tfrac12(1 - 1/N)`
        (:math:`\lambda = 0`). With :math:`\lambda > 0` the unit cost is solved per
        :math:`(\eta, \gamma, \sigma)` rounded to 3 significant digits and cached; a tick
        whose rounded parameters make no valid problem costs NaN (logged)."""
        h = check_number("horizon", horizon, strict=True)
        n = check_periods(periods)
        lam = check_number("risk_aversion", risk_aversion, allowed="risk_aversion >= 0")
        if self.eta is not None and self.gamma is not None:
            LinearImpact(self.eta, self.gamma, 0.0, self.time_unit_s).ac_params(1.0, h, n)
        b = 1.0 / h
        a = 0.5 * (1.0 - 1.0 / n)
        ke = self._k_eta
        kg = 1.0 / self.permanent_share
        fixed_eta, fixed_gamma = self.eta, self.gamma
        if lam == 0.0:
            if fixed_eta is None and fixed_gamma is None:
                c = ke * b + kg * a

                def price(x: float, mid: float, sigma_daily: float, daily_volume: float,
                          spread: float) -> float:
                    return spread / daily_volume * c * x * x

                return price

            def price_mixed(x: float, mid: float, sigma_daily: float, daily_volume: float,
                            spread: float) -> float:
                eta = fixed_eta if fixed_eta is not None else spread / daily_volume * ke
                gamma = fixed_gamma if fixed_gamma is not None else spread / daily_volume * kg
                return (eta * b + gamma * a) * x * x

            return price_mixed
        k_sig = math.sqrt(self.time_unit_s / SECONDS_PER_DAY)
        cache: dict[tuple[float, float, float], float] = {}
        u = self.time_unit_s

        def price_risk(x: float, mid: float, sigma_daily: float, daily_volume: float,
                       spread: float) -> float:
            eta = fixed_eta if fixed_eta is not None else spread / daily_volume * ke
            gamma = fixed_gamma if fixed_gamma is not None else spread / daily_volume * kg
            key = (float(f"{eta:.3g}"), float(f"{gamma:.3g}"),
                   float(f"{mid * sigma_daily * k_sig:.3g}"))
            c = cache.get(key)
            if c is None:
                try:
                    c = LinearImpact(key[0], key[1], 0.0, u).optimal_schedule(
                        1.0, h, n, key[2], lam).expected_cost
                except ValueError as e:
                    log.warning("impact parameters rejected by Almgren-Chriss: %s", e)
                    c = math.nan
                if len(cache) > _AC_CACHE_MAX:
                    cache.clear()
                cache[key] = c
            return c * x * x

        return price_risk

    @classmethod
    def from_fit(cls, fit: ImpactFit, at: FitBound = "estimate") -> RuleOfThumbImpact:
        """Not fitted: a fit gives a :class:`LinearImpact` instead (ValueError)."""
        raise ValueError("the rule of thumb is not fitted; LinearImpact.from_fit builds the "
                         "linear law of a fit")


# ---------------------------------------------------------------------------------------
# power law
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PowerLawImpact(ImpactLaw):
    r"""Temporary :math:`h(v) = \eta\,\mathrm{sgn}(v)|v|^\beta` and permanent
    :math:`g(v) = \gamma\,\mathrm{sgn}(v)|v|^\alpha` impact, validated.

    A child of :math:`n` units over :math:`\tau` costs :math:`n\,h(n/\tau)` and moves the price
    by :math:`\tau g(n/\tau)`; a parent order of :math:`X` in :math:`N` equal children over
    :math:`T` costs

    .. math::

        E = \eta X\Big(\frac{X}{T}\Big)^{\beta}
            + \tfrac12\gamma\tau(N-1)\,X\Big(\frac{X}{T}\Big)^{\alpha},\qquad \tau = T/N .

    Parameters
    ----------
    eta, gamma : float
        >= 0.
    beta, alpha : float
        > 0; ``PowerLawImpact(eta, 1.0, gamma, 1.0)`` is the Almgren-Chriss linear model.
    time_unit_s : float
        Seconds per time unit of the rate (> 0).
    """

    eta: float
    beta: float = 1.0
    gamma: float = 0.0
    alpha: float = 1.0
    time_unit_s: float = 1.0

    kind = "power-law"
    label = "power-law"

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta", _pos("eta", self.eta, strict=False, allowed="eta >= 0"))
        object.__setattr__(self, "beta", _pos("beta", self.beta, strict=True,
                                              allowed="beta > 0"))
        object.__setattr__(self, "gamma", _pos("gamma", self.gamma, strict=False,
                                               allowed="gamma >= 0"))
        object.__setattr__(self, "alpha", _pos("alpha", self.alpha, strict=True,
                                               allowed="alpha > 0"))
        object.__setattr__(self, "time_unit_s", _pos("time_unit_s", self.time_unit_s,
                                                     strict=True, allowed="time_unit_s > 0"))

    def temporary(self, rate: ArrayLike) -> Any:
        """:math:`h(v)`, see :func:`temporary_impact`."""
        return temporary_impact(rate, self.eta, self.beta)

    def permanent(self, rate: ArrayLike) -> Any:
        """:math:`g(v)`, see :func:`permanent_impact`."""
        return permanent_impact(rate, self.gamma, self.alpha)

    def temporary_cost(self, n: ArrayLike, tau: float,
                       market: MarketContext | None = None) -> Any:
        r""":math:`n\,h(n/\tau)` (quote)."""
        a = _children(n)
        t = _tau(tau)
        return scalar_or_array(a * self.eta * signed_power(a / t, self.beta))

    def permanent_impact(self, n: ArrayLike, tau: float,
                         market: MarketContext | None = None) -> Any:
        r""":math:`\tau\,g(n/\tau)` (quote per base unit)."""
        a = _children(n)
        t = _tau(tau)
        return scalar_or_array(t * self.gamma * signed_power(a / t, self.alpha))

    def expected_cost(self, size: float, horizon: float, market: MarketContext | None = None,
                      *, periods: int = 1, risk_aversion: float = 0.0) -> float:
        """The closed form of the class docstring (equal children)."""
        return self.pricer(horizon, periods, risk_aversion)(
            check_number("size", size), math.nan, math.nan, math.nan, math.nan)

    def pricer(self, horizon: float, periods: int = 1, risk_aversion: float = 0.0) -> Pricer:
        """The closed form of the class docstring as a function of the size."""
        h = check_number("horizon", horizon, strict=True)
        n = check_periods(periods)
        self._no_risk_aversion(risk_aversion)
        eta, beta, alpha = self.eta, self.beta, self.alpha
        cg = 0.5 * self.gamma * (h / n) * (n - 1)

        def price(x: float, mid: float, sigma_daily: float, daily_volume: float,
                  spread: float) -> float:
            r = x / h
            return eta * x * r**beta + cg * x * r**alpha

        return price

    @classmethod
    def from_fit(cls, fit: ImpactFit, at: FitBound = "estimate") -> PowerLawImpact:
        """``eta``, ``gamma`` and the exponents ``beta``, ``alpha`` (1 when not fitted)."""
        info = dict(fit.info)
        return cls(eta=fit_value(fit, "eta", at), beta=fit_value(fit, "beta", at, default=1.0),
                   gamma=fit_value(fit, "gamma", at, default=0.0),
                   alpha=fit_value(fit, "alpha", at, default=1.0),
                   time_unit_s=float(info.get("time_unit_s", 1.0)))


# ---------------------------------------------------------------------------------------
# ATHL 2005
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ATHLImpact(ImpactLaw):
    r"""The Almgren-Thum-Hauptmann-Li (2005) impact model ATHL (2005); :meth:`cost` evaluates
    :math:`J`.

    In quote units for an arrival price :math:`S` (the module docstring's :math:`I, J` are
    fractions of it), time in days:

    .. math::

        C_{tmp}(n, \tau) = S\,n\,\eta\sigma\Big|\frac{n}{V\tau}\Big|^{\beta},\qquad
        \Delta_{perm}(n) = S\,\gamma\sigma\,\mathrm{sgn}(n)\Big|\frac{n}{V}\Big|^{\alpha}
                           \Big(\frac{\Theta}{V}\Big)^{\delta},

    and a parent order of :math:`X` traded at a constant rate over :math:`T` days costs the
    paper's :math:`E = S X J(X, T)` (:meth:`expected_cost`; ATHL is a continuous-trading model:
    :meth:`schedule_cost` of :math:`N` equal children tends to it as :math:`N` grows, its
    permanent part being :math:`\tfrac12 I (1 - 1/N)`). Per child, the permanent term is
    additive only for :math:`\alpha = 1`. Needs ``mid``, ``sigma_daily`` (fraction per
    sqrt(day)) and ``daily_volume`` of a :class:`~tradesim_nb.impact.base.MarketContext`;
    :math:`\Theta` = ``shares_outstanding`` when it is given.

    Parameters
    ----------
    gamma, eta : float
        >= 0.
    alpha, beta : float
        > 0.
    delta : float
        >= 0, exponent of :math:`\Theta/V` (used only when shares outstanding are given).
    """

    gamma: float = 0.314
    eta: float = 0.142
    alpha: float = 1.0
    beta: float = 0.6
    delta: float = 0.25

    kind = "athl"
    label = "athl-2005"
    requires = frozenset({"mid", "sigma_daily", "daily_volume"})
    time_unit_s = SECONDS_PER_DAY

    def __post_init__(self) -> None:
        for name, strict in (("gamma", False), ("eta", False), ("alpha", True),
                             ("beta", True), ("delta", False)):
            object.__setattr__(self, name, _pos(name, getattr(self, name), strict=strict,
                                                allowed=f"{name} {'>' if strict else '>='} 0"))

    def permanent(self, size: ArrayLike, adv: ArrayLike, sigma: ArrayLike,
                  shares_outstanding: ArrayLike | None = None) -> Any:
        """:math:`I`, see :func:`athl_permanent`."""
        return athl_permanent(size, adv, sigma, self.gamma, self.alpha,
                              shares_outstanding=shares_outstanding, delta=self.delta)

    def temporary(self, size: ArrayLike, adv: ArrayLike, duration: ArrayLike,
                  sigma: ArrayLike) -> Any:
        r""":math:`\eta\sigma|X/(VT)|^\beta`, see :func:`athl_temporary`."""
        return athl_temporary(size, adv, duration, sigma, self.eta, self.beta)

    def cost(self, size: ArrayLike, adv: ArrayLike, duration: ArrayLike, sigma: ArrayLike,
             shares_outstanding: ArrayLike | None = None) -> Any:
        """:math:`J = I/2 + K`, see :func:`athl_cost`."""
        return athl_cost(size, adv, duration, sigma, self.gamma, self.eta, self.alpha,
                         self.beta, shares_outstanding=shares_outstanding, delta=self.delta)

    @staticmethod
    def _theta(m: MarketContext) -> float | None:
        return m.shares_outstanding if m.has("shares_outstanding") else None

    def temporary_cost(self, n: ArrayLike, tau: float,
                       market: MarketContext | None = None) -> Any:
        r""":math:`S\,n\,\eta\sigma|n/(V\tau)|^\beta` (quote), ``tau`` in days."""
        m = self._market(market, "temporary_cost")
        a = _children(n)
        return scalar_or_array(m.mid * a * np.asarray(
            self.temporary(a, m.daily_volume, _tau(tau), m.sigma_daily)))

    def permanent_impact(self, n: ArrayLike, tau: float,
                         market: MarketContext | None = None) -> Any:
        r""":math:`S\,I(n)` (quote per base unit)."""
        m = self._market(market, "permanent_impact")
        _tau(tau)
        return scalar_or_array(m.mid * np.asarray(
            self.permanent(_children(n), m.daily_volume, m.sigma_daily, self._theta(m))))

    def expected_cost(self, size: float, horizon: float, market: MarketContext | None = None,
                      *, periods: int = 1, risk_aversion: float = 0.0) -> float:
        r""":math:`S X J(X, T)` with :math:`T` = ``horizon`` in days (``periods`` is checked
        but not used: the model trades continuously)."""
        m = self._market(market, "expected_cost")
        x = check_number("size", size)
        h = check_number("horizon", horizon, strict=True)
        check_periods(periods)
        self._no_risk_aversion(risk_aversion)
        return float(m.mid * x * self.cost(x, m.daily_volume, h, m.sigma_daily, self._theta(m)))

    def pricer(self, horizon: float, periods: int = 1, risk_aversion: float = 0.0) -> Pricer:
        r""":math:`S x\,\sigma(\tfrac12\gamma(x/V)^\alpha + \eta(x/(VT))^\beta)` per tick."""
        h = check_number("horizon", horizon, strict=True)
        check_periods(periods)
        self._no_risk_aversion(risk_aversion)
        g2, eta, alpha, beta = 0.5 * self.gamma, self.eta, self.alpha, self.beta

        def price(x: float, mid: float, sigma_daily: float, daily_volume: float,
                  spread: float) -> float:
            r = x / daily_volume
            return mid * x * sigma_daily * (g2 * r**alpha + eta * (r / h) ** beta)

        return price

    @classmethod
    def from_fit(cls, fit: ImpactFit, at: FitBound = "estimate") -> ATHLImpact:
        """``gamma``, ``eta``, ``alpha``, ``beta`` of ``fit``; ``delta`` from its info."""
        info = dict(fit.info)
        delta = info.get("delta")
        return cls(gamma=fit_value(fit, "gamma", at), eta=fit_value(fit, "eta", at),
                   alpha=fit_value(fit, "alpha", at, default=1.0, lo=1e-12),
                   beta=fit_value(fit, "beta", at, default=0.6, lo=1e-12),
                   delta=0.25 if delta is None else float(delta))


#: The old name of :class:`ATHLImpact` (kept for old code).
ATHLParams = ATHLImpact

#: The published point estimates of ATHL (2005) with alpha rounded to 1 as the paper suggests
#: (its estimate 0.891 +- 0.10 is consistent with linear permanent impact).
ATHL_2005 = ATHLImpact(gamma=0.314, eta=0.142, alpha=1.0, beta=0.6, delta=0.25)


# ---------------------------------------------------------------------------------------
# square root
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SquareRootImpact(ImpactLaw):
    r"""The square-root law of metaorder impact Tóth et al. (2011), Bouchaud et al. (2018).

    The price moves by :math:`\Delta(Q) = S\,Y\sigma(Q/V)^{\delta}` while a metaorder of
    :math:`Q` base units executes (:math:`\delta` = ``exponent``, 1/2 for the square root;
    :math:`\sigma` daily, :math:`V` daily volume). When the impact follows the law along the
    execution, the executed :math:`q` having moved the price by :math:`\Delta(q)`, the
    metaorder costs

    .. math:: E = \int_0^Q \Delta(q)\,dq = \frac{Q\,\Delta(Q)}{1 + \delta}

    (two thirds of the peak for :math:`\delta = 1/2`, Bouchaud et al. (2018) ch. 12), whatever the
    horizon and schedule: the empirical law has no dependence on them, so
    :meth:`schedule_cost` prices the schedule's total as one metaorder. The impact decays
    after the metaorder; the law says nothing of the part that stays, so
    :meth:`permanent_impact` is 0 and :meth:`temporary_cost` is a child priced as its own
    metaorder.

    Parameters
    ----------
    Y : float
        Prefactor (>= 0), of order 1.
    exponent : float
        :math:`\delta` (> 0), 1/2 for the square root.
    """

    Y: float = 1.0
    exponent: float = 0.5

    kind = "square-root"
    label = "square-root"
    requires = frozenset({"mid", "sigma_daily", "daily_volume"})
    time_unit_s = SECONDS_PER_DAY

    def __post_init__(self) -> None:
        object.__setattr__(self, "Y", _pos("Y", self.Y, strict=False, allowed="Y >= 0"))
        object.__setattr__(self, "exponent", _pos("exponent", self.exponent, strict=True,
                                                  allowed="exponent > 0"))

    def peak(self, q: ArrayLike, market: MarketContext) -> Any:
        r""":math:`\Delta(Q)` in quote per base unit (signed like ``q``)."""
        m = self._market(market, "peak")
        return scalar_or_array(m.mid * np.asarray(
            sqrt_impact(q, m.daily_volume, m.sigma_daily, self.Y, self.exponent)))

    def _cost(self, q: ArrayLike, m: MarketContext) -> Any:
        a = _children(q)
        return scalar_or_array(a * np.asarray(self.peak(a, m)) / (1.0 + self.exponent))

    def temporary_cost(self, n: ArrayLike, tau: float,
                       market: MarketContext | None = None) -> Any:
        r""":math:`n\,\Delta(n)/(1+\delta)`: the child as its own metaorder (quote)."""
        m = self._market(market, "temporary_cost")
        _tau(tau)
        return self._cost(n, m)

    def permanent_impact(self, n: ArrayLike, tau: float,
                         market: MarketContext | None = None) -> Any:
        """0: the law does not state a permanent part."""
        _tau(tau)
        return scalar_or_array(np.zeros_like(_children(n)))

    def schedule_cost(self, trade_list: ArrayLike, tau: float,
                      market: MarketContext | None = None) -> float:
        r""":math:`Q\,\Delta(Q)/(1+\delta)` of the total :math:`Q = \sum n_k`."""
        m = self._market(market, "schedule_cost")
        n = as_array("trade_list", trade_list, allowed="finite child sizes")
        _tau(tau)
        return float(self._cost(abs(float(n.sum())), m))

    def expected_cost(self, size: float, horizon: float, market: MarketContext | None = None,
                      *, periods: int = 1, risk_aversion: float = 0.0) -> float:
        r""":math:`Q\,\Delta(Q)/(1+\delta)` (the horizon and ``periods`` are checked, not used)."""
        m = self._market(market, "expected_cost")
        x = check_number("size", size)
        check_number("horizon", horizon, strict=True)
        check_periods(periods)
        self._no_risk_aversion(risk_aversion)
        return float(self._cost(x, m))

    def pricer(self, horizon: float, periods: int = 1, risk_aversion: float = 0.0) -> Pricer:
        r""":math:`S x\,Y\sigma(x/V)^\delta/(1+\delta)` per tick."""
        check_number("horizon", horizon, strict=True)
        check_periods(periods)
        self._no_risk_aversion(risk_aversion)
        c, d = self.Y / (1.0 + self.exponent), self.exponent

        def price(x: float, mid: float, sigma_daily: float, daily_volume: float,
                  spread: float) -> float:
            return mid * x * c * sigma_daily * (x / daily_volume) ** d

        return price

    @classmethod
    def from_fit(cls, fit: ImpactFit, at: FitBound = "estimate") -> SquareRootImpact:
        """``Y`` and ``sqrt_exponent`` (or ``exponent``) of ``fit``."""
        name = "sqrt_exponent" if "sqrt_exponent" in fit else "exponent"
        return cls(Y=fit_value(fit, "Y", at), exponent=fit_value(fit, name, at, lo=1e-12))
