r"""Transient impact: Obizhaeva-Wang's resilient book and the propagator with a decay kernel.

**Discrete formulation implemented.**
A program trades :math:`n_1, \dots, n_M` (base units, positive in the direction of the program,
:math:`\sum_i n_i = X`) at times :math:`t_1 < \dots < t_M` in :math:`[0, T]`. Each unit traded at
:math:`t_i` moves the price met by later trades by

.. math::

    G(t) = \gamma + \kappa\, g(t), \qquad g(0) = 1,\ g \text{ non-increasing},

a permanent part :math:`\gamma` and a transient part :math:`\kappa` that decays with the kernel
:math:`g` (:class:`ExponentialKernel`, :class:`PowerLawKernel`, ...). A trade walks a book whose
depth it has itself displaced: in a block-shaped book of density :math:`q = 1/G(0)` it pays
:math:`\tfrac12 G(0) n_i^2` for its own walk. The expected implementation shortfall against the
arrival price (Gatheral 2010, eq. 2 in discrete time; Alfonsi, Schied & Slynko 2012, eq. 2.2) is

.. math::

    E[C] = \epsilon \sum_i |n_i| + \frac12 \sum_{i=1}^M\sum_{j=1}^M G(|t_i - t_j|)\, n_i n_j
         = \epsilon X + \tfrac12\gamma X^2 + \tfrac12\kappa\, n^\top \Gamma\, n,
    \qquad \Gamma_{ij} = g(|t_i - t_j|),

with :math:`\epsilon` the half spread plus fees per unit. The price risk of the holdings
:math:`x_j = X - \sum_{i \le j} n_i` held over :math:`[t_j, t_{j+1}]` (:math:`t_{M+1} = T`) under
an arithmetic Brownian price of volatility :math:`\sigma` is

.. math:: V = \sigma^2 \sum_{j=1}^M (t_{j+1} - t_j)\, x_j^2 .

**The propagator optimum** (:func:`propagator_optimal`) minimises :math:`E + \lambda V` over
:math:`n` with :math:`\sum n_i = X`, trades of either sign allowed. The objective is quadratic,
so the optimum solves one linear (KKT) system,

.. math::

    \begin{pmatrix} A & \mathbf 1 \\ \mathbf 1^\top & 0 \end{pmatrix}
    \begin{pmatrix} n \\ -\mu \end{pmatrix} = \begin{pmatrix} b \\ X \end{pmatrix},
    \qquad A = \Gamma_G + 2\lambda\sigma^2 C^\top D C,\quad b = 2\lambda\sigma^2 X\, C^\top D\mathbf 1,

with :math:`(\Gamma_G)_{ij} = G(|t_i - t_j|)`, :math:`C` the lower-triangular matrix of ones
(:math:`x = X\mathbf 1 - Cn`) and :math:`D = \mathrm{diag}(t_{j+1} - t_j)`. For
:math:`\lambda = 0` this is Gatheral's and Alfonsi-Schied-Slynko's
:math:`n^\ast = X\,\Gamma^{-1}\mathbf 1 / (\mathbf 1^\top\Gamma^{-1}\mathbf 1)` with
:math:`E = \epsilon X + \tfrac12\gamma X^2 + \tfrac12\kappa X^2/(\mathbf 1^\top\Gamma^{-1}\mathbf 1)`
(the permanent part does not change the optimal schedule, by Sherman-Morrison).

**Obizhaeva & Wang (2013)** (:class:`OWParams`, :func:`ow_optimal`): the block book of depth
:math:`q`, permanent impact :math:`\lambda_{OW} = \gamma`, resilience :math:`\rho`, so
:math:`g(t) = e^{-\rho t}` and :math:`\kappa = 1/q - \gamma`; the paper's discrete problem
(section 4) trades :math:`N + 1` times at :math:`t_n = n\tau`, :math:`\tau = T/N`,
:math:`n = 0..N`. With :math:`a = e^{-\rho\tau}` the kernel matrix :math:`a^{|i-j|}` has a
tridiagonal inverse and the optimum is in closed form (paper, Proposition 1):

.. math::

    x_0 = x_N = \frac{X}{(N-1)(1-a) + 2},\qquad x_n = (1-a)\,x_0 \ (0 < n < N),\qquad
    E = \epsilon X + \tfrac12\gamma X^2 + \frac{\kappa X^2 (1+a)}{2\big((N-1)(1-a) + 2\big)} .

As :math:`N\to\infty` (:func:`ow_continuous`, paper Proposition 3): blocks :math:`X/(\rho T+2)`
at :math:`0` and :math:`T`, a constant rate :math:`\rho X/(\rho T + 2)` between, and
:math:`E = \epsilon X + \tfrac12\gamma X^2 + \kappa X^2/(\rho T + 2)`. The limits:
:math:`\rho\to\infty` (instant refill) gives :math:`N+1` equal trades and
:math:`\kappa X^2/(2(N+1))`, the Almgren-Chriss cost with :math:`\eta/\tau = 1/(2q)`;
:math:`\rho\to 0` (no refill) gives :math:`X/2` at each end and :math:`X^2/(2q)`, the cost of any
schedule.

**Price manipulation** (:func:`manipulation_check`). If :math:`\Gamma_G` is not positive
definite on the trade grid, some round trip (:math:`\sum n_i = 0`) has negative expected cost:
price manipulation in the sense of Huberman & Stanzl, excluded by Gatheral's no-dynamic-arbitrage
condition (the kernel is a positive-definite function). Alfonsi, Schied & Slynko (2012) show
that a positive-definite kernel can still admit *transaction-triggered* manipulation, an optimal
sell program that buys at some times; it cannot when :math:`g` is convex and non-increasing
(their Theorem 1), as the exponential and power-law kernels are.

References
----------
.. [OW2013] A. A. Obizhaeva and J. Wang, "Optimal trading strategy and supply/demand dynamics",
   Journal of Financial Markets 16(1), 1-32 (2013), doi:10.1016/j.finmar.2012.09.001.
.. [G2010] J. Gatheral, "No-dynamic-arbitrage and market impact", Quantitative Finance 10(7),
   749-759 (2010), doi:10.1080/14697680903373692.
.. [ASS2012] A. Alfonsi, A. Schied and A. Slynko, "Order book resilience, price manipulation,
   and the positive portfolio problem", SIAM Journal on Financial Mathematics 3(1), 511-533
   (2012), doi:10.1137/110822098.
.. [BGPW2004] J.-P. Bouchaud, Y. Gefen, M. Potters and M. Wyart, "Fluctuations and response in
   financial markets: the subtle nature of 'random' price changes", Quantitative Finance 4(2),
   176-190 (2004), doi:10.1080/14697680400000022.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg

__all__ = [
    "BoxKernel",
    "DecayKernel",
    "ExponentialKernel",
    "GaussianKernel",
    "ManipulationReport",
    "OWContinuous",
    "OWParams",
    "OWSolution",
    "PowerLawKernel",
    "PropagatorSolution",
    "TransientParams",
    "holdings_variance",
    "manipulation_check",
    "ow_continuous",
    "ow_optimal",
    "propagator_optimal",
    "trade_grid",
    "transient_cost",
]

FloatArray = NDArray[np.float64]


def _bad(name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is invalid: allowed range is {allowed}")


def _real(name: str, value: object, *, low: float | None = None, strict: bool = False,
          high: float | None = None) -> float:
    """A finite real number, optionally bounded below (``strict``: excluded) and above."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    v = float(value) if ok else math.nan  # type: ignore[arg-type]
    rng = "a finite real number"
    if low is not None:
        rng = f"{name} {'>' if strict else '>='} {low:g}"
    if high is not None:
        rng += f" and <= {high:g}"
    if not math.isfinite(v) or (low is not None and (v <= low if strict else v < low)) or (
            high is not None and v > high):
        raise _bad(name, value, rng)
    return v


