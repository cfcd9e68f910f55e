r"""Impact-aware replay: run a schedule on recorded books that the schedule itself moves.

A recording knows nothing of our orders; replayed untouched
(:func:`tradesim_nb.execution.execute_on_books`), a schedule never pays for the liquidity it
took a moment earlier. Here child :math:`k` (size :math:`n_k` at :math:`t_k`, side
:math:`s = +1` buy, :math:`-1` sell) walks the recorded book at :math:`t_k` changed by every
earlier child :math:`i < k` in two ways (:class:`ReplayImpact`):

* **permanent impact shifts the book**: every price moves by :math:`s\gamma n_i`;
* **the liquidity it took stays taken and refills**: the front
  :math:`D_k = \sum_{i<k} \theta\, n_i\, g(t_k - t_i)` units of the side it hits are missing,
  :math:`g` the refill kernel (:class:`~tradesim_nb.impact.transient.ExponentialKernel` with the
  resilience :math:`\rho` estimated from the recording, or given; or a power law), and
  :math:`\theta = 1 - \gamma q` when a book density :math:`q` is given (so that right after a
  child the front sits where its walk left it, Obizhaeva-Wang's split of the displacement
  :math:`n/q` into :math:`\gamma n` permanent and :math:`\kappa n` transient), else
  :math:`\theta = 1`.

So child :math:`k` takes units :math:`D_k` to :math:`D_k + n_k` of the shifted book and fills at
:math:`\tilde p_k`. Against the arrival mid :math:`S_0`, with :math:`m_k`, :math:`b_k` the
recorded mid and touch (best price on the side it hits) at :math:`t_k`, its shortfall splits
exactly into

.. math::

    s\,n_k(\tilde p_k - S_0) =
    \underbrace{s\,n_k(b_k - m_k)}_{\text{spread}} +
    \underbrace{n_k\,\gamma\textstyle\sum_{i<k} n_i}_{\text{permanent}} +
    \underbrace{s\,n_k(\tilde p_k - b_k) - n_k\gamma\textstyle\sum_{i<k}n_i}_{\text{temporary}} +
    \underbrace{s\,n_k(m_k - S_0)}_{\text{timing}},

plus the **fees**, :math:`f\,n_k\tilde p_k` at the taker rate :math:`f`
(:mod:`tradesim_nb.costs.fees`). With ``impact=None`` the books are left untouched and the
permanent part is 0. :func:`replay_many` runs several schedules over many start times and
:class:`ReplayComparison` tabulates the distributions of realised cost, beside each model's
expected cost and :math:`\sqrt V` (:class:`ExecutionModels`, fitted from the same recording by
:func:`fit_execution_models`).

On :class:`tradesim_nb.resilient_market.ResilientMarket` with its true :math:`\rho, \gamma, q`
this replay of the market's own (untouched) tape reproduces, child for child, what the market
does when the schedule trades in it.

References
----------
* A. A. Obizhaeva and J. Wang, "Optimal trading strategy and supply/demand dynamics",
  J. Financial Markets 16(1) (2013) 1-32.
* A. F. Perold, "The implementation shortfall: paper versus reality", J. Portfolio Management
  14(3) (1988) 4-9.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..impact.transient import DecayKernel, ExponentialKernel, PowerLawKernel, transient_cost
from .schedules import Schedule, volume_profile
from .tape import BookTape

if TYPE_CHECKING:  # pragma: no cover
    from ..calibrate import ImpactFit
    from ..costs.almgren_chriss import ACParams
    from ..impact.nonlinear import NonlinearACParams
    from ..impact.transient import OWParams, TransientParams

__all__ = [
    "COMPONENTS",
    "ExecutionModels",
    "ReplayComparison",
    "ReplayImpact",
    "ReplayRun",
    "fit_execution_models",
    "replay_many",
    "replay_schedule",
    "standard_schedules",
]

FloatArray = NDArray[np.float64]
Side = Literal["buy", "sell"]
ScheduleSpec = Schedule | Callable[[BookTape, float], Schedule]

#: the parts of the shortfall, in the order tables show them
COMPONENTS = ("spread", "temporary", "permanent", "timing", "fees")


@dataclass(frozen=True)
class ReplayImpact:
    r"""How our own children change the recorded books that follow them.

    Parameters
    ----------
    kernel : DecayKernel
        :math:`g`, how the taken liquidity refills (:math:`g(0) = 1`).
    permanent : float
        :math:`\gamma \ge 0`, price per unit: the shift of every later book.
    depth : float, optional
        :math:`q > 0`: the taken share is then :math:`\theta = \max(0, 1 - \gamma q)`
        (Obizhaeva-Wang); without it :math:`\theta = 1`.
    """

    kernel: DecayKernel
    permanent: float = 0.0
    depth: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kernel, DecayKernel):
            raise ValueError(f"kernel={self.kernel!r} is invalid: allowed range is a DecayKernel")
        g = self.permanent
        if isinstance(g, bool) or not isinstance(g, int | float) or not (math.isfinite(g) and g >= 0):
            raise ValueError(f"permanent={g!r} is invalid: allowed range is a finite number >= 0")
        object.__setattr__(self, "permanent", float(g))
        q = self.depth
        if q is not None:
            if isinstance(q, bool) or not isinstance(q, int | float) or not (math.isfinite(q) and q > 0):
                raise ValueError(f"depth={q!r} is invalid: allowed range is a finite number > 0")
            object.__setattr__(self, "depth", float(q))

    @property
    def taken_share(self) -> float:
        r""":math:`\theta`."""
        return 1.0 if self.depth is None else max(0.0, 1.0 - self.permanent * self.depth)

    def to_dict(self) -> dict[str, Any]:
        return {"kernel": self.kernel.label, "permanent": self.permanent, "depth": self.depth,
                "taken_share": self.taken_share}


@dataclass(frozen=True)
class ReplayRun:
    """One schedule replayed from one start time. Money in quote currency, positive = cost.

    Attributes
    ----------
    schedule : Schedule
    start_s : float
    side : {"buy", "sell"}
    arrival_mid : float
    notional : float
        :math:`X S_0`, what the ``*_bps`` figures are relative to.
    spread, temporary, permanent, timing, fees : float
    child_vwap, child_filled : ndarray, shape (M,)
    unfilled : float
        Units the tape's levels could not fill (0 when the book was deep enough).
    """

    schedule: Schedule = field(repr=False)
    start_s: float
    side: Side
    arrival_mid: float
    notional: float
    spread: float
    temporary: float
    permanent: float
    timing: float
    fees: float
    child_vwap: FloatArray = field(repr=False)
    child_filled: FloatArray = field(repr=False)
    unfilled: float

    @property
    def impact_cost(self) -> float:
        """Spread + temporary + permanent: what the schedule's own trading costs."""
        return self.spread + self.temporary + self.permanent

    @property
    def shortfall_ex_fees(self) -> float:
        return self.impact_cost + self.timing

    @property
    def shortfall(self) -> float:
        """The implementation shortfall including fees."""
        return self.shortfall_ex_fees + self.fees

    def bps(self, value: float) -> float:
        return value / self.notional * 1e4

    def to_dict(self) -> dict[str, float]:
        d = {c: getattr(self, c) for c in COMPONENTS}
        d.update(start_s=self.start_s, arrival_mid=self.arrival_mid, notional=self.notional,
                 shortfall=self.shortfall, shortfall_ex_fees=self.shortfall_ex_fees,
                 unfilled=self.unfilled)
        return d


