r"""Market-impact laws: power-law impact functions, the Almgren-Thum-Hauptmann-Li (2005) cost
model and the square-root law. All functions are vectorised (numpy broadcasting) and validate
their inputs (``ValueError`` naming the parameter, the first bad value and the allowed range).

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

with :math:`Y` of order one (Tóth et al. 2011; Bouchaud et al. 2018); ``exponent`` generalises
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

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ATHL_2005",
    "ATHLParams",
    "PowerLawImpact",
    "athl_cost",
    "athl_permanent",
    "athl_temporary",
    "permanent_impact",
    "sqrt_impact",
    "temporary_impact",
]

FloatArray = NDArray[np.float64]


def _arr(name: str, value: ArrayLike, *, lo: float | None = None, strict: bool = False,
         allowed: str = "") -> FloatArray:
    """float64 array of ``value``; every element finite and >= lo (> lo when strict)."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is invalid: allowed range is {allowed or 'numbers'}"
                         ) from None
    bad = ~np.isfinite(a)
    if lo is not None:
        bad |= (a <= lo) if strict else (a < lo)
    if bad.any():
        first = a.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])]
        raise ValueError(f"{name}={float(first)!r} is invalid: allowed range is "
                         f"{allowed or 'a finite number'}")
    return a


def _out(x: FloatArray) -> Any:
    """Scalars in, Python float out; arrays in, array out."""
    return float(x) if x.ndim == 0 else x


def _power(x: FloatArray, p: FloatArray) -> FloatArray:
    """sgn(x) |x|^p with 0^p = 0."""
    return np.sign(x) * np.abs(x) ** p


def temporary_impact(rate: ArrayLike, eta: ArrayLike, beta: ArrayLike = 1.0) -> Any:
    r"""Temporary impact :math:`h(v) = \eta\,\mathrm{sgn}(v)|v|^\beta` (price per unit).

    Parameters
    ----------
    rate : array_like
        Signed trading rate :math:`v` (units per time unit).
    eta : array_like
        Coefficient, >= 0.
    beta : array_like
        Exponent, > 0 (1 = Almgren-Chriss linear; about 0.6 in [ATHL2005]_).
    """
    v = _arr("rate", rate, allowed="finite numbers")
    e = _arr("eta", eta, lo=0.0, allowed="eta >= 0")
    b = _arr("beta", beta, lo=0.0, strict=True, allowed="beta > 0")
    return _out(e * _power(v, b))


def permanent_impact(rate: ArrayLike, gamma: ArrayLike, alpha: ArrayLike = 1.0) -> Any:
    r"""Permanent impact :math:`g(v) = \gamma\,\mathrm{sgn}(v)|v|^\alpha` (price per time unit).

    Parameters
    ----------
    rate : array_like
        Signed trading rate :math:`v`.
    gamma : array_like
        Coefficient, >= 0.
    alpha : array_like
        Exponent, > 0 (1 is the only value without dynamic arbitrage, [AC2000]_).
    """
    v = _arr("rate", rate, allowed="finite numbers")
    g = _arr("gamma", gamma, lo=0.0, allowed="gamma >= 0")
    a = _arr("alpha", alpha, lo=0.0, strict=True, allowed="alpha > 0")
    return _out(g * _power(v, a))


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
        >= 0 (0.314 in [ATHL2005]_).
    alpha : array_like
        > 0 (1 by default; 0.891 +- 0.10 estimated in [ATHL2005]_).
    shares_outstanding : array_like, optional
        :math:`\Theta`, > 0. When given, the factor :math:`(\Theta/V)^\delta` is applied.
    delta : array_like
        Exponent of the turnover factor, 1/4 in [ATHL2005]_.

    Returns
    -------
    float or ndarray
        Fraction of the pre-trade price (multiply by 1e4 for bps).
    """
    x = _arr("size", size, allowed="finite numbers")
    v = _arr("adv", adv, lo=0.0, strict=True, allowed="adv > 0")
    s = _arr("sigma", sigma, lo=0.0, allowed="sigma >= 0")
    g = _arr("gamma", gamma, lo=0.0, allowed="gamma >= 0")
    a = _arr("alpha", alpha, lo=0.0, strict=True, allowed="alpha > 0")
    out = g * s * _power(x / v, a)
    if shares_outstanding is not None:
        th = _arr("shares_outstanding", shares_outstanding, lo=0.0, strict=True,
                  allowed="shares_outstanding > 0")
        d = _arr("delta", delta, lo=0.0, allowed="delta >= 0")
        out = out * (th / v) ** d
    return _out(out)


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
        >= 0 (0.142 in [ATHL2005]_).
    beta : array_like
        > 0 (0.6 in [ATHL2005]_).

    Returns
    -------
    float or ndarray
        Fraction of price. The realised cost is :math:`J = I/2 + K` (:func:`athl_cost`).
    """
    x = _arr("size", size, allowed="finite numbers")
    v = _arr("adv", adv, lo=0.0, strict=True, allowed="adv > 0")
    t = _arr("duration", duration, lo=0.0, strict=True, allowed="duration > 0 (days)")
    s = _arr("sigma", sigma, lo=0.0, allowed="sigma >= 0")
    e = _arr("eta", eta, lo=0.0, allowed="eta >= 0")
    b = _arr("beta", beta, lo=0.0, strict=True, allowed="beta > 0")
    return _out(e * s * _power(x / (v * t), b))