def _int(name: str, value: object, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < low:
        raise _bad(name, value, f"an integer >= {low}")
    return int(value)


def _readonly(a: ArrayLike) -> FloatArray:
    out = np.array(a, dtype=np.float64)
    out.setflags(write=False)
    return out


# --------------------------------------------------------------------------- kernels


class DecayKernel(ABC):
    r"""The shape :math:`g(t)` of a unit's transient impact, :math:`g(0) = 1`, :math:`t \ge 0`."""

    @abstractmethod
    def __call__(self, t: ArrayLike) -> FloatArray:
        """:math:`g(t)` element-wise for :math:`t \\ge 0`."""

    @property
    @abstractmethod
    def label(self) -> str:
        """A short human-readable description."""

    def matrix(self, times: ArrayLike) -> FloatArray:
        r""":math:`\Gamma_{ij} = g(|t_i - t_j|)` on the trade times."""
        t = np.asarray(times, dtype=np.float64)
        return np.asarray(self(np.abs(t[:, None] - t[None, :])), dtype=np.float64)

    def convex_nonincreasing(self, horizon: float, n: int = 2001) -> bool:
        r"""Whether :math:`g` is non-increasing and convex on :math:`[0, T]` (sampled at ``n``
        points), the sufficient condition of [ASS2012]_ against transaction-triggered
        manipulation."""
        t = np.linspace(0.0, float(horizon), n)
        g = self(t)
        d1 = np.diff(g)
        d2 = np.diff(g, 2)
        tol = 1e-12 * max(1.0, float(np.max(np.abs(g))))
        return bool(np.all(d1 <= tol) and np.all(d2 >= -tol))


@dataclass(frozen=True)
class ExponentialKernel(DecayKernel):
    r"""Exponential resilience :math:`g(t) = e^{-\rho t}` ([OW2013]_).

    Parameters
    ----------
    rate : float
        :math:`\rho > 0`, per time unit; the half-life is :math:`\ln 2/\rho`.
    """

    rate: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", _real("rate", self.rate, low=0.0, strict=True))

    def __call__(self, t: ArrayLike) -> FloatArray:
        return np.exp(-self.rate * np.asarray(t, dtype=np.float64))

    @property
    def label(self) -> str:
        return f"exp(-{self.rate:.3g} t)"


@dataclass(frozen=True)
class PowerLawKernel(DecayKernel):
    r"""Power-law decay :math:`g(t) = (1 + t/\tau_0)^{-\beta}` ([BGPW2004]_, [G2010]_).

    Parameters
    ----------
    tau0 : float
        :math:`\tau_0 > 0`, the time scale below which the impact is flat.
    exponent : float
        :math:`\beta > 0`, the decay exponent (Bouchaud et al. measure about 0.2-0.4).
    """

    tau0: float
    exponent: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau0", _real("tau0", self.tau0, low=0.0, strict=True))
        object.__setattr__(self, "exponent",
                           _real("exponent", self.exponent, low=0.0, strict=True, high=10.0))

    def __call__(self, t: ArrayLike) -> FloatArray:
        return (1.0 + np.asarray(t, dtype=np.float64) / self.tau0) ** (-self.exponent)

    @property
    def label(self) -> str:
        return f"(1 + t/{self.tau0:.3g})^-{self.exponent:.3g}"


@dataclass(frozen=True)
class GaussianKernel(DecayKernel):
    r""":math:`g(t) = e^{-(t/w)^2}`: positive definite but concave near 0, so it admits
    transaction-triggered price manipulation ([ASS2012]_, section 2). For teaching and tests.

    Parameters
    ----------
    width : float
        :math:`w > 0`.
    """

    width: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", _real("width", self.width, low=0.0, strict=True))

    def __call__(self, t: ArrayLike) -> FloatArray:
        return np.exp(-((np.asarray(t, dtype=np.float64) / self.width) ** 2))

    @property
    def label(self) -> str:
        return f"exp(-(t/{self.width:.3g})^2)"


@dataclass(frozen=True)
class BoxKernel(DecayKernel):
    r""":math:`g(t) = 1` for :math:`t < w`, else 0: impact that stays whole for :math:`w` then
    vanishes. Not a positive-definite function (its Fourier transform, a sinc, changes sign),
    so on a grid with spacing below :math:`w` it admits round trips of negative expected cost
    ([G2010]_). For teaching and tests.

    Parameters
    ----------
    width : float
        :math:`w > 0`.
    """

    width: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", _real("width", self.width, low=0.0, strict=True))

    def __call__(self, t: ArrayLike) -> FloatArray:
        return np.where(np.asarray(t, dtype=np.float64) < self.width, 1.0, 0.0)

    @property
    def label(self) -> str:
        return f"1[t < {self.width:.3g}]"


# --------------------------------------------------------------------------- grids, costs


def trade_grid(horizon: float, periods: int, *, include_end: bool = True) -> FloatArray:
    r"""Equally spaced trade times :math:`t_k = k\tau`, :math:`\tau = T/N`.

    ``include_end=True`` gives the :math:`N+1` times :math:`0, \tau, \dots, T` of [OW2013]_;
    ``False`` the :math:`N` period starts :math:`0, \dots, T-\tau` of Almgren-Chriss.
    """
    t = _real("horizon", horizon, low=0.0, strict=True)
    n = _int("periods", periods)
    k = np.arange(n + 1 if include_end else n, dtype=np.float64)
    out = k * (t / n)
    if include_end:
        out[-1] = t  # exactly T, not N * (T/N)
    return out


def _times_sizes(times: ArrayLike, sizes: ArrayLike) -> tuple[FloatArray, FloatArray]:
    t = np.asarray(times, dtype=np.float64)
    n = np.asarray(sizes, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or n.shape != t.shape:
        raise _bad("times/sizes", f"arrays of shapes {t.shape} and {n.shape}",
                   "two 1-d arrays of the same non-zero length")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(n))):
        raise _bad("times/sizes", "non-finite entries", "finite numbers")
    if np.any(np.diff(t) <= 0) or t[0] < 0:
        raise _bad("times", t.tolist()[:6], "strictly increasing times >= 0")
    return t, n