def _walk(px: FloatArray, sz: FloatArray, start: float, amount: float) -> tuple[float, float]:
    """Take units ``start .. start + amount`` of a best-first side; returns (filled, notional)."""
    s = np.nan_to_num(sz)
    p = np.nan_to_num(px)
    cum = np.cumsum(s)
    val = np.cumsum(s * p)
    total = float(cum[-1]) if cum.size else 0.0

    def v(u: float) -> float:
        if u <= 0:
            return 0.0
        k = int(np.searchsorted(cum, u, side="left"))
        if k >= cum.size:
            return float(val[-1])
        prev_c = float(cum[k - 1]) if k else 0.0
        prev_v = float(val[k - 1]) if k else 0.0
        return prev_v + (u - prev_c) * float(p[k])

    a = min(max(start, 0.0), total)
    b = min(max(start + amount, 0.0), total)
    return b - a, v(b) - v(a)


def replay_schedule(tape: BookTape, schedule: Schedule, start_s: float, side: Side = "buy",
                    impact: ReplayImpact | None = None, *, fee_bps: float = 0.0) -> ReplayRun:
    r"""Replay ``schedule`` from ``start_s`` on ``tape`` (see the module docstring).

    Parameters
    ----------
    tape : BookTape
    schedule : Schedule
        Children at ``start_s + schedule.times``, each on the tape's grid and within it. A
        negative child trades against the parent order (walks the other side).
    start_s : float
    side : {"buy", "sell"}
    impact : ReplayImpact, optional
        None replays the books untouched.
    fee_bps : float
        Taker fee rate in bps of the filled notional (>= 0; e.g.
        ``get_fee_schedule("binance", "spot").tier("VIP 0").taker_bps``).
    """
    if side not in ("buy", "sell"):
        raise ValueError(f"side={side!r} is not one of 'buy', 'sell'")
    if not (isinstance(fee_bps, int | float) and math.isfinite(fee_bps) and fee_bps >= 0):
        raise ValueError(f"fee_bps={fee_bps!r} is invalid: allowed range is a finite number >= 0")
    sgn = 1.0 if side == "buy" else -1.0
    i0 = tape.index_at(start_s)
    idx = [tape.index_at(start_s + float(t)) for t in schedule.times]
    s0 = float(tape.mid[i0])
    if not math.isfinite(s0):
        raise ValueError(f"the tape has no two-sided book at start_s={start_s!r}")
    n = np.asarray(schedule.sizes)
    times = np.asarray(schedule.times)
    m = n.size
    vwap = np.full(m, math.nan)
    filled = np.zeros(m)
    spread = temp = perm = timing = fees = 0.0
    unfilled = 0.0
    gam = impact.permanent if impact is not None else 0.0
    theta = impact.taken_share if impact is not None else 0.0
    signed_before = 0.0  # sum_{i<k} s_i |n_i| (signed in the parent's direction)
    for k in range(m):
        nk = float(n[k])
        if nk == 0.0:
            continue
        sk = sgn if nk > 0 else -sgn  # the direction of this child
        q = abs(nk)
        i = idx[k]
        if sk > 0:
            px, sz, touch = tape.ask_px[i], tape.ask_sz[i], float(tape.ask_px[i, 0])
        else:
            px, sz, touch = tape.bid_px[i], tape.bid_sz[i], float(tape.bid_px[i, 0])
        mid = float(tape.mid[i])
        shift = gam * signed_before * sgn          # price shift of this book
        taken = 0.0
        if impact is not None and k > 0:
            prev = np.flatnonzero((n[:k] != 0) & (np.sign(n[:k]) == np.sign(nk)))
            if prev.size:
                taken = theta * float(np.sum(np.abs(n[prev]) * impact.kernel(times[k] - times[prev])))
        f, notional = _walk(px, sz, taken, q)
        if f <= 0:
            unfilled += q
            continue
        p_k = notional / f + shift
        vwap[k] = p_k
        filled[k] = f
        if q - f > 1e-12 * q:
            unfilled += q - f
        spread += sk * f * (touch - mid)
        perm_k = sk * f * shift
        perm += perm_k
        temp += sk * f * (p_k - touch) - perm_k
        timing += sk * f * (mid - s0)
        fees += fee_bps / 1e4 * f * p_k
        signed_before += sk * sgn * f
    return ReplayRun(schedule, float(start_s), side, s0, schedule.size * s0, spread, temp, perm,
                     timing, fees, vwap, filled, unfilled)


