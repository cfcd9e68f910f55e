r"""One schedule type for every execution strategy: TWAP, VWAP, percentage of volume and each
impact model's optimum.

A :class:`Schedule` is a list of child orders :math:`n_1, \dots, n_M` (base units, positive in
the direction of the parent order, :math:`X = \sum n_i`) at times
:math:`0 \le t_1 < \dots < t_M \le T` (seconds on a recording, the model's time unit
elsewhere). Holdings after child :math:`j` are :math:`x_j = X - \sum_{i\le j} n_i`, exposed to
the price until the next child (:math:`t_{M+1} = T`), so under an arithmetic Brownian price of
volatility :math:`\sigma`

.. math:: V = \sigma^2\sum_{j=1}^M (t_{j+1} - t_j)\,x_j^2 .

**Constructors.**

* :meth:`Schedule.twap` -- :math:`N` equal children at the period starts :math:`t_k = k\tau`
  (:math:`\tau = T/N`), the Almgren-Chriss grid.
* :meth:`Schedule.vwap` -- children proportional to a volume profile :math:`w_k`:
  :math:`n_k = X w_k/\sum_j w_j`; :func:`volume_profile` estimates :math:`w` from trades.
* :meth:`Schedule.pov` -- percentage of volume at rate :math:`r`: child :math:`k` is
  :math:`\frac{r}{1-r}V_{k-1}` (so that it is the fraction :math:`r` of the volume it joins),
  :math:`V_{k-1}` the market volume of the period before it, capped at what remains; the last
  child takes the remainder, so the program completes at :math:`t_N = T - \tau`.
* :meth:`Schedule.from_ac`, :meth:`Schedule.from_ow`, :meth:`Schedule.from_propagator`,
  :meth:`Schedule.from_nonlinear` -- the optima of :mod:`tradesim_nb.costs.almgren_chriss`,
  :mod:`tradesim_nb.impact.transient` and :mod:`tradesim_nb.impact.nonlinear` (the
  Obizhaeva-Wang optimum trades :math:`N+1` times, at :math:`0, \tau, \dots, T`).

References
----------
* R. Almgren and N. Chriss, "Optimal execution of portfolio transactions", J. Risk 3 (2000) 5-39.
* S. Berkowitz, D. Logue and E. Noser, "The total cost of transactions on the NYSE", J. Finance
  43(1) (1988) 97-112 (the VWAP benchmark).
* A. A. Obizhaeva and J. Wang, "Optimal trading strategy and supply/demand dynamics",
  J. Financial Markets 16(1) (2013) 1-32.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..impact.transient import holdings_variance, ow_optimal, propagator_optimal, trade_grid

if TYPE_CHECKING:  # pragma: no cover
    from ..costs.almgren_chriss import ACParams
    from ..impact.nonlinear import NonlinearACParams
    from ..impact.transient import OWParams, TransientParams

__all__ = ["Schedule", "volume_profile"]

FloatArray = NDArray[np.float64]


def _bad(name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is invalid: allowed range is {allowed}")


def _pos(name: str, value: object) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    v = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not (math.isfinite(v) and v > 0):
        raise _bad(name, value, f"a finite {name} > 0")
    return v


def _periods(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < 1:
        raise _bad("periods", value, "an integer >= 1")
    return int(value)


def _ro(a: ArrayLike) -> FloatArray:
    out = np.array(a, dtype=np.float64)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Schedule:
    r"""Child orders of one parent order: sizes :math:`n_i` at times :math:`t_i` in :math:`[0, T]`.

    Parameters
    ----------
    name : str
        How tables and plots label it.
    times : array_like, shape (M,)
        Strictly increasing, :math:`0 \le t_1`, :math:`t_M \le T`.
    sizes : array_like, shape (M,)
        Child sizes, finite, in the direction of the parent order (a negative entry trades
        against it, as some transient-impact optima do); :math:`\sum n_i > 0`.
    horizon : float
        :math:`T > 0`.
    kind : str
        ``"twap"``, ``"vwap"``, ``"pov"``, ``"ac"``, ``"ow"``, ``"propagator"``,
        ``"nonlinear-ac"``, ``"immediate"`` or ``"custom"``.
    """

    name: str
    times: FloatArray = field(repr=False)
    sizes: FloatArray = field(repr=False)
    horizon: float
    kind: str = "custom"

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=np.float64)
        n = np.asarray(self.sizes, dtype=np.float64)
        h = _pos("horizon", self.horizon)
        if t.ndim != 1 or t.size == 0 or n.shape != t.shape:
            raise _bad("times/sizes", f"arrays of shapes {t.shape} and {n.shape}",
                       "two 1-d arrays of the same non-zero length")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(n))):
            raise _bad("times/sizes", "non-finite entries", "finite numbers")
        if t[0] < 0 or np.any(np.diff(t) <= 0) or t[-1] > h * (1 + 1e-12):
            raise _bad("times", t.tolist()[:8], f"strictly increasing times in [0, {h!r}]")
        if not float(n.sum()) > 0:
            raise _bad("sizes", f"sum {float(n.sum())!r}", "a schedule whose sizes sum to > 0")
        object.__setattr__(self, "times", _ro(t))
        object.__setattr__(self, "sizes", _ro(n))
        object.__setattr__(self, "horizon", h)

    # -- derived ------------------------------------------------------------------------
    @property
    def size(self) -> float:
        r""":math:`X = \sum n_i`."""
        return float(self.sizes.sum())

    @property
    def children(self) -> int:
        return int(self.sizes.size)

    @property
    def holdings(self) -> FloatArray:
        r""":math:`x_0 = X` (before the first child), then after each child; shape (M+1,)."""
        x = np.concatenate([[self.size], self.size - np.cumsum(self.sizes)])
        x[-1] = 0.0
        return x

    @property
    def monotone(self) -> bool:
        """No child goes against the parent order."""
        return bool(np.all(self.sizes >= 0))

    def variance(self, sigma: float) -> float:
        r""":math:`V = \sigma^2\sum_j (t_{j+1}-t_j)x_j^2` (:math:`t_{M+1} = T`)."""
        return holdings_variance(self.times, self.sizes, self.horizon, sigma)

    def std(self, sigma: float) -> float:
        r""":math:`\sqrt V`."""
        return math.sqrt(self.variance(sigma))

    def scaled(self, size: float, name: str | None = None) -> Schedule:
        """The same shape for a parent order of ``size``."""
        f = _pos("size", size) / self.size
        return Schedule(name or self.name, self.times, self.sizes * f, self.horizon, self.kind)

    def to_frame(self) -> pd.DataFrame:
        """One row per child: ``time``, ``size``, ``holdings_after``."""
        return pd.DataFrame({"time": self.times, "size": self.sizes,
                             "holdings_after": self.holdings[1:]})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "horizon": self.horizon,
                "times": self.times.tolist(), "sizes": self.sizes.tolist()}

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def twap(cls, size: float, horizon: float, periods: int, name: str = "TWAP") -> Schedule:
        r""":math:`N` equal children :math:`X/N` at :math:`t_k = k\tau`, :math:`k = 0..N-1`."""
        x = _pos("size", size)
        n = _periods(periods)
        return cls(name, trade_grid(horizon, n, include_end=False), np.full(n, x / n),
                   float(horizon), "twap")

    @classmethod
    def immediate(cls, size: float, horizon: float, name: str = "immediate") -> Schedule:
        """Everything in one child at :math:`t = 0`."""
        return cls(name, np.zeros(1), np.array([_pos("size", size)]), horizon, "immediate")

    @classmethod
    def vwap(cls, size: float, horizon: float, profile: ArrayLike, name: str = "VWAP"
             ) -> Schedule:
        r"""Children :math:`n_k = X w_k/\sum_j w_j` at the period starts, one a period of the profile.

        Parameters
        ----------
        size, horizon : float
        profile : array_like, shape (N,)
            Expected volume (any unit) of each period, >= 0 with a positive sum; see
            :func:`volume_profile`.
        """
        x = _pos("size", size)
        w = np.asarray(profile, dtype=np.float64)
        if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or not (
                w.sum() > 0):
            raise _bad("profile", w.tolist()[:8], "a 1-d array of volumes >= 0 with sum > 0")
        return cls(name, trade_grid(horizon, w.size, include_end=False), x * w / w.sum(),
                   float(horizon), "vwap")

    @classmethod
    def pov(cls, size: float, horizon: float, volumes: ArrayLike, rate: float,
            name: str = "POV") -> Schedule:
        r"""Percentage of volume: child :math:`k` (at :math:`t_k = k\tau`) is
        :math:`\min\big(\tfrac{r}{1-r}V_{k-1},\ X - \sum_{i<k} n_i\big)`, the last child the
        remainder.

        Parameters
        ----------
        size, horizon : float
        volumes : array_like, shape (N,)
            :math:`V_{k-1}`: market volume (base units) of the period that ends at :math:`t_k`
            (the first one precedes the start).
        rate : float
            :math:`r \in (0, 1)`, the target share of the volume.
        """
        x = _pos("size", size)
        r = float(rate) if isinstance(rate, int | float) and not isinstance(rate, bool) else math.nan
        if not 0.0 < r < 1.0:
            raise _bad("rate", rate, "0 < rate < 1")
        v = np.asarray(volumes, dtype=np.float64)
        if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)) or np.any(v < 0):
            raise _bad("volumes", v.tolist()[:8], "a 1-d array of volumes >= 0")
        want = r / (1.0 - r) * v
        sizes = np.empty(v.size)
        left = x
        for k in range(v.size):
            sizes[k] = left if k == v.size - 1 else min(want[k], left)
            left -= sizes[k]
        return cls(name, trade_grid(horizon, v.size, include_end=False), sizes, float(horizon),
                   "pov")

    @classmethod
    def from_ac(cls, p: ACParams, name: str = "AC optimal") -> Schedule:
        """The Almgren-Chriss optimum: ``trade_list`` at the period starts."""
        from ..costs.almgren_chriss import optimal_execution

        s = optimal_execution(p)
        return cls(name, s.times[:-1], s.trade_list, p.horizon, "ac")

    @classmethod
    def from_ow(cls, p: OWParams, name: str = "OW optimal") -> Schedule:
        """The Obizhaeva-Wang optimum: :math:`N+1` trades at :math:`0, \\tau, \\dots, T`."""
        s = ow_optimal(p)
        return cls(name, s.times, s.trade_list, p.horizon, "ow")

    @classmethod
    def from_propagator(cls, p: TransientParams, times: ArrayLike,
                        name: str = "propagator optimal") -> Schedule:
        """The optimum of :func:`~tradesim_nb.impact.transient.propagator_optimal` on ``times``."""
        s = propagator_optimal(p, times)
        return cls(name, s.times, s.trade_list, p.horizon, "propagator")

    @classmethod
    def from_nonlinear(cls, p: NonlinearACParams, name: str = "nonlinear AC optimal"
                       ) -> Schedule:
        """The optimum of :func:`~tradesim_nb.impact.nonlinear.nonlinear_optimal`."""
        from ..impact.nonlinear import nonlinear_optimal

        s = nonlinear_optimal(p)
        return cls(name, s.times[:-1], s.trade_list, p.horizon, "nonlinear-ac")


def volume_profile(trade_times: ArrayLike, trade_qty: ArrayLike, start: float, horizon: float,
                   periods: int, *, lookback: int | None = None,
                   earliest: float | None = None) -> FloatArray:
    r"""Expected volume per period of a window from the windows before it (no look-ahead).

    The window :math:`[s, s+T)` is cut into :math:`N` periods; the profile is the mean, over the
    ``lookback`` complete windows :math:`[s - jT, s - (j-1)T)` before :math:`s` (default all
    that the trades cover), of the volume traded in the same period of each window:

    .. math:: w_k = \frac1J\sum_{j=1}^J \sum_{i:\ t_i \in [s - jT + k\tau,\ s - jT + (k+1)\tau)} q_i .

    Parameters
    ----------
    trade_times, trade_qty : array_like, shape (m,)
        Trade times (same unit as ``start``) and unsigned sizes.
    start, horizon : float
    periods : int
    lookback : int, optional
        Number of earlier windows to average (>= 1).
    earliest : float, optional
        Where the data begin (default the first trade): windows start at or after it.

    Raises
    ------
    ValueError
        When no complete earlier window exists, or the earlier windows hold no volume.
    """
    t = np.asarray(trade_times, dtype=np.float64)
    q = np.asarray(trade_qty, dtype=np.float64)
    if t.shape != q.shape or t.ndim != 1:
        raise _bad("trade_times/trade_qty", f"shapes {t.shape}, {q.shape}", "equal 1-d shapes")
    h = _pos("horizon", horizon)
    n = _periods(periods)
    s = float(start)
    first = float(earliest) if earliest is not None else (float(t.min()) if t.size else s)
    avail = math.floor((s - first) / h + 1e-9)
    j = avail if lookback is None else min(avail, _periods(lookback))
    if j < 1:
        raise ValueError(f"start={start!r} is invalid: allowed range is start >= the data's start "
                         f"({first!r}) + horizon ({h!r}); no complete window precedes it to estimate a profile")
    lo = s - j * h
    sel = (t >= lo) & (t < s)
    k = np.floor((t[sel] - lo) / (h / n)).astype(int) % n
    w = np.bincount(k, weights=q[sel], minlength=n)[:n] / j
    if not w.sum() > 0:
        raise ValueError(f"the {j} window(s) before start={start!r} hold no volume")
    return w