def holdings_variance(times: ArrayLike, sizes: ArrayLike, horizon: float, sigma: float) -> float:
    r"""Price risk of a schedule: :math:`V = \sigma^2\sum_j (t_{j+1}-t_j)\,x_j^2`, :math:`t_{M+1}=T`.

    Holdings :math:`x_j = X - \sum_{i\le j} n_i` after trade :math:`j` are exposed until the
    next trade; on the Almgren-Chriss grid this is their :math:`\sigma^2\tau\sum_k x_k^2`.
    """
    t, n = _times_sizes(times, sizes)
    horizon_ = _real("horizon", horizon, low=float(t[-1]) * (1 - 1e-12))
    horizon_ = max(horizon_, float(t[-1]))
    s = _real("sigma", sigma, low=0.0)
    x = n.sum() - np.cumsum(n)
    dt = np.diff(np.append(t, horizon_))
    return float(s * s * np.dot(dt, x * x))


@dataclass(frozen=True)
class TransientParams:
    r"""A transient-impact model: impact kernel :math:`G(t) = \gamma + \kappa g(t)`.

    Parameters
    ----------
    size : float
        :math:`X > 0`, units to trade.
    horizon : float
        :math:`T > 0`; trades lie in :math:`[0, T]`, holdings are exposed until :math:`T`.
    kernel : DecayKernel
        :math:`g`, the decay of the transient part.
    transient : float
        :math:`\kappa > 0`, price per unit: the decaying part of a unit's impact.
    permanent : float
        :math:`\gamma \ge 0`, price per unit.
    epsilon : float
        Half spread plus fees per unit (>= 0).
    sigma : float
        Volatility of the arithmetic Brownian price, per :math:`\sqrt{\text{time}}` (>= 0).
    risk_aversion : float
        :math:`\lambda \ge 0`.
    """

    size: float
    horizon: float
    kernel: DecayKernel
    transient: float
    permanent: float = 0.0
    epsilon: float = 0.0
    sigma: float = 0.0
    risk_aversion: float = 0.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "size", _real("size", self.size, low=0.0, strict=True))
        set_(self, "horizon", _real("horizon", self.horizon, low=0.0, strict=True))
        if not isinstance(self.kernel, DecayKernel):
            raise _bad("kernel", self.kernel, "a DecayKernel (ExponentialKernel, PowerLawKernel, ...)")
        set_(self, "transient", _real("transient", self.transient, low=0.0, strict=True))
        set_(self, "permanent", _real("permanent", self.permanent, low=0.0))
        set_(self, "epsilon", _real("epsilon", self.epsilon, low=0.0))
        set_(self, "sigma", _real("sigma", self.sigma, low=0.0))
        set_(self, "risk_aversion", _real("risk_aversion", self.risk_aversion, low=0.0))

    @property
    def depth(self) -> float:
        r""":math:`q = 1/G(0) = 1/(\gamma + \kappa)`, the block-book density the model implies."""
        return 1.0 / (self.permanent + self.transient)

    def impact_matrix(self, times: ArrayLike) -> FloatArray:
        r""":math:`G(|t_i - t_j|) = \gamma + \kappa\,g(|t_i - t_j|)`."""
        return self.permanent + self.transient * self.kernel.matrix(times)