@dataclass(frozen=True)
class ReplayComparison:
    """Runs of several schedules over the same start times, untouched and impact-aware.

    Attributes
    ----------
    names : tuple of str
    starts_s : ndarray
    aware, untouched : dict of name -> list of ReplayRun
    impact : ReplayImpact
    expected : dict of name -> dict of model -> expected cost (bps), optional
    """

    names: tuple[str, ...]
    starts_s: FloatArray = field(repr=False)
    aware: dict[str, list[ReplayRun]] = field(repr=False)
    untouched: dict[str, list[ReplayRun]] = field(repr=False)
    impact: ReplayImpact
    side: Side
    fee_bps: float
    expected: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    def costs_bps(self, name: str, what: str = "shortfall", aware: bool = True) -> FloatArray:
        """Per start: ``what`` in bps of the arrival notional (``"shortfall"``,
        ``"shortfall_ex_fees"``, ``"impact_cost"`` or a component)."""
        runs = (self.aware if aware else self.untouched)[name]
        return np.array([r.bps(getattr(r, what)) for r in runs])

    def table(self) -> pd.DataFrame:
        """One row per schedule: the realised distribution and its parts (mean bps), the
        untouched replay, and the models' expectations when known."""
        rows = []
        for nm in self.names:
            tot = self.costs_bps(nm, "shortfall_ex_fees")
            unt = self.costs_bps(nm, "shortfall_ex_fees", aware=False)
            n = tot.size
            row: dict[str, Any] = {
                "schedule": nm, "children": self.aware[nm][0].schedule.children, "starts": n,
                "mean": float(tot.mean()), "sd": float(tot.std(ddof=1)) if n > 1 else math.nan,
                "se": float(tot.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
                "p05": float(np.quantile(tot, 0.05)), "p50": float(np.median(tot)),
                "p95": float(np.quantile(tot, 0.95)),
            }
            for c in COMPONENTS:
                row[c] = float(self.costs_bps(nm, c).mean())
            row["impact"] = float(self.costs_bps(nm, "impact_cost").mean())
            row["impact_untouched"] = float(self.costs_bps(nm, "impact_cost", aware=False).mean())
            row["untouched_mean"] = float(unt.mean())
            row["with_fees"] = float(self.costs_bps(nm, "shortfall").mean())
            row["unfilled"] = float(sum(r.unfilled for r in self.aware[nm]))
            for k, v in self.expected.get(nm, {}).items():
                row[k] = v
            rows.append(row)
        return pd.DataFrame(rows).set_index("schedule")

    def to_dict(self) -> dict[str, Any]:
        return {"starts_s": self.starts_s.tolist(), "side": self.side, "fee_bps": self.fee_bps,
                "impact": self.impact.to_dict(),
                "table": self.table().reset_index().to_dict(orient="records"),
                "costs_bps": {nm: self.costs_bps(nm, "shortfall_ex_fees").tolist()
                              for nm in self.names}}


def replay_many(tape: BookTape, schedules: Mapping[str, ScheduleSpec], starts_s: ArrayLike,
                impact: ReplayImpact, *, side: Side = "buy", fee_bps: float = 0.0,
                models: ExecutionModels | None = None) -> ReplayComparison:
    """Replay each schedule from each start, impact-aware and untouched.

    Parameters
    ----------
    tape : BookTape
    schedules : mapping of name -> Schedule or callable ``(tape, start_s) -> Schedule``
        A callable builds a data-driven schedule (VWAP, POV) from the data before ``start_s``.
    starts_s : array_like
        Start times on the tape's grid.
    impact : ReplayImpact
    side, fee_bps
        As in :func:`replay_schedule`.
    models : ExecutionModels, optional
        Adds each model's expected cost and :math:`\\sqrt V` (bps, averaged over the starts
        for data-driven schedules) to the table.
    """
    starts = np.atleast_1d(np.asarray(starts_s, dtype=np.float64))
    if starts.size == 0:
        raise ValueError("starts_s is empty: allowed range is at least one start time")
    aware: dict[str, list[ReplayRun]] = {}
    untouched: dict[str, list[ReplayRun]] = {}
    expected: dict[str, dict[str, float]] = {}
    for nm, spec in schedules.items():
        aware[nm], untouched[nm] = [], []
        acc: dict[str, list[float]] = {}
        for s in starts:
            sch = spec(tape, float(s)) if callable(spec) and not isinstance(spec, Schedule) else spec
            assert isinstance(sch, Schedule)
            aware[nm].append(replay_schedule(tape, sch, float(s), side, impact, fee_bps=fee_bps))
            untouched[nm].append(replay_schedule(tape, sch, float(s), side, None, fee_bps=fee_bps))
            if models is not None:
                mid = aware[nm][-1].arrival_mid
                for k, v in models.expected(sch).items():
                    acc.setdefault(k, []).append(v / (sch.size * mid) * 1e4)
        if models is not None:
            expected[nm] = {k: float(np.mean(v)) for k, v in acc.items()}
    return ReplayComparison(tuple(schedules), starts, aware, untouched, impact, side,
                            float(fee_bps), expected)


# --------------------------------------------------------------------------- fitted models


@dataclass(frozen=True)
class ExecutionModels:
    r"""The impact models of one parent order, with parameters fitted from a recording.

    Attributes
    ----------
    ac : ACParams
        :math:`\eta = \tau/(2q)`, :math:`\gamma = \varphi/q`.
    ow : OWParams
        Depth :math:`q`, resilience :math:`\rho`, permanent :math:`\varphi/q`.
    propagator : TransientParams
        :math:`G(t) = q^{-1}(1 + t/\tau_0)^{-\beta}` (no separate permanent part).
    nonlinear : NonlinearACParams
        :math:`\eta = a\tau^{\beta_h}` and :math:`\beta_h` from the book's power-law walk cost.
    replay : ReplayImpact
        Exponential refill at :math:`\rho`, permanent :math:`\varphi/q`, depth :math:`q`.
    permanent_share : float
        :math:`\varphi = (1 + T/\tau_0)^{-\beta}`: the share of a unit's impact that the fitted
        propagator still shows at the horizon, used as the permanent share of :math:`1/q`.
    fits : dict of name -> ImpactFit
        ``"book"``, ``"resilience"``, ``"kernel"``.
    sigma : float
        Volatility of the mid, price per :math:`\sqrt{s}`.
    """

    ac: ACParams
    ow: OWParams
    propagator: TransientParams
    nonlinear: NonlinearACParams
    replay: ReplayImpact
    permanent_share: float
    sigma: float
    fits: dict[str, ImpactFit] = field(repr=False)

    @property
    def size(self) -> float:
        return self.ac.size

    @property
    def horizon(self) -> float:
        return self.ac.horizon

    @property
    def periods(self) -> int:
        return self.ac.periods

    def expected(self, schedule: Schedule) -> dict[str, float]:
        r"""Each model's expected cost of ``schedule`` (quote currency, ex fees) and
        :math:`\sqrt V` (``"sqrtV"``).

        * ``"AC"``: :math:`\epsilon\sum|n| + \tfrac12\gamma X^2 + (\tilde\eta/\tau)\sum n^2`
          (Almgren-Chriss eq. 8, every child in a book refilled since the last);
        * ``"OW"``, ``"propagator"``: :func:`~tradesim_nb.impact.transient.transient_cost` on
          the schedule's own times;
        * ``"nonlinear"``: :math:`\tfrac12\gamma X^2 + \sum\phi(n_k)` of Almgren (2003).
        """
        from ..impact.nonlinear import _phi

        n = np.asarray(schedule.sizes)
        x = schedule.size
        ac = self.ac
        e_ac = ac.epsilon * float(np.abs(n).sum()) + 0.5 * ac.gamma * x * x + (
            ac.eta_tilde / ac.tau * float(n @ n))
        ow = replace(self.ow.transient_params(), size=x, horizon=schedule.horizon)
        pr = replace(self.propagator, size=x, horizon=schedule.horizon)
        nl = self.nonlinear
        e_nl = 0.5 * nl.gamma * x * x + float(_phi(nl, n).sum())
        return {"AC": float(e_ac), "OW": transient_cost(ow, schedule.times, n),
                "propagator": transient_cost(pr, schedule.times, n), "nonlinear": float(e_nl),
                "sqrtV": schedule.std(self.sigma)}

    def optimal_schedules(self) -> dict[str, Schedule]:
        """TWAP and each model's optimum for this order (same X, T, N)."""
        from ..impact.transient import trade_grid

        return {
            "TWAP": Schedule.twap(self.size, self.horizon, self.periods),
            "AC optimal": Schedule.from_ac(self.ac),
            "OW optimal": Schedule.from_ow(self.ow),
            "propagator optimal": Schedule.from_propagator(
                self.propagator, trade_grid(self.horizon, self.periods)),
            "nonlinear AC optimal": Schedule.from_nonlinear(self.nonlinear),
        }

    @classmethod
    def from_params(cls, *, size: float, horizon: float, periods: int, depth: float,
                    resilience: float, permanent_share: float, sigma: float,
                    epsilon: float = 0.0, kernel_exponent: float = 0.3, tau0: float = 0.5,
                    impact_exponent: float = 1.0, impact_eta: float | None = None,
                    risk_aversion: float = 0.0) -> ExecutionModels:
        r"""The same bundle from typed parameters (teaching, what-if), no fits.

        Parameters
        ----------
        size, horizon, periods : float, float, int
            :math:`X`, :math:`T`, :math:`N`.
        depth : float
            :math:`q`: :math:`\eta = \tau/(2q)` (AC), the OW depth, :math:`G(0) = 1/q`.
        resilience : float
            :math:`\rho` (OW, the replay's refill).
        permanent_share : float
            :math:`\varphi \in [0, 1)`: :math:`\gamma = \varphi/q`.
        sigma, epsilon : float
        kernel_exponent, tau0 : float
            The propagator's :math:`(1 + t/\tau_0)^{-\beta}`.
        impact_exponent : float
            Almgren (2003)'s :math:`\beta_h`.
        impact_eta : float, optional
            Its :math:`\eta`; default the value that makes a child traded at the average rate
            :math:`\bar v = X/T` cost the same per unit as in the linear model:
            :math:`\eta_h = \frac{\tau}{2q}\bar v^{1-\beta_h}`.
        risk_aversion : float
            :math:`\lambda` of the AC, propagator and nonlinear optima.
        """
        from ..costs.almgren_chriss import ACParams
        from ..impact.nonlinear import NonlinearACParams
        from ..impact.transient import OWParams, TransientParams

        if not (isinstance(permanent_share, int | float) and 0.0 <= permanent_share < 1.0):
            raise ValueError(f"permanent_share={permanent_share!r} is invalid: allowed range is "
                             "0 <= permanent_share < 1")
        tau = horizon / periods
        gamma = permanent_share / depth
        ac = ACParams(size=size, horizon=horizon, periods=periods, sigma=sigma, epsilon=epsilon,
                      eta=tau / (2.0 * depth), gamma=gamma, risk_aversion=risk_aversion)
        ow = OWParams(size=size, horizon=horizon, periods=periods, depth=depth,
                      resilience=resilience, permanent=gamma, epsilon=epsilon, sigma=sigma)
        prop = TransientParams(size=size, horizon=horizon,
                               kernel=PowerLawKernel(tau0, kernel_exponent), transient=1.0 / depth,
                               permanent=0.0, epsilon=epsilon, sigma=sigma,
                               risk_aversion=risk_aversion)
        eta_h = (tau / (2.0 * depth)) * (size / horizon) ** (1.0 - impact_exponent) if (
            impact_eta is None) else impact_eta
        nl = NonlinearACParams(size=size, horizon=horizon, periods=periods, sigma=sigma,
                               epsilon=epsilon, eta=eta_h,
                               gamma=gamma if impact_exponent <= 1 else 0.0,
                               beta=impact_exponent, risk_aversion=risk_aversion)
        return cls(ac, ow, prop, nl, ReplayImpact(ExponentialKernel(resilience), gamma, depth),
                   float(permanent_share), float(sigma), {})

    def summary(self) -> str:
        f = self.fits
        if not f:
            return (f"typed parameters: X={self.size:.6g}, T={self.horizon:g}, N={self.periods}, "
                    f"q={self.ow.depth:.4g}, rho={self.ow.resilience:.4g}, "
                    f"permanent share {self.permanent_share:.3f}, "
                    f"kernel {self.propagator.kernel.label}, beta_h {self.nonlinear.beta:.3g}")
        rho = f["resilience"]["resilience"]
        beta = f["kernel"]["exponent"]
        q = f["book"]["depth"]
        lines = [
            f"fitted from {dict(f['book'].info).get('source', '')}: X={self.size:.6g}, "
            f"T={self.horizon:g} s, N={self.periods}",
            f"  depth q         {q.estimate:.4g} units/price  [{q.ci_low:.4g}, {q.ci_high:.4g}]",
            f"  resilience rho  {rho.estimate:.4g} /s  [{rho.ci_low:.4g}, {rho.ci_high:.4g}]"
            f"  (half-life {math.log(2) / rho.estimate:.3g} s)",
            f"  kernel exponent {beta.estimate:.4g}  [{beta.ci_low:.4g}, {beta.ci_high:.4g}]"
            f"  (tau0 {f['kernel']['tau0'].estimate:g} s)",
            f"  permanent share {self.permanent_share:.3f} -> gamma {self.ac.gamma:.4g} price/unit",
            f"  sigma           {self.sigma:.4g} price/sqrt(s); epsilon {self.ac.epsilon:.4g}",
            f"  nonlinear       beta {self.nonlinear.beta:.4g}, eta {self.nonlinear.eta:.4g}",
        ]
        return "\n".join(lines)


def fit_execution_models(tape: BookTape, size: float, horizon: float, periods: int, *,
                         risk_aversion: float = 0.0, band_bps: float = 2.0,
                         resilience: float | None = None, bootstrap: int = 200, seed: int = 0,
                         kernel_dt_s: float = 0.5, kernel_max_lag_s: float = 30.0
                         ) -> ExecutionModels:
    r"""Fit every model's parameters for an order of ``size`` over ``horizon`` s in ``periods``.

    * :math:`q`, :math:`a`, :math:`\beta_h`: :func:`~tradesim_nb.impact.resilience.fit_book_depth`
      (walk costs up to ``size``); :math:`\epsilon` the mean half spread; :math:`\sigma` from
      the mid's 1-s changes.
    * :math:`\rho`: :func:`~tradesim_nb.impact.resilience.fit_resilience` (or ``resilience``).
    * :math:`\beta, \tau_0`: :func:`~tradesim_nb.impact.resilience.fit_kernel_exponent`.
    * :math:`\varphi = (1 + T/\tau_0)^{-\beta}` (clipped to :math:`[0, 0.99]`),
      :math:`\gamma = \varphi/q`.
    """
    from ..costs.almgren_chriss import ACParams
    from ..impact.nonlinear import NonlinearACParams
    from ..impact.resilience import fit_book_depth, fit_kernel_exponent, fit_resilience
    from ..impact.transient import OWParams, TransientParams

    book = fit_book_depth(tape, size, bootstrap=bootstrap, seed=seed)
    res = fit_resilience(tape, band_bps=band_bps, bootstrap=bootstrap, seed=seed)
    ker = fit_kernel_exponent(tape, dt_s=kernel_dt_s, max_lag_s=kernel_max_lag_s,
                              bootstrap=bootstrap, seed=seed)
    q = book["depth"].estimate
    half = 0.5 * (tape.ask_px[:, 0] - tape.bid_px[:, 0])
    eps = float(np.nanmean(half))
    step = max(1, round(1.0 / tape.fine_dt_s))
    dm = np.diff(tape.fine_mid[::step])
    sigma = float(np.nanstd(dm) / math.sqrt(step * tape.fine_dt_s))
    beta = ker["exponent"].estimate
    tau0 = ker["tau0"].estimate
    phi = min(max((1.0 + horizon / tau0) ** (-beta), 0.0), 0.99)
    gamma = phi / q
    rho = float(resilience) if resilience is not None else res["resilience"].estimate
    tau = horizon / periods
    ac = ACParams(size=size, horizon=horizon, periods=periods, sigma=sigma, epsilon=eps,
                  eta=tau / (2.0 * q), gamma=gamma, risk_aversion=risk_aversion)
    ow = OWParams(size=size, horizon=horizon, periods=periods, depth=q, resilience=rho,
                  permanent=gamma, epsilon=eps, sigma=sigma)
    prop = TransientParams(size=size, horizon=horizon, kernel=PowerLawKernel(tau0, max(beta, 1e-6)),
                           transient=1.0 / q, permanent=0.0, epsilon=eps, sigma=sigma,
                           risk_aversion=risk_aversion)
    b_h = book["power_exponent"].estimate
    a_h = book["power_coefficient"].estimate
    nl = NonlinearACParams(size=size, horizon=horizon, periods=periods, sigma=sigma, epsilon=eps,
                           eta=a_h * tau**b_h, gamma=gamma if b_h <= 1 else 0.0,
                           beta=min(b_h, 2.0), risk_aversion=risk_aversion)
    return ExecutionModels(ac, ow, prop, nl, ReplayImpact(ExponentialKernel(rho), gamma, q), phi,
                           sigma, {"book": book, "resilience": res, "kernel": ker})


def standard_schedules(models: ExecutionModels, *, pov_cap: float = 0.5
                       ) -> dict[str, ScheduleSpec]:
    """TWAP, VWAP and POV (built from the data before each start), the AC, OW and propagator
    optima, and the nonlinear-AC optimum, for the order of ``models``.

    VWAP's profile is :func:`~tradesim_nb.execution.schedules.volume_profile` over every
    complete window before the start; POV's rate is :math:`X/(X + V_{prev})` (capped at
    ``pov_cap``), :math:`V_{prev}` the volume of the window before the start, and its children
    follow the volume of the period before each.
    """
    x, t, n = models.size, models.horizon, models.periods
    tau = t / n

    def vwap(tape: BookTape, s: float) -> Schedule:
        prof = volume_profile(tape.trade_t_s, tape.trade_qty, s, t, n, earliest=0.0)
        return Schedule.vwap(x, t, prof)

    def pov(tape: BookTape, s: float) -> Schedule:
        prev = tape.volume_between(s - t, s)
        rate = min(x / (x + prev), pov_cap) if prev > 0 else pov_cap
        vols = [tape.volume_between(s + (k - 1) * tau, s + k * tau) for k in range(n)]
        return Schedule.pov(x, t, vols, rate)

    out: dict[str, ScheduleSpec] = dict(models.optimal_schedules())
    out["VWAP"] = vwap
    out["POV"] = pov
    order = ["TWAP", "VWAP", "POV", "AC optimal", "OW optimal", "propagator optimal",
             "nonlinear AC optimal"]
    return {k: out[k] for k in order}