def athl_cost(size: ArrayLike, adv: ArrayLike, duration: ArrayLike, sigma: ArrayLike,
              gamma: ArrayLike = 0.314, eta: ArrayLike = 0.142, alpha: ArrayLike = 1.0,
              beta: ArrayLike = 0.6, *, shares_outstanding: ArrayLike | None = None,
              delta: ArrayLike = 0.25) -> Any:
    r"""ATHL realised cost :math:`J = I/2 + \eta\sigma\,\mathrm{sgn}(X)|X/(VT)|^\beta`.

    Defaults are the published estimates of [ATHL2005]_ (US equities), see
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
    return _out(np.asarray(0.5 * np.asarray(i) + np.asarray(k), dtype=np.float64))


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
        Prefactor, >= 0; of order 1 empirically ([Toth2011]_, [Bouchaud2018]_).
    exponent : array_like
        > 0; 1/2 is the square-root law.

    Returns
    -------
    float or ndarray
        Fraction of the pre-trade price.
    """
    q = _arr("size", size, allowed="finite numbers")
    v = _arr("adv", adv, lo=0.0, strict=True, allowed="adv > 0")
    s = _arr("sigma", sigma, lo=0.0, allowed="sigma >= 0")
    y = _arr("Y", Y, lo=0.0, allowed="Y >= 0")
    e = _arr("exponent", exponent, lo=0.0, strict=True, allowed="exponent > 0")
    return _out(y * s * _power(q / v, e))


def _pos(name: str, value: float, *, strict: bool, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}={value!r} is invalid: allowed range is {allowed}")
    v = float(value)
    if not math.isfinite(v) or (v <= 0 if strict else v < 0):
        raise ValueError(f"{name}={value!r} is invalid: allowed range is {allowed}")
    return v


@dataclass(frozen=True)
class PowerLawImpact:
    r"""Temporary :math:`h(v) = \eta\,\mathrm{sgn}(v)|v|^\beta` and permanent
    :math:`g(v) = \gamma\,\mathrm{sgn}(v)|v|^\alpha` impact, validated.

    Parameters
    ----------
    eta, gamma : float
        >= 0.
    beta, alpha : float
        > 0; ``PowerLawImpact(eta, 1.0, gamma, 1.0)`` is the Almgren-Chriss linear model.
    """

    eta: float
    beta: float = 1.0
    gamma: float = 0.0
    alpha: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta", _pos("eta", self.eta, strict=False, allowed="eta >= 0"))
        object.__setattr__(self, "beta", _pos("beta", self.beta, strict=True,
                                              allowed="beta > 0"))
        object.__setattr__(self, "gamma", _pos("gamma", self.gamma, strict=False,
                                               allowed="gamma >= 0"))
        object.__setattr__(self, "alpha", _pos("alpha", self.alpha, strict=True,
                                               allowed="alpha > 0"))

    def temporary(self, rate: ArrayLike) -> Any:
        """:math:`h(v)`, see :func:`temporary_impact`."""
        return temporary_impact(rate, self.eta, self.beta)

    def permanent(self, rate: ArrayLike) -> Any:
        """:math:`g(v)`, see :func:`permanent_impact`."""
        return permanent_impact(rate, self.gamma, self.alpha)


@dataclass(frozen=True)
class ATHLParams:
    r"""Parameters of the ATHL (2005) model; :meth:`cost` evaluates :math:`J`.

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


#: The published point estimates of [ATHL2005]_ with alpha rounded to 1 as the paper suggests
#: (its estimate 0.891 +- 0.10 is consistent with linear permanent impact).
ATHL_2005 = ATHLParams(gamma=0.314, eta=0.142, alpha=1.0, beta=0.6, delta=0.25)