def transient_cost(p: TransientParams, times: ArrayLike, sizes: ArrayLike) -> float:
    r"""Expected shortfall of ANY schedule by the double sum
    :math:`\epsilon\sum|n_i| + \tfrac12\sum_i\sum_j G(|t_i-t_j|)\,n_i n_j`.

    Parameters
    ----------
    p : TransientParams
    times, sizes : array_like, shape (M,)
        Strictly increasing trade times in :math:`[0, T]` and trades (any sign; they need not
        sum to :math:`X`: a round trip, :math:`\sum n_i = 0`, is allowed).
    """
    t, n = _times_sizes(times, sizes)
    if t[-1] > p.horizon * (1 + 1e-12):
        raise _bad("times", float(t[-1]), f"times <= horizon = {p.horizon!r}")
    g = p.impact_matrix(t)
    return float(p.epsilon * np.abs(n).sum() + 0.5 * n @ g @ n)


@dataclass(frozen=True)
class PropagatorSolution:
    """The optimum of :func:`propagator_optimal` (read-only arrays).

    Attributes
    ----------
    params : TransientParams
    times, trade_list : ndarray, shape (M,)
    holdings : ndarray, shape (M+1,)
        :math:`X` before the first trade, then after each trade (the last is 0).
    expected_cost, variance : float
        :math:`E` (the :math:`\\epsilon` term as :math:`\\epsilon\\sum|n_i|`) and :math:`V`.
    multiplier : float
        :math:`\\mu`, the Lagrange multiplier of :math:`\\sum n_i = X`.
    monotone : bool
        True when no trade goes against the program (all :math:`n_i \\ge 0`).
    """

    params: TransientParams
    times: FloatArray = field(repr=False)
    trade_list: FloatArray = field(repr=False)
    holdings: FloatArray = field(repr=False)
    expected_cost: float
    variance: float
    multiplier: float
    monotone: bool

    @property
    def std(self) -> float:
        r""":math:`\sqrt V`."""
        return math.sqrt(self.variance)


