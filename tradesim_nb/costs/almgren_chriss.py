r"""Almgren-Chriss optimal execution in discrete time, exactly as in the paper [AC2000]_.

A trader liquidates :math:`X` units over :math:`[0, T]` in :math:`N` periods of length
:math:`\tau = T/N`, holding :math:`x_k` after period :math:`k` (:math:`x_0 = X`, :math:`x_N = 0`)
and selling :math:`n_k = x_{k-1} - x_k` in period :math:`k`. The price is an arithmetic random
walk with linear permanent impact :math:`g(v) = \gamma v` and the fill price carries a linear
temporary impact :math:`h(v) = \epsilon\,\mathrm{sgn}(v) + \eta v` (:math:`v = n_k/\tau`).
For a static schedule the implementation shortfall has (paper section 1.4 and eq. 8 with the linear
impact of section 1.5)

.. math::

    E(x) = \tfrac12\gamma X^2 + \epsilon \sum_{k=1}^N |n_k|
           + \frac{\tilde\eta}{\tau}\sum_{k=1}^N n_k^2,
    \qquad
    V(x) = \sigma^2 \sum_{k=1}^N \tau x_k^2,
    \qquad \tilde\eta = \eta - \tfrac12\gamma\tau .

Minimising :math:`E + \lambda V` (section 2.2) gives the trajectory

.. math::

    x_j = \frac{\sinh\big(\kappa(T - t_j)\big)}{\sinh(\kappa T)}\,X, \qquad
    n_j = \frac{2\sinh(\tfrac12\kappa\tau)}{\sinh(\kappa T)}
          \cosh\big(\kappa(T - t_{j-1/2})\big)\,X,

with :math:`\kappa` from :math:`\cosh(\kappa\tau) = 1 + \tfrac12\tilde\kappa^2\tau^2`,
:math:`\tilde\kappa^2 = \lambda\sigma^2/\tilde\eta` (section 2.2; *not* the continuous-time
:math:`\sqrt{\lambda\sigma^2/\eta}`), and the closed forms (eq. 20)

.. math::

    E = \tfrac12\gamma X^2 + \epsilon X + \tilde\eta X^2
        \frac{\tanh(\tfrac12\kappa\tau)\big(\tau\sinh(2\kappa T) + 2T\sinh(\kappa\tau)\big)}
             {2\tau^2\sinh^2(\kappa T)},
    \qquad
    V = \tfrac12\sigma^2 X^2
        \frac{\tau\sinh(\kappa T)\cosh\big(\kappa(T-\tau)\big) - T\sinh(\kappa\tau)}
             {\sinh^2(\kappa T)\sinh(\kappa\tau)} .

The half-life of the trade is :math:`\theta = 1/\kappa` (section 2.3). :math:`\lambda = 0`
gives the linear (TWAP) schedule with :math:`E = \tfrac12\gamma X^2 + \epsilon X +
\tilde\eta X^2/T` and :math:`V = \tfrac13\sigma^2X^2T(1-\tfrac1N)(1-\tfrac1{2N})`;
:math:`\lambda\to\infty` sells everything in the first period. For :math:`\lambda < 0`
(a risk-loving trader, section 2.2) the same equations hold with
:math:`\cos(\kappa\tau) = 1 + \tfrac12\tilde\kappa^2\tau^2` and sin/cos/tan in place of
sinh/cosh/tanh; the objective stays convex only while :math:`\kappa T < \pi`.

Numerics. :math:`\kappa\tau` is computed as :math:`2\,\mathrm{asinh}(\tilde\kappa\tau/2)`
(:math:`2\arcsin` for :math:`\lambda<0`), an exact rewrite of the cosh relation that keeps full precision
as :math:`\lambda\to0`. Ratios of hyperbolic functions are evaluated through
:math:`e^{-\kappa t}` and ``expm1`` so that :math:`\kappa T = 10^4` neither overflows nor
loses precision, and the variance uses the cancellation-free identity
:math:`\sum_{m=0}^{N-1}\sinh^2(m a) = \big(g(Ma) - M g(a)\big)/(4\sinh a)`,
:math:`g(y) = \sinh y - y`, :math:`M = 2N-1`. Below :math:`\kappa T = 10^{-8}` the linear
limit is used (its error is :math:`O((\kappa T)^2)`, below double precision).

Equation numbers are those of the December 2000 version (eq. 8: E and V of a schedule
under linear impact; eq. 20: their closed forms on the optimal trajectory); other results are
located by section.

References
----------
.. [AC2000] R. Almgren and N. Chriss, "Optimal execution of portfolio transactions",
   Journal of Risk 3(2), 5-39 (2000/2001), doi:10.21314/JOR.2001.041.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # pragma: no cover
    from ..impact.laws import LinearImpact

__all__ = [
    "MAX_PERIODS",
    "ACParams",
    "ACSolution",
    "expected_cost_of",
    "frontier",
    "frontier_holdings",
    "optimal_execution",
    "twap_holdings",
    "variance_of",
]

FloatArray = NDArray[np.float64]
Regime = Literal["linear", "hyperbolic", "trigonometric"]

#: below this kappa*T the linear (lambda = 0) limit is exact to double precision
_KT_SMALL = 1e-8
#: above this kappa*T the variance switches to the exp(-kappa t) form (no overflow)
_KT_LARGE = 20.0


#: the largest number of periods a schedule may have (arrays of N + 1 floats; 10**7 is 80 MB each)
MAX_PERIODS = 10_000_000


def _bad(name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is invalid: allowed range is {allowed}")


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise _bad(name, value, "a finite real number")
    v = float(value)
    if not math.isfinite(v):
        raise _bad(name, value, "a finite real number")
    return v


@dataclass(frozen=True)
class ACParams:
    r"""Parameters of the discrete Almgren-Chriss problem (Almgren and Chriss 2000).

    Parameters
    ----------
    size : float
        :math:`X`, units to liquidate (> 0; a buy program is the mirror image).
    horizon : float
        :math:`T`, in the time unit of ``sigma`` (> 0).
    periods : int
        :math:`N \ge 1`, number of trading periods; :math:`\tau = T/N`.
    sigma : float
        Price volatility per :math:`\sqrt{\text{time unit}}` (>= 0).
    epsilon : float
        Fixed cost per unit traded: half spread plus fees (>= 0).
    eta : float
        Temporary impact, price per (unit / time unit) (> 0).
    gamma : float
        Permanent impact, price per unit (>= 0).
    risk_aversion : float
        :math:`\lambda`, per currency unit. May be negative down to (exclusive)
        :attr:`min_risk_aversion`, where the problem stops being convex (:math:`\kappa T = \pi`).

    Raises
    ------
    ValueError
        Naming the parameter, its value and the allowed range; in particular when
        :math:`\tilde\eta = \eta - \gamma\tau/2 \le 0`.
    """

    size: float
    horizon: float
    periods: int
    sigma: float
    epsilon: float
    eta: float
    gamma: float
    risk_aversion: float = 0.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        size = _finite("size", self.size)
        if size <= 0:
            raise _bad("size", self.size, "size > 0 (units to sell; a buy is symmetric)")
        horizon = _finite("horizon", self.horizon)
        if horizon <= 0:
            raise _bad("horizon", self.horizon, "horizon > 0")
        if isinstance(self.periods, bool) or not isinstance(self.periods, int | np.integer):
            raise _bad("periods", self.periods, "an integer >= 1")
        if int(self.periods) < 1:
            raise _bad("periods", self.periods, "an integer >= 1")
        if int(self.periods) > MAX_PERIODS:
            raise _bad("periods", self.periods,
                       f"periods <= {MAX_PERIODS:_} (each schedule array holds N + 1 floats)")
        sigma = _finite("sigma", self.sigma)
        if sigma < 0:
            raise _bad("sigma", self.sigma, "sigma >= 0")
        epsilon = _finite("epsilon", self.epsilon)
        if epsilon < 0:
            raise _bad("epsilon", self.epsilon, "epsilon >= 0")
        eta = _finite("eta", self.eta)
        if eta <= 0:
            raise _bad("eta", self.eta, "eta > 0")
        gamma = _finite("gamma", self.gamma)
        if gamma < 0:
            raise _bad("gamma", self.gamma, "gamma >= 0")
        lam = _finite("risk_aversion", self.risk_aversion)
        for name, v in (("size", size), ("horizon", horizon), ("sigma", sigma),
                        ("epsilon", epsilon), ("eta", eta), ("gamma", gamma),
                        ("risk_aversion", lam)):
            set_(self, name, v)
        set_(self, "periods", int(self.periods))
        tau = self.tau
        if tau * tau == 0 or (sigma > 0 and (sigma * tau) ** 2 == 0):
            raise ValueError(
                f"horizon={horizon!r} over periods={self.periods} gives tau = T/N = {tau!r}, "
                f"so (sigma*tau)**2 with sigma={sigma!r} underflows to 0: allowed range is "
                "(sigma*tau)**2 > 0; use a larger time unit (e.g. days instead of seconds)")
        scale = size * size * max(gamma, eta / tau, sigma * sigma * horizon, epsilon / size)
        if not math.isfinite(scale):
            raise ValueError(
                f"size={size!r} with eta={eta!r}, gamma={gamma!r}, sigma={sigma!r}, "
                f"horizon={horizon!r}: the cost terms (of order X**2 * eta/tau, X**2 * gamma, "
                "X**2 * sigma**2 * T) overflow float64; use a larger size unit (e.g. lots)")
        if self.eta_tilde <= 0:
            raise ValueError(
                f"eta_tilde = eta - gamma*tau/2 = {self.eta_tilde!r} is invalid: allowed range is "
                f"eta_tilde > 0, i.e. eta > gamma*tau/2 (eta={eta!r}, gamma={gamma!r}, "
                f"tau=T/N={self.tau!r}); raise eta or periods, or lower gamma")
        if lam <= self.min_risk_aversion:
            raise _bad("risk_aversion", self.risk_aversion,
                       f"risk_aversion > {self.min_risk_aversion!r} (kappa*T < pi keeps "
                       "E + lambda*V convex)")

    @property
    def tau(self) -> float:
        r""":math:`\tau = T/N`, the length of one period."""
        return self.horizon / self.periods

    @property
    def impact(self) -> LinearImpact:
        r"""The impact law of the problem: :class:`~tradesim_nb.impact.laws.LinearImpact`
        with :math:`\eta, \gamma, \epsilon` (time in the unit of ``horizon``)."""
        from ..impact.laws import LinearImpact

        return LinearImpact(eta=self.eta, gamma=self.gamma, epsilon=self.epsilon)

    @classmethod
    def from_impact(cls, law: LinearImpact, size: float, horizon: float, periods: int,
                    sigma: float, risk_aversion: float = 0.0) -> ACParams:
        """The problem of liquidating ``size`` under ``law`` (``horizon`` and ``sigma`` in
        the law's time unit); same as ``law.ac_params(...)``."""
        return law.ac_params(size, horizon, periods, sigma, risk_aversion)

    @property
    def eta_tilde(self) -> float:
        r""":math:`\tilde\eta = \eta - \tfrac12\gamma\tau` (paper eq. 8)."""
        return self.eta - 0.5 * self.gamma * self.tau

    @property
    def kappa_tilde_sq(self) -> float:
        r""":math:`\tilde\kappa^2 = \lambda\sigma^2/\tilde\eta` (section 2.2)."""
        return self.risk_aversion * self.sigma**2 / self.eta_tilde

    @property
    def min_risk_aversion(self) -> float:
        r"""Smallest (exclusive) :math:`\lambda`: :math:`-4\tilde\eta\sin^2(\pi/2N)/(\sigma^2\tau^2)`.

        Below it the Hessian of :math:`E + \lambda V` in :math:`x_1..x_{N-1}` is no longer
        positive definite (equivalently :math:`\kappa T \ge \pi`). ``-inf`` when ``sigma == 0``.
        """
        if self.sigma == 0:
            return -math.inf
        s = math.sin(math.pi / (2 * self.periods))
        return -4.0 * self.eta_tilde * s * s / (self.sigma**2 * self.tau**2)


@dataclass(frozen=True)
class ACSolution:
    r"""The optimal schedule and its cost distribution (read-only arrays).

    Attributes
    ----------
    params : ACParams
    kappa : float
        :math:`\kappa` (per time unit) from the cosh relation; 0 in the linear case.
    kappa_tilde_sq, tau, eta_tilde : float
    regime : {"linear", "hyperbolic", "trigonometric"}
    times : ndarray, shape (N+1,)
        :math:`t_j = j\tau`.
    holdings : ndarray, shape (N+1,)
        :math:`x_0 = X, \dots, x_N = 0` (section 2.2).
    trade_list : ndarray, shape (N,)
        :math:`n_j = x_{j-1} - x_j`.
    expected_cost, variance : float
        :math:`E` and :math:`V` (eq. 20; the :math:`\epsilon` term is
        :math:`\epsilon\sum|n_k|`, equal to :math:`\epsilon X` whenever the schedule only sells).
    monotone : bool
        True when every :math:`n_j \ge 0` (always for :math:`\lambda \ge 0`).
    """

    params: ACParams
    kappa: float
    kappa_tilde_sq: float
    tau: float
    eta_tilde: float
    regime: Regime
    times: FloatArray = field(repr=False)
    holdings: FloatArray = field(repr=False)
    trade_list: FloatArray = field(repr=False)
    expected_cost: float
    variance: float
    monotone: bool

    @property
    def std(self) -> float:
        r""":math:`\sqrt{V}`."""
        return math.sqrt(self.variance)

    @property
    def half_life(self) -> float:
        r""":math:`\theta = 1/\kappa` (section 2.3); ``inf`` when :math:`\kappa = 0`."""
        return math.inf if self.kappa == 0 else 1.0 / self.kappa

    @property
    def objective(self) -> float:
        r""":math:`U = E + \lambda V` (section 3.1)."""
        return self.expected_cost + self.params.risk_aversion * self.variance

    def cost_at(self, z: float) -> float:
        r""":math:`E + z\sqrt V`: the cost not exceeded with probability :math:`\Phi(z)`."""
        return self.expected_cost + _finite("z", z) * self.std

    def cost_at_confidence(self, level: float) -> float:
        r"""L-VaR (section 3): :math:`E + \Phi^{-1}(p)\sqrt V` at confidence ``level`` = p."""
        p = _finite("level", level)
        if not 0.0 < p < 1.0:
            raise _bad("level", level, "0 < level < 1")
        return self.cost_at(NormalDist().inv_cdf(p))

    def to_dict(self) -> dict[str, object]:
        """Plain-Python summary (JSON-ready)."""
        return {
            "kappa": self.kappa, "kappa_tilde_sq": self.kappa_tilde_sq, "tau": self.tau,
            "eta_tilde": self.eta_tilde, "regime": self.regime,
            "expected_cost": self.expected_cost, "variance": self.variance, "std": self.std,
            "half_life": self.half_life, "objective": self.objective, "monotone": self.monotone,
            "times": self.times.tolist(), "holdings": self.holdings.tolist(),
            "trade_list": self.trade_list.tolist(),
        }


# --------------------------------------------------------------------------- internals


def _series_sinh_minus_id(y: FloatArray, sign: float) -> FloatArray:
    """sinh(y) - y (sign=+1) or y - sin(y) (sign=-1) for 0 <= y < 1, Taylor to y**21."""
    z = y * y
    acc = np.zeros_like(y)
    for k in range(10, 0, -1):  # coefficients 1/(2k+1)!, alternating for the sin case
        c = (sign ** (k - 1)) / math.factorial(2 * k + 1)
        acc = c + z * acc
    return y * z * acc


def _g(y: FloatArray, trig: NDArray[np.bool_]) -> FloatArray:
    """g(y) = sinh(y) - y (hyperbolic) or h(y) = y - sin(y) (trig), accurate for small y."""
    out = np.empty_like(y)
    small = y < 1.0
    hyp = ~trig
    for mask, sign in ((hyp, 1.0), (trig, -1.0)):
        m = mask & small
        out[m] = _series_sinh_minus_id(y[m], sign)
        m = mask & ~small
        out[m] = (np.sinh(y[m]) - y[m]) if sign > 0 else (y[m] - np.sin(y[m]))
    return out


def _kappa_tau(kts: FloatArray, tau: float) -> tuple[FloatArray, NDArray[np.bool_]]:
    """kappa*tau from cosh(kappa tau) = 1 + y/2 as 2 asinh(sqrt(y)/2) (y >= 0) or 2 arcsin(sqrt(-y)/2), y = kts tau^2."""
    y = kts * tau * tau
    trig = y < 0
    r = 0.5 * np.sqrt(np.abs(y))
    a = np.where(trig, 2.0 * np.arcsin(np.minimum(r, 1.0)), 2.0 * np.arcsinh(r))
    return a, trig


def _holdings_and_trades(a: FloatArray, trig: NDArray[np.bool_], n: int, x: float,
                         with_trades: bool = True) -> tuple[FloatArray, FloatArray]:
    """Holdings (L, N+1) and trade lists (L, N) for kappa*tau = a (L,) (section 2.2).

    Rows are filled by regime (linear / hyperbolic via exp(-.) and expm1 / trigonometric),
    so each row costs one pass of transcendental functions.
    """
    k_t = n * a                                             # kappa T, shape (L,)
    j = np.arange(n + 1, dtype=np.float64)
    lin = k_t < _KT_SMALL
    hyp = ~lin & ~trig
    trg = ~lin & trig
    hold = np.empty((a.size, n + 1))
    trades = np.empty((a.size, n)) if with_trades else np.empty((0, n))
    hold[lin] = (n - j) / n
    if with_trades:
        trades[lin] = 1.0 / n
    if hyp.any():
        ah, kh = a[hyp, None], k_t[hyp, None]
        den = -np.expm1(-2.0 * kh)
        u = (n - j) * ah                                    # kappa (T - t_j)
        hold[hyp] = np.exp(u - kh) * (-np.expm1(-2.0 * u)) / den
        if with_trades:
            v = (n - j[1:] + 0.5) * ah                      # kappa (T - t_{j-1/2})
            trades[hyp] = (np.exp(0.5 * ah + v - kh) * (-np.expm1(-ah))
                           * (1.0 + np.exp(-2.0 * v)) / den)
    if trg.any():
        at, kt = a[trg, None], k_t[trg, None]
        sk = np.sin(kt)
        hold[trg] = np.sin((n - j) * at) / sk
        if with_trades:
            trades[trg] = 2.0 * np.sin(0.5 * at) * np.cos((n - j[1:] + 0.5) * at) / sk
    hold *= x
    trades *= x
    hold[:, 0] = x
    hold[:, -1] = 0.0
    return hold, trades


def _closed_forms(p: ACParams, a: FloatArray, trig: NDArray[np.bool_], abs_sum: FloatArray
                  ) -> tuple[FloatArray, FloatArray]:
    """E and V of eq. 20 for kappa*tau = a (L,), with epsilon * abs_sum for the spread term."""
    n, x, tau, t = p.periods, p.size, p.tau, p.horizon
    k_t = n * a
    m = 2 * n - 1
    lin = k_t < _KT_SMALL
    hyp = ~lin & ~trig
    trg = ~lin & trig
    big = hyp & (k_t >= _KT_LARGE)
    mid = hyp & ~big
    impact = np.empty_like(a)        # (eta_tilde/tau) sum n_k^2 divided by eta_tilde X^2
    ssum = np.empty_like(a)          # sum_k x_k^2 / X^2  (k = 1..N)
    with np.errstate(all="ignore"):
        # linear limit
        impact[lin] = 1.0 / t
        ssum[lin] = (n - 1) * (2 * n - 1) / (6.0 * n)
        # hyperbolic, all through exp(-.) and expm1
        ah, kh = a[hyp], k_t[hyp]
        em2k = np.expm1(-2.0 * kh)
        tanh_half = -np.expm1(-ah) / (1.0 + np.exp(-ah))
        coth_k = (1.0 + np.exp(-2.0 * kh)) / (-em2k)
        sinh_a_over_sinh2k = 2.0 * np.exp(ah - 2.0 * kh) * (-np.expm1(-2.0 * ah)) / em2k**2
        impact[hyp] = tanh_half * (2.0 * tau * coth_k + 2.0 * t * sinh_a_over_sinh2k) / (2 * tau**2)
        # variance, moderate kappa T: S = (g(Ma) - M g(a)) / (4 sinh a), / sinh^2(kappa T)
        am, km = a[mid], k_t[mid]
        gm = _g(m * am, np.zeros(am.shape, bool)) - m * _g(am, np.zeros(am.shape, bool))
        ssum[mid] = gm / (4.0 * np.sinh(am) * np.sinh(km) ** 2)
        # variance, large kappa T
        ab, kb = a[big], k_t[big]
        ssum[big] = ((np.exp(-2.0 * ab) * (-np.expm1(-2.0 * m * ab)) / (-np.expm1(-2.0 * ab))
                      - m * np.exp(-2.0 * kb)) / np.expm1(-2.0 * kb) ** 2)
        # trigonometric (lambda < 0, kappa T < pi)
        at, kt = a[trg], k_t[trg]
        sk = np.sin(kt)
        impact[trg] = np.tan(0.5 * at) * (tau * np.sin(2 * kt) + 2 * t * np.sin(at)) / (
            2 * tau**2 * sk**2)
        ht = _g(m * at, np.ones(at.shape, bool)) - m * _g(at, np.ones(at.shape, bool))
        ssum[trg] = ht / (4.0 * np.sin(at) * sk**2)
    ssum = np.maximum(ssum, 0.0)
    e = 0.5 * p.gamma * x * x + p.epsilon * abs_sum + p.eta_tilde * x * x * impact
    v = p.sigma**2 * tau * x * x * ssum
    return e, v


def _abs_trade_sum(p: ACParams, a: FloatArray, trig: NDArray[np.bool_]
                   ) -> tuple[FloatArray, NDArray[np.bool_]]:
    """sum |n_k| (= X unless a trigonometric schedule buys back first) and monotone flags."""
    n = p.periods
    k_t = n * a
    monotone = ~trig | (k_t < _KT_SMALL) | (k_t - 0.5 * a <= 0.5 * math.pi)
    out = np.full(a.shape, p.size)
    for i in np.flatnonzero(~monotone):
        _, tr = _holdings_and_trades(a[i:i + 1], trig[i:i + 1], n, p.size)
        out[i] = float(np.abs(tr).sum())
    return out, monotone


def _lambda_array(p: ACParams, risk_aversions: ArrayLike) -> FloatArray:
    lam = np.atleast_1d(np.asarray(risk_aversions, dtype=np.float64))
    if lam.ndim != 1:
        raise _bad("risk_aversions", f"array of shape {lam.shape}", "a 1-d array")
    bad = ~np.isfinite(lam) | (lam <= p.min_risk_aversion)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _bad(f"risk_aversions[{i}]", float(lam[i]),
                   f"finite and > {p.min_risk_aversion!r}")
    return lam


def _readonly(arr: NDArray[np.floating] | FloatArray) -> FloatArray:
    out = np.ascontiguousarray(arr, dtype=np.float64)
    out.setflags(write=False)
    return out


# --------------------------------------------------------------------------- public API


def optimal_execution(p: ACParams) -> ACSolution:
    r"""The mean-variance optimal schedule (Almgren and Chriss 2000, section 2.2, eq. 20).

    Parameters
    ----------
    p : ACParams

    Returns
    -------
    ACSolution
        :math:`\kappa`, holdings :math:`x_j = X\sinh(\kappa(T-t_j))/\sinh(\kappa T)`, trade
        list, :math:`E`, :math:`V`, half-life.

    Examples
    --------
    >>> p = ACParams(size=1e6, horizon=5, periods=5, sigma=0.95, epsilon=0.0625,
    ...              eta=2.5e-6, gamma=2.5e-7, risk_aversion=1e-6)
    >>> s = optimal_execution(p)
    >>> round(s.kappa, 4), float(s.holdings[0]), float(s.holdings[-1])
    (0.6071, 1000000.0, 0.0)
    >>> round(s.expected_cost), round(s.std)
    (911227, 603431)
    """
    lam = np.array([p.risk_aversion])
    a, trig = _kappa_tau(lam * p.sigma**2 / p.eta_tilde, p.tau)
    hold, trades = _holdings_and_trades(a, trig, p.periods, p.size)
    abs_sum, mono = _abs_trade_sum(p, a, trig)
    e, v = _closed_forms(p, a, trig, abs_sum)
    if not (np.isfinite(e[0]) and np.isfinite(v[0]) and np.isfinite(hold).all()):
        raise ValueError(f"the schedule of {p} overflows float64 (E={float(e[0])!r}, "
                         f"V={float(v[0])!r}): rescale size, time or price units")
    kt = float(a[0]) * p.periods
    regime: Regime = "linear" if kt < _KT_SMALL else (
        "trigonometric" if bool(trig[0]) else "hyperbolic")
    return ACSolution(
        params=p, kappa=float(a[0]) / p.tau, kappa_tilde_sq=p.kappa_tilde_sq, tau=p.tau,
        eta_tilde=p.eta_tilde, regime=regime,
        times=_readonly(np.arange(p.periods + 1) * p.tau),
        holdings=_readonly(hold[0]), trade_list=_readonly(trades[0]),
        expected_cost=float(e[0]), variance=float(v[0]), monotone=bool(mono[0]))


def frontier(p: ACParams, risk_aversions: ArrayLike) -> tuple[FloatArray, FloatArray]:
    r"""The efficient frontier (section 2.4): :math:`E(\lambda)` and :math:`V(\lambda)` in closed form.

    ``p.risk_aversion`` is ignored; every other parameter is used as given. Cost is
    :math:`O(L)` for :math:`L` values of :math:`\lambda` (independent of :math:`N`) except for
    trigonometric schedules that buy back first, which need :math:`O(N)` each.

    Parameters
    ----------
    p : ACParams
    risk_aversions : array_like, shape (L,)
        Each > ``p.min_risk_aversion``.

    Returns
    -------
    E, V : ndarray, shape (L,)
    """
    lam = _lambda_array(p, risk_aversions)
    a, trig = _kappa_tau(lam * p.sigma**2 / p.eta_tilde, p.tau)
    abs_sum, _ = _abs_trade_sum(p, a, trig)
    return _closed_forms(p, a, trig, abs_sum)


def frontier_holdings(p: ACParams, risk_aversions: ArrayLike) -> FloatArray:
    r"""Holdings :math:`x_j(\lambda)` for many :math:`\lambda` at once, shape (L, N+1)."""
    lam = _lambda_array(p, risk_aversions)
    a, trig = _kappa_tau(lam * p.sigma**2 / p.eta_tilde, p.tau)
    return _holdings_and_trades(a, trig, p.periods, p.size, with_trades=False)[0]


def expected_cost_of(p: ACParams, trade_list: ArrayLike) -> float:
    r"""Expected shortfall of ANY liquidation schedule by the direct sum (paper eq. 8, linear impact).

    .. math:: E = \tfrac12\gamma X^2 + \epsilon\sum_k |n_k| + \frac{\tilde\eta}{\tau}\sum_k n_k^2

    (:meth:`LinearImpact.schedule_cost <tradesim_nb.impact.laws.LinearImpact.schedule_cost>`
    of :attr:`ACParams.impact`).

    Parameters
    ----------
    p : ACParams
    trade_list : array_like, shape (N,)
        :math:`n_1..n_N`; must sum to :math:`X` (a complete liquidation, which the
        :math:`\tfrac12\gamma X^2` term assumes).
    """
    n = np.asarray(trade_list, dtype=np.float64)
    if n.shape != (p.periods,) or not np.all(np.isfinite(n)):
        raise _bad("trade_list", f"array of shape {n.shape}",
                   f"a finite array of shape ({p.periods},)")
    total = float(n.sum())
    if not math.isclose(total, p.size, rel_tol=1e-9, abs_tol=1e-12 * p.size):
        raise _bad("trade_list", f"sum {total!r}", f"sum(trade_list) == size == {p.size!r}")
    return p.impact.schedule_cost(n, p.tau)


def variance_of(p: ACParams, holdings: ArrayLike) -> float:
    r"""Variance of the shortfall of any schedule (paper eq. 8): :math:`V = \sigma^2\sum_{k=1}^N \tau x_k^2`.

    Parameters
    ----------
    p : ACParams
    holdings : array_like, shape (N+1,)
        :math:`x_0..x_N` (:math:`x_0` does not enter).
    """
    x = np.asarray(holdings, dtype=np.float64)
    if x.shape != (p.periods + 1,) or not np.all(np.isfinite(x)):
        raise _bad("holdings", f"array of shape {x.shape}",
                   f"a finite array of shape ({p.periods + 1},)")
    xs = x[1:]
    return float(p.sigma**2 * p.tau * np.dot(xs, xs))


def twap_holdings(p: ACParams) -> FloatArray:
    r"""The linear (:math:`\lambda = 0`) trajectory :math:`x_j = X(1 - j/N)`, shape (N+1,)."""
    j = np.arange(p.periods + 1, dtype=np.float64)
    return p.size * (p.periods - j) / p.periods
