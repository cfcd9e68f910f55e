r"""Almgren (2003): optimal execution with a nonlinear (power-law) temporary impact.

**Discrete formulation implemented.**
The grid, price process and permanent impact of discrete Almgren-Chriss
(:mod:`tradesim_nb.costs.almgren_chriss`): sell :math:`X` in :math:`N` periods of
:math:`\tau = T/N`, holdings :math:`x_0 = X, \dots, x_N = 0`, trades :math:`n_k = x_{k-1} - x_k`
at rate :math:`v_k = n_k/\tau`; linear permanent impact :math:`\gamma`; the temporary impact is
the power law of Almgren (2003, section 2)

.. math:: h(v) = \epsilon\,\mathrm{sgn}(v) + \eta\,|v|^{\beta}\,\mathrm{sgn}(v), \qquad \beta > 0 .

A trade of :math:`n` then costs :math:`n\,h(n/\tau)`, and the expected shortfall and variance of
a schedule are

.. math::

    E(x) = \tfrac12\gamma X^2 + \sum_{k=1}^N \phi(n_k),\quad
    \phi(n) = \epsilon |n| + \eta\,\tau^{-\beta}|n|^{1+\beta} - \tfrac12\gamma n^2,
    \qquad V(x) = \sigma^2\tau\sum_{k=1}^{N} x_k^2 ,

(the :math:`-\tfrac12\gamma n^2` is Almgren-Chriss's own: a trade does not pay its own permanent
impact). At :math:`\beta = 1` this is exactly Almgren-Chriss with
:math:`\tilde\eta = \eta - \tfrac12\gamma\tau`. For :math:`\beta \ne 1` there is no closed form;
:func:`nonlinear_optimal` minimises :math:`U = E + \lambda V` over :math:`x_1..x_{N-1}` by
Newton's method on the first-order conditions (the discrete Euler-Lagrange equations, Almgren
2003 eq. 11 in continuous time)

.. math::

    \phi'(n_{k+1}) - \phi'(n_k) + 2\lambda\sigma^2\tau\,x_k = 0, \qquad k = 1, \dots, N-1,

whose Jacobian is tridiagonal (:math:`\phi''(n_k) + \phi''(n_{k+1}) + 2\lambda\sigma^2\tau` on
the diagonal, :math:`-\phi''(n_{k+1})` beside it), solved by :func:`scipy.linalg.solve_banded`,
with a backtracking line search on :math:`U` and steps kept inside :math:`n_k > 0` (for
:math:`\lambda \ge 0` the optimum only sells). :math:`U` is strictly convex on that set when
:math:`\phi'' > 0` on :math:`(0, X]`, which :class:`NonlinearACParams` checks; the optimum is then
unique and Newton's method converges to it quadratically.

References
----------
.. [A2003] R. Almgren, "Optimal execution with nonlinear impact functions and trading-enhanced
   risk", Applied Mathematical Finance 10(1), 1-18 (2003), doi:10.1080/135048602100056.
.. [AC2000n] R. Almgren and N. Chriss, "Optimal execution of portfolio transactions",
   Journal of Risk 3(2), 5-39 (2000/2001).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg

if TYPE_CHECKING:  # pragma: no cover
    from ..costs.almgren_chriss import ACParams

__all__ = [
    "NonlinearACParams",
    "NonlinearACSolution",
    "nonlinear_cost_of",
    "nonlinear_frontier",
    "nonlinear_optimal",
]

FloatArray = NDArray[np.float64]


def _bad(name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is invalid: allowed range is {allowed}")


def _real(name: str, value: object, low: float, strict: bool) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    v = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not math.isfinite(v) or (v <= low if strict else v < low):
        raise _bad(name, value, f"{name} {'>' if strict else '>='} {low:g}")
    return v


@dataclass(frozen=True)
class NonlinearACParams:
    r"""Parameters of the discrete nonlinear Almgren-Chriss problem [A2003]_.

    Parameters
    ----------
    size : float
        :math:`X > 0`, units to sell (a buy is the mirror image).
    horizon : float
        :math:`T > 0`.
    periods : int
        :math:`N \ge 1`; :math:`\tau = T/N`.
    sigma : float
        Volatility per :math:`\sqrt{\text{time}}`, >= 0.
    epsilon : float
        Fixed cost per unit, >= 0.
    eta : float
        :math:`\eta > 0`: a trade at rate :math:`v` costs :math:`\eta v^\beta` per unit.
    gamma : float
        Permanent impact per unit, >= 0.
    beta : float
        :math:`\beta \in (0, 2]`; 1 is Almgren-Chriss.
    risk_aversion : float
        :math:`\lambda \ge 0`.

    Raises
    ------
    ValueError
        Naming the parameter, value and range; also when the per-trade cost
        :math:`\phi(n) = \eta\tau^{-\beta}n^{1+\beta} - \tfrac12\gamma n^2` is not strictly convex
        on :math:`(0, X]`: for :math:`\beta \le 1` that needs
        :math:`\beta(1+\beta)\eta\tau^{-\beta}X^{\beta-1} > \gamma` (at :math:`\beta = 1`,
        :math:`\tilde\eta > 0`); for :math:`\beta > 1`, :math:`\phi''(0^+) = -\gamma`, so
        :math:`\gamma` must be 0.
    """

    size: float
    horizon: float
    periods: int
    sigma: float
    epsilon: float
    eta: float
    gamma: float
    beta: float = 1.0
    risk_aversion: float = 0.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "size", _real("size", self.size, 0.0, True))
        set_(self, "horizon", _real("horizon", self.horizon, 0.0, True))
        if isinstance(self.periods, bool) or not isinstance(self.periods, int | np.integer) or (
                int(self.periods) < 1):
            raise _bad("periods", self.periods, "an integer >= 1")
        set_(self, "periods", int(self.periods))
        set_(self, "sigma", _real("sigma", self.sigma, 0.0, False))
        set_(self, "epsilon", _real("epsilon", self.epsilon, 0.0, False))
        set_(self, "eta", _real("eta", self.eta, 0.0, True))
        set_(self, "gamma", _real("gamma", self.gamma, 0.0, False))
        b = _real("beta", self.beta, 0.0, True)
        if b > 2.0:
            raise _bad("beta", self.beta, "0 < beta <= 2")
        set_(self, "beta", b)
        set_(self, "risk_aversion", _real("risk_aversion", self.risk_aversion, 0.0, False))
        if b > 1.0 and self.gamma > 0:
            raise ValueError(
                f"gamma={self.gamma!r} is invalid with beta={b!r}: allowed range is gamma = 0 "
                "when beta > 1 (phi''(0+) = -gamma: the per-trade cost is not convex near 0)")
        if b <= 1.0:
            curv = b * (1 + b) * self.coefficient * self.size ** (b - 1.0)
            if curv <= self.gamma:
                raise ValueError(
                    f"gamma={self.gamma!r} is invalid: allowed range is gamma < beta(1+beta) "
                    f"eta tau^-beta X^(beta-1) = {curv!r} (the per-trade cost must be convex "
                    "up to n = X); raise eta or periods, or lower gamma")

    @property
    def tau(self) -> float:
        r""":math:`\tau = T/N`."""
        return self.horizon / self.periods

    @property
    def coefficient(self) -> float:
        r""":math:`c = \eta\tau^{-\beta}`: a trade of :math:`n` pays :math:`c\,n^{1+\beta}`."""
        return self.eta * self.tau ** (-self.beta)

    def linear(self) -> ACParams:
        """The Almgren-Chriss parameters with the same fields (meaningful at ``beta == 1``)."""
        from ..costs.almgren_chriss import ACParams

        return ACParams(size=self.size, horizon=self.horizon, periods=self.periods,
                        sigma=self.sigma, epsilon=self.epsilon, eta=self.eta, gamma=self.gamma,
                        risk_aversion=self.risk_aversion)


@dataclass(frozen=True)
class NonlinearACSolution:
    """The optimum of :func:`nonlinear_optimal` (read-only arrays).

    Attributes
    ----------
    params : NonlinearACParams
    times : ndarray, shape (N+1,)
    holdings : ndarray, shape (N+1,)
    trade_list : ndarray, shape (N,)
    expected_cost, variance : float
    iterations : int
        Newton steps taken.
    gradient_norm : float
        :math:`\\max_k |\\partial U/\\partial x_k|` at the solution, relative to :math:`\\phi'(X/N)`.
    """

    params: NonlinearACParams
    times: FloatArray = field(repr=False)
    holdings: FloatArray = field(repr=False)
    trade_list: FloatArray = field(repr=False)
    expected_cost: float
    variance: float
    iterations: int
    gradient_norm: float

    @property
    def std(self) -> float:
        r""":math:`\sqrt V`."""
        return math.sqrt(self.variance)

    @property
    def objective(self) -> float:
        r""":math:`U = E + \lambda V`."""
        return self.expected_cost + self.params.risk_aversion * self.variance


def _phi(p: NonlinearACParams, n: FloatArray) -> FloatArray:
    a = np.abs(n)
    return p.epsilon * a + p.coefficient * a ** (1.0 + p.beta) - 0.5 * p.gamma * n * n


def _dphi(p: NonlinearACParams, n: FloatArray) -> FloatArray:
    # n > 0 on the feasible set; epsilon enters as a constant and cancels in differences
    return p.epsilon + (1.0 + p.beta) * p.coefficient * n**p.beta - p.gamma * n


def _d2phi(p: NonlinearACParams, n: FloatArray) -> FloatArray:
    return p.beta * (1.0 + p.beta) * p.coefficient * n ** (p.beta - 1.0) - p.gamma


def nonlinear_cost_of(p: NonlinearACParams, trade_list: ArrayLike) -> float:
    r"""Expected shortfall of any liquidation schedule by the direct sum
    :math:`\tfrac12\gamma X^2 + \sum_k \phi(n_k)`.

    Parameters
    ----------
    p : NonlinearACParams
    trade_list : array_like, shape (N,)
        Must sum to :math:`X`.
    """
    n = np.asarray(trade_list, dtype=np.float64)
    if n.shape != (p.periods,) or not np.all(np.isfinite(n)):
        raise _bad("trade_list", f"array of shape {n.shape}",
                   f"a finite array of shape ({p.periods},)")
    if not math.isclose(float(n.sum()), p.size, rel_tol=1e-9, abs_tol=1e-12 * p.size):
        raise _bad("trade_list", f"sum {float(n.sum())!r}", f"sum(trade_list) == size == {p.size!r}")
    return float(0.5 * p.gamma * p.size**2 + _phi(p, n).sum())


def _objective(p: NonlinearACParams, x_inner: FloatArray) -> float:
    x = np.concatenate([[p.size], x_inner, [0.0]])
    n = -np.diff(x)
    return float(_phi(p, n).sum() + p.risk_aversion * p.sigma**2 * p.tau * np.dot(x_inner, x_inner))


def _gradient(p: NonlinearACParams, x_inner: FloatArray) -> FloatArray:
    x = np.concatenate([[p.size], x_inner, [0.0]])
    d = _dphi(p, -np.diff(x))
    return d[1:] - d[:-1] + 2.0 * p.risk_aversion * p.sigma**2 * p.tau * x_inner


def _start(p: NonlinearACParams) -> FloatArray:
    """Almgren-Chriss trajectory with the linear eta of the average rate (a sell-only start)."""
    from ..costs.almgren_chriss import ACParams, optimal_execution

    v_bar = p.size / p.horizon
    eta_lin = p.eta * p.beta * v_bar ** (p.beta - 1.0)  # slope of eta v^beta at v_bar
    eta_lin = max(eta_lin, 0.5 * p.gamma * p.tau * 1.5 + 1e-300)
    try:
        ac = ACParams(size=p.size, horizon=p.horizon, periods=p.periods, sigma=p.sigma,
                      epsilon=p.epsilon, eta=eta_lin, gamma=p.gamma,
                      risk_aversion=p.risk_aversion)
        x = np.array(optimal_execution(ac).holdings, dtype=np.float64)
    except ValueError:
        x = p.size * (1.0 - np.arange(p.periods + 1) / p.periods)
    n = -np.diff(x)
    if np.any(n <= 0):  # numerical underflow at extreme lambda: blend with the linear schedule
        x = 0.5 * x + 0.5 * p.size * (1.0 - np.arange(p.periods + 1) / p.periods)
    return x[1:-1].copy()


def nonlinear_optimal(p: NonlinearACParams, *, x0: ArrayLike | None = None, tol: float = 1e-13,
                      max_iter: int = 200) -> NonlinearACSolution:
    r"""The optimal schedule of [A2003]_ for :math:`E + \lambda V`, by Newton's method.

    Parameters
    ----------
    p : NonlinearACParams
    x0 : array_like, shape (N-1,), optional
        Starting holdings :math:`x_1..x_{N-1}` (strictly decreasing, in :math:`(0, X)`); default
        the Almgren-Chriss trajectory with the linearised :math:`\eta`.
    tol : float
        Stop when :math:`\max_k|\partial U/\partial x_k| \le` ``tol`` :math:`\phi'(X/N)`.
    max_iter : int

    Returns
    -------
    NonlinearACSolution

    Raises
    ------
    RuntimeError
        When Newton's method has not converged in ``max_iter`` steps, or stops (rounding
        level) with a relative gradient above :math:`10^{-9}`.
    """
    n_per = p.periods
    times = np.arange(n_per + 1, dtype=np.float64) * p.tau
    if n_per == 1:
        hold = np.array([p.size, 0.0])
        trades = np.array([p.size])
        return NonlinearACSolution(p, times, hold, trades, nonlinear_cost_of(p, trades), 0.0, 0, 0.0)
    x = _start(p) if x0 is None else np.array(x0, dtype=np.float64)
    if x.shape != (n_per - 1,) or np.any(-np.diff(np.concatenate([[p.size], x, [0.0]])) <= 0):
        raise _bad("x0", "given holdings", f"{n_per - 1} strictly decreasing holdings in (0, X)")
    scale = float(_dphi(p, np.array([p.size / n_per]))[0])
    lam2 = 2.0 * p.risk_aversion * p.sigma**2 * p.tau
    u = _objective(p, x)
    it = 0
    gnorm = math.inf
    for it in range(1, max_iter + 1):
        g = _gradient(p, x)
        gnorm = float(np.max(np.abs(g))) / scale
        if gnorm <= tol:
            it -= 1
            break
        full = np.concatenate([[p.size], x, [0.0]])
        c = _d2phi(p, -np.diff(full))           # phi''(n_1..n_N)
        ab = np.zeros((3, n_per - 1))
        ab[1] = c[:-1] + c[1:] + lam2
        ab[0, 1:] = -c[1:-1]
        ab[2, :-1] = -c[1:-1]
        step = -linalg.solve_banded((1, 1), ab, g)
        if float(np.max(np.abs(step))) <= 1e-13 * p.size:
            break  # Newton's correction is below rounding: converged
        # keep every trade n_k = x_{k-1} - x_k positive: fraction to the boundary
        dn = -np.diff(np.concatenate([[0.0], step, [0.0]]))
        n_now = -np.diff(full)
        neg = dn < 0
        t = 1.0
        if np.any(neg):
            t = min(1.0, 0.99 * float(np.min(n_now[neg] / -dn[neg])))
        while True:
            x_new = x + t * step
            u_new = _objective(p, x_new)
            if u_new <= u + 1e-4 * t * float(g @ step) or t < 1e-12:
                break
            t *= 0.5
        if t < 1e-12:  # no decrease left to find: rounding level (or a failure, below)
            break
        x, u = x_new, u_new
    else:
        raise RuntimeError(f"Newton's method did not converge in {max_iter} steps "
                           f"(relative gradient {gnorm:.3g})")
    gnorm = float(np.max(np.abs(_gradient(p, x)))) / scale
    if gnorm > 1e-9:
        raise RuntimeError(f"Newton's method stalled at relative gradient {gnorm:.3g}")
    hold = np.concatenate([[p.size], x, [0.0]])
    trades = -np.diff(hold)
    e = float(0.5 * p.gamma * p.size**2 + _phi(p, trades).sum())
    v = float(p.sigma**2 * p.tau * np.dot(x, x))
    for arr in (times, hold, trades):
        arr.setflags(write=False)
    return NonlinearACSolution(p, times, hold, trades, e, v, it, gnorm)


def nonlinear_frontier(p: NonlinearACParams, risk_aversions: ArrayLike
                       ) -> tuple[FloatArray, FloatArray]:
    r"""The efficient frontier :math:`E(\lambda), V(\lambda)` of [A2003]_ (``p.risk_aversion`` is
    ignored), solved in increasing :math:`\lambda` with each optimum starting the next.

    Parameters
    ----------
    p : NonlinearACParams
    risk_aversions : array_like, shape (L,)
        Each >= 0.

    Returns
    -------
    E, V : ndarray, shape (L,)
    """
    from dataclasses import replace

    lam = np.atleast_1d(np.asarray(risk_aversions, dtype=np.float64))
    if lam.ndim != 1 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise _bad("risk_aversions", lam.tolist()[:5], "a 1-d array of finite values >= 0")
    order = np.argsort(lam)
    e = np.empty(lam.size)
    v = np.empty(lam.size)
    x0: FloatArray | None = None
    for i in order:
        s = nonlinear_optimal(replace(p, risk_aversion=float(lam[i])), x0=x0)
        e[i], v[i] = s.expected_cost, s.variance
        if p.periods > 1:
            x0 = np.array(s.holdings[1:-1])
            if np.any(-np.diff(s.holdings) <= 0):
                x0 = None
    return e, v