def _kkt(a: FloatArray, b: FloatArray, x: float) -> tuple[FloatArray, float]:
    """Solve min 1/2 n'An - b'n s.t. 1'n = x through a Cholesky factor of A (PD required)."""
    try:
        c = linalg.cho_factor(a, lower=True, check_finite=False)
    except linalg.LinAlgError as e:
        raise ValueError("the impact matrix is not positive definite on these trade times, so "
                         "the problem has no minimum (a round trip of negative cost exists); "
                         "see manipulation_check()") from e
    one = np.ones(a.shape[0])
    u = linalg.cho_solve(c, one, check_finite=False)
    w = linalg.cho_solve(c, b, check_finite=False)
    mu = (x - float(one @ w)) / float(one @ u)
    return w + mu * u, mu


def propagator_optimal(p: TransientParams, times: ArrayLike) -> PropagatorSolution:
    r"""The optimal schedule on ``times`` under the transient-impact model ``p`` (KKT system).

    Minimises :math:`\tfrac12 n^\top\Gamma_G n + \lambda V` subject to :math:`\sum n_i = X` (the
    module docstring gives the system); for :math:`\lambda = 0` the optimum is
    :math:`X\Gamma^{-1}\mathbf 1/(\mathbf 1^\top\Gamma^{-1}\mathbf 1)` ([G2010]_, [ASS2012]_).
    The spread term :math:`\epsilon\sum|n_i|` is left out of the optimisation (it is
    :math:`\epsilon X` for any monotone schedule) and added to the reported cost.

    Parameters
    ----------
    p : TransientParams
    times : array_like, shape (M,)
        Strictly increasing, in :math:`[0, T]` (e.g. :func:`trade_grid`).

    Returns
    -------
    PropagatorSolution

    Raises
    ------
    ValueError
        When the impact matrix is not positive definite on ``times`` (see
        :func:`manipulation_check`).
    """
    t = np.asarray(times, dtype=np.float64)
    t, _ = _times_sizes(t, np.zeros_like(t))
    if t[-1] > p.horizon * (1 + 1e-12):
        raise _bad("times", float(t[-1]), f"times <= horizon = {p.horizon!r}")
    m = t.size
    a = p.impact_matrix(t)
    b = np.zeros(m)
    lam = p.risk_aversion * p.sigma**2
    if lam > 0:
        dt = np.diff(np.append(t, p.horizon))
        c = np.tril(np.ones((m, m)))
        a = a + 2.0 * lam * (c.T * dt) @ c
        b = 2.0 * lam * p.size * (c.T @ dt)
    n, mu = _kkt(a, b, p.size)
    x = np.concatenate([[p.size], p.size - np.cumsum(n)])
    x[-1] = 0.0
    e = transient_cost(p, t, n)
    v = holdings_variance(t, n, p.horizon, p.sigma)
    return PropagatorSolution(p, _readonly(t), _readonly(n), _readonly(x), e, v, float(mu),
                              bool(np.all(n >= -1e-12 * p.size)))


# --------------------------------------------------------------------------- Obizhaeva-Wang


@dataclass(frozen=True)
class OWParams:
    r"""The discrete Obizhaeva-Wang problem [OW2013]_ (section 4): :math:`N+1` trades at
    :math:`t_n = n\tau`, :math:`\tau = T/N`, :math:`n = 0..N`.

    Parameters
    ----------
    size : float
        :math:`X > 0`, units to trade.
    horizon : float
        :math:`T > 0`.
    periods : int
        :math:`N \ge 1` intervals (so :math:`N+1` trades).
    depth : float
        :math:`q > 0`, the book's density (units per unit of price).
    resilience : float
        :math:`\rho > 0`, per time unit: the displacement decays as :math:`e^{-\rho t}`.
    permanent : float
        :math:`\lambda_{OW}`, written :math:`\gamma` here, in :math:`[0, 1/q)`: the part of a unit's
        impact :math:`1/q` that never decays; :math:`\kappa = 1/q - \gamma > 0` is the rest.
    epsilon : float
        Half spread (plus fees) per unit, >= 0 (the paper's :math:`s/2`).
    sigma : float
        Price volatility per :math:`\sqrt{\text{time}}` (>= 0), for the reported variance.
    """

    size: float
    horizon: float
    periods: int
    depth: float
    resilience: float
    permanent: float = 0.0
    epsilon: float = 0.0
    sigma: float = 0.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "size", _real("size", self.size, low=0.0, strict=True))
        set_(self, "horizon", _real("horizon", self.horizon, low=0.0, strict=True))
        set_(self, "periods", _int("periods", self.periods))
        set_(self, "depth", _real("depth", self.depth, low=0.0, strict=True))
        set_(self, "resilience", _real("resilience", self.resilience, low=0.0, strict=True))
        set_(self, "permanent", _real("permanent", self.permanent, low=0.0))
        set_(self, "epsilon", _real("epsilon", self.epsilon, low=0.0))
        set_(self, "sigma", _real("sigma", self.sigma, low=0.0))
        if self.permanent * self.depth >= 1.0:
            raise ValueError(
                f"permanent={self.permanent!r} is invalid: allowed range is 0 <= permanent < "
                f"1/depth = {1.0 / self.depth!r} (kappa = 1/depth - permanent must stay > 0)")

    @property
    def tau(self) -> float:
        r""":math:`\tau = T/N`."""
        return self.horizon / self.periods

    @property
    def kappa(self) -> float:
        r""":math:`\kappa = 1/q - \gamma`, the transient impact per unit."""
        return 1.0 / self.depth - self.permanent

    @property
    def decay(self) -> float:
        r""":math:`a = e^{-\rho\tau}`."""
        return math.exp(-self.resilience * self.tau)

    def transient_params(self, risk_aversion: float = 0.0) -> TransientParams:
        """The same model as a :class:`TransientParams` with an :class:`ExponentialKernel`."""
        return TransientParams(self.size, self.horizon, ExponentialKernel(self.resilience),
                               self.kappa, self.permanent, self.epsilon, self.sigma,
                               risk_aversion)


@dataclass(frozen=True)
class OWSolution:
    """The Obizhaeva-Wang optimum (read-only arrays).

    Attributes
    ----------
    params : OWParams
    times, trade_list : ndarray, shape (N+1,)
    holdings : ndarray, shape (N+2,)
        :math:`X`, then the holdings after each trade.
    initial_block, final_block, interior_trade : float
        :math:`x_0`, :math:`x_N` and each :math:`x_n` for :math:`0 < n < N`.
    expected_cost, variance : float
    """

    params: OWParams
    times: FloatArray = field(repr=False)
    trade_list: FloatArray = field(repr=False)
    holdings: FloatArray = field(repr=False)
    initial_block: float
    final_block: float
    interior_trade: float
    expected_cost: float
    variance: float

    @property
    def std(self) -> float:
        r""":math:`\sqrt V`."""
        return math.sqrt(self.variance)


def ow_optimal(p: OWParams) -> OWSolution:
    r"""The discrete Obizhaeva-Wang optimum in closed form ([OW2013]_, Proposition 1).

    .. math::

        x_0 = x_N = \frac{X}{(N-1)(1-a)+2},\quad x_n = (1-a)x_0,\quad
        E = \epsilon X + \tfrac12\gamma X^2 + \frac{\kappa X^2(1+a)}{2((N-1)(1-a)+2)},

    :math:`a = e^{-\rho\tau}`, with :math:`1 - a` computed as ``-expm1(-rho tau)`` so that
    :math:`\rho\tau \to 0` keeps full precision.

    Examples
    --------
    >>> s = ow_optimal(OWParams(size=1e5, horizon=1.0, periods=10, depth=5e4,
    ...                         resilience=5.0, permanent=0.0))
    >>> round(s.initial_block), round(s.interior_trade), round(s.final_block)
    (18047, 7101, 18047)
    """
    n = p.periods
    one_minus_a = -math.expm1(-p.resilience * p.tau)
    a = 1.0 - one_minus_a
    den = (n - 1) * one_minus_a + 2.0
    x0 = p.size / den
    trades = np.full(n + 1, one_minus_a * x0)
    trades[0] = trades[-1] = x0
    times = trade_grid(p.horizon, n)
    hold = np.concatenate([[p.size], p.size - np.cumsum(trades)])
    hold[-1] = 0.0
    e = p.epsilon * p.size + 0.5 * p.permanent * p.size**2 + (
        p.kappa * p.size**2 * (1.0 + a) / (2.0 * den))
    v = holdings_variance(times, trades, p.horizon, p.sigma)
    return OWSolution(p, _readonly(times), _readonly(trades), _readonly(hold), x0, x0,
                      one_minus_a * x0 if n > 1 else 0.0, float(e), v)


@dataclass(frozen=True)
class OWContinuous:
    r"""The continuous-time Obizhaeva-Wang optimum ([OW2013]_, Proposition 3).

    Attributes
    ----------
    initial_block, final_block : float
        :math:`X/(\rho T + 2)` at :math:`t = 0` and :math:`t = T`.
    rate : float
        :math:`\rho X/(\rho T + 2)` per time unit on :math:`(0, T)`.
    expected_cost : float
        :math:`\epsilon X + \tfrac12\gamma X^2 + \kappa X^2/(\rho T + 2)`.
    variance : float
        :math:`\sigma^2\int_0^T x(t)^2dt = \sigma^2 X^2\,\frac{(1+\rho T)^3 - 1}{3\rho(\rho T+2)^2}`.
    """

    params: OWParams
    initial_block: float
    final_block: float
    rate: float
    expected_cost: float
    variance: float

    def holdings(self, t: ArrayLike) -> FloatArray:
        r""":math:`x(t)` after the initial block: :math:`X(1 + \rho(T - t))/(\rho T + 2)` on
        :math:`(0, T)`, 0 at :math:`T`."""
        p = self.params
        tt = np.asarray(t, dtype=np.float64)
        x = p.size * (1.0 + p.resilience * (p.horizon - tt)) / (p.resilience * p.horizon + 2.0)
        return np.where(tt >= p.horizon, 0.0, x)


def ow_continuous(p: OWParams) -> OWContinuous:
    r"""The :math:`N \to \infty` limit of :func:`ow_optimal` (``p.periods`` is ignored)."""
    rt = p.resilience * p.horizon
    x0 = p.size / (rt + 2.0)
    e = p.epsilon * p.size + 0.5 * p.permanent * p.size**2 + p.kappa * p.size**2 / (rt + 2.0)
    v = p.sigma**2 * p.size**2 * ((1.0 + rt) ** 3 - 1.0) / (3.0 * p.resilience * (rt + 2.0) ** 2)
    return OWContinuous(p, x0, x0, p.resilience * x0, float(e), float(v))


# --------------------------------------------------------------------------- manipulation


@dataclass(frozen=True)
class ManipulationReport:
    """Whether a transient-impact model admits price manipulation on a trade grid.

    Attributes
    ----------
    positive_definite : bool
        The kernel matrix :math:`g(|t_i - t_j|)` is positive definite (smallest eigenvalue
        above :math:`10^{-12}` of the largest).
    min_eigenvalue : float
        Smallest eigenvalue of the kernel matrix.
    round_trip : ndarray or None
        A round trip (:math:`\\sum n_i = 0`, :math:`\\|n\\| = 1`) of negative expected impact
        cost when one exists, else None.
    round_trip_cost : float
        :math:`\\tfrac12\\kappa\\, n^\\top\\Gamma n` of that round trip (the most negative one);
        >= 0 means no round trip pays.
    transaction_triggered : bool
        The risk-neutral optimal program of one unit has a trade against its direction
        (larger than :math:`10^{-9}` of the program): [ASS2012]_'s transaction-triggered
        manipulation. False when the matrix is not positive definite (no optimum).
    convex_nonincreasing : bool
        :math:`g` is convex and non-increasing on the grid's span (sufficient for no
        transaction-triggered manipulation, [ASS2012]_ Theorem 1).
    optimum : ndarray or None
        That optimal program (sums to 1), when it exists.
    """

    positive_definite: bool
    min_eigenvalue: float
    round_trip: FloatArray | None = field(repr=False)
    round_trip_cost: float
    transaction_triggered: bool
    convex_nonincreasing: bool
    optimum: FloatArray | None = field(repr=False)

    @property
    def ok(self) -> bool:
        """No manipulation of either kind on this grid."""
        return self.positive_definite and not self.transaction_triggered

    @property
    def message(self) -> str:
        if not self.positive_definite:
            return ("price manipulation: the kernel matrix is not positive definite "
                    f"(smallest eigenvalue {self.min_eigenvalue:.3g}); a round trip has expected "
                    f"cost {self.round_trip_cost:.3g} < 0 per unit^2")
        if self.transaction_triggered:
            return ("transaction-triggered price manipulation: the optimal program trades "
                    "against its own direction (the kernel is not convex and non-increasing)")
        return "no price manipulation on this grid"

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "positive_definite": self.positive_definite,
                "min_eigenvalue": self.min_eigenvalue, "round_trip_cost": self.round_trip_cost,
                "transaction_triggered": self.transaction_triggered,
                "convex_nonincreasing": self.convex_nonincreasing, "message": self.message}


def manipulation_check(kernel: DecayKernel, times: ArrayLike, transient: float = 1.0
                       ) -> ManipulationReport:
    r"""Check a kernel for price manipulation on the trade times ([G2010]_, [ASS2012]_).

    1. Round trips: the smallest value of :math:`\tfrac12\kappa n^\top\Gamma n` over
       :math:`\sum n_i = 0`, :math:`\|n\| = 1` is :math:`\tfrac12\kappa` times the smallest
       eigenvalue of :math:`P\Gamma P` on the complement of :math:`\mathbf 1`
       (:math:`P = I - \mathbf 1\mathbf 1^\top/M`). The permanent part :math:`\gamma` drops out
       of any round trip.
    2. Positive definiteness of :math:`\Gamma` (needed for the optimum to exist).
    3. Transaction-triggered manipulation: the sign of every trade of the optimum
       :math:`\Gamma^{-1}\mathbf 1/(\mathbf 1^\top\Gamma^{-1}\mathbf 1)`.

    Parameters
    ----------
    kernel : DecayKernel
    times : array_like, shape (M,)
        Strictly increasing, M >= 2.
    transient : float
        :math:`\kappa > 0`, scales the round-trip cost only.
    """
    t = np.asarray(times, dtype=np.float64)
    t, _ = _times_sizes(t, np.zeros_like(t))
    if t.size < 2:
        raise _bad("times", t.tolist(), "at least 2 trade times")
    k = _real("transient", transient, low=0.0, strict=True)
    g = kernel.matrix(t)
    ev = np.linalg.eigvalsh(g)
    lo, hi = float(ev[0]), float(ev[-1])
    pd = lo > 1e-12 * max(hi, 1e-300)
    m = t.size
    # orthonormal basis of the complement of 1: the last m-1 columns of a Householder-like QR
    q, _ = np.linalg.qr(np.column_stack([np.ones(m), np.eye(m)[:, : m - 1]]))
    b = q[:, 1:]
    w, v = np.linalg.eigh(b.T @ g @ b)
    rt_cost = 0.5 * k * float(w[0])
    rt = b @ v[:, 0] if rt_cost < -1e-12 * k * hi else None
    opt = None
    triggered = False
    if pd:
        u = np.linalg.solve(g, np.ones(m))
        opt = u / u.sum()
        triggered = bool(np.any(opt < -1e-9))
    return ManipulationReport(pd, lo, None if rt is None else _readonly(rt), rt_cost, triggered,
                              kernel.convex_nonincreasing(float(t[-1] - t[0])),
                              None if opt is None else _readonly(opt))
