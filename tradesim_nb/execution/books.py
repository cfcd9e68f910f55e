"""Run a parent order's schedule against a book: the synthetic market or a replayed recording.

A *schedule* is a trade list :math:`n_1, \\dots, n_N` (child sizes, base units, >= 0): TWAP
(:func:`twap`), the Almgren-Chriss optimum (:func:`ac_schedule`) or any list. Child :math:`k`
is a market order that walks the book (:meth:`tradesim_nb.book.OrderBook.walk`) at the start of
period :math:`k`. The realised cost is the implementation shortfall against the arrival mid
:math:`S_0`, positive = cost, for a buy or a sell of :math:`X = \\sum n_k`:

.. math::

    IS = s\\Big(\\sum_k n_k \\tilde S_k - X S_0\\Big),\\qquad s = +1 \\text{ (buy)}, -1 \\text{ (sell)},

with :math:`\\tilde S_k` the child's VWAP. On the synthetic market (:mod:`tradesim_nb.market`)
:math:`E[IS]` and :math:`\\operatorname{Var}[IS]` are the Almgren-Chriss :math:`E` and
:math:`V`; :func:`monte_carlo` measures them.

References
----------
R. Almgren and N. Chriss, "Optimal execution of portfolio transactions", J. Risk 3 (2000).
A. F. Perold, "The implementation shortfall: paper versus reality", J. Portfolio Mgmt 14 (1988).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..book import OrderBook, book_from_levels
from ..market import MarketParams, SyntheticMarket, period_noise, walk_cost_array

if TYPE_CHECKING:  # pragma: no cover
    from ..costs.almgren_chriss import ACParams

__all__ = [
    "ExecutionResult",
    "MonteCarloResult",
    "ac_schedule",
    "execute_on_books",
    "execute_schedule",
    "monte_carlo",
    "replay_books",
    "simulate_executions",
    "twap",
]

log = logging.getLogger(__name__)

Side = Literal["buy", "sell"]


def _check_schedule(trade_list: Sequence[float] | np.ndarray) -> np.ndarray:
    n = np.asarray(trade_list, dtype=float)
    if n.ndim != 1 or n.size == 0 or not np.all(np.isfinite(n)) or np.any(n < 0):
        raise ValueError(f"trade_list={trade_list!r} must be a non-empty 1-d list of finite "
                         "child sizes >= 0")
    return n


def _check_side(side: str) -> float:
    if side not in ("buy", "sell"):
        raise ValueError(f"side={side!r} is not one of 'buy', 'sell'")
    return 1.0 if side == "buy" else -1.0


def twap(size: float, periods: int) -> np.ndarray:
    """Equal children: :math:`n_k = X/N`."""
    if not (math.isfinite(size) and size > 0):
        raise ValueError(f"size={size!r} must be a finite number > 0")
    if not (isinstance(periods, int) and periods >= 1):
        raise ValueError(f"periods={periods!r} must be an integer >= 1")
    return np.full(periods, size / periods)


def ac_schedule(p: ACParams) -> np.ndarray:
    """The Almgren-Chriss optimal trade list for ``p`` (:func:`optimal_execution`)."""
    from ..costs.almgren_chriss import optimal_execution

    return np.array(optimal_execution(p).trade_list, dtype=float)


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """One run of a schedule.

    ``shortfall`` is in quote currency (positive = cost); ``shortfall_bps`` is per unit of the
    arrival notional :math:`X S_0`.
    """

    side: Side
    trade_list: np.ndarray = field(repr=False)
    child_vwaps: np.ndarray = field(repr=False)
    filled: np.ndarray = field(repr=False)
    arrival_price: float
    post_price: float
    exec_price: float
    shortfall: float
    shortfall_bps: float
    unfilled: float

    @property
    def size(self) -> float:
        return float(self.trade_list.sum())

    def to_record(self, **extra: Any) -> dict[str, Any]:
        """One parent-order record (columns of :func:`tradesim_nb.impact.fit.fit_athl`)."""
        return dict(side=self.side, size=self.size, arrival_price=self.arrival_price,
                    post_price=self.post_price, exec_price=self.exec_price, **extra)


def _result(side: Side, n: np.ndarray, vwaps: np.ndarray, filled: np.ndarray, s0: float,
            post: float) -> ExecutionResult:
    sgn = 1.0 if side == "buy" else -1.0
    tot = float(filled.sum())
    notional = float(np.dot(filled, np.nan_to_num(vwaps)))
    exec_px = notional / tot if tot > 0 else math.nan
    short = sgn * (notional - tot * s0)
    bps = short / (tot * s0) * 1e4 if tot > 0 else math.nan
    return ExecutionResult(side, n, vwaps, filled, s0, post, exec_px, short, bps,
                           float(n.sum() - tot))


def execute_schedule(trade_list: Sequence[float] | np.ndarray, market: SyntheticMarket,
                     side: Side = "sell", *, background: bool = True) -> ExecutionResult:
    """Run a schedule on a :class:`SyntheticMarket`, one child at the start of each period.

    Parameters
    ----------
    trade_list : array_like, shape (N,)
    market : SyntheticMarket
        Used from its current state (moved to the next period start first if needed).
    side : {"buy", "sell"}
    background : bool
        True runs each period event by event (:meth:`SyntheticMarket.run_period`, building the
        published book at each event); False draws the period's mid change in one go from the
        same law (:meth:`SyntheticMarket.advance`, much faster, same distribution).
    """
    n = _check_schedule(trade_list)
    _check_side(side)
    if not market.at_period_start:
        market.advance(1) if not background else market.run_period()
    s0 = market.mid
    vwaps = np.empty(n.size)
    filled = np.empty(n.size)
    for k, nk in enumerate(n):
        if nk > 0:
            f = market.execute(side, float(nk))
            vwaps[k] = f.vwap
            filled[k] = f.filled_base
        else:
            vwaps[k] = math.nan
            filled[k] = 0.0
        if background:
            market.run_period()
        else:
            market.advance(1)
    return _result(side, n, vwaps, filled, s0, market.mid)


def execute_on_books(trade_list: Sequence[float] | np.ndarray, books: Iterable[OrderBook],
                     side: Side = "sell") -> ExecutionResult:
    """Run a schedule against a sequence of (replayed, real) books: child :math:`k` walks book
    :math:`k`. The arrival price is the first book's mid, the post price the last book's mid.
    The books are not modified (a child's own impact is not fed back into a recording)."""
    n = _check_schedule(trade_list)
    _check_side(side)
    vwaps = np.full(n.size, math.nan)
    filled = np.zeros(n.size)
    s0 = post = math.nan
    k = -1
    for k, book in enumerate(books):
        if k >= n.size:
            break
        if k == 0:
            s0 = book.mid
        post = book.mid
        if n[k] > 0:
            f = book.walk(side, float(n[k]), "base")
            vwaps[k] = f.vwap
            filled[k] = f.filled_base
    if k + 1 < n.size:
        raise ValueError(f"books gave {k + 1} books for trade_list of {n.size} children")
    return _result(side, n, vwaps, filled, s0, post)


def replay_books(paths: Sequence[str | Path], venue: str = "binance", symbol: str = "BTCUSDT",
                 *, interval_s: float = 1.0, start_s: float = 0.0,
                 count: int | None = None) -> Iterator[OrderBook]:
    """Replay a recording through the venue parser and yield copies of ``symbol``'s book every
    ``interval_s`` seconds of receive time, from ``start_s`` after the first valid book."""
    from ..events import BookDelta, BookSnapshot
    from ..recording import read_frames
    from ..venues import get_feed

    if not (math.isfinite(interval_s) and interval_s > 0):
        raise ValueError(f"interval_s={interval_s!r} must be a finite number > 0")
    feed = get_feed(venue)
    t_next: int | None = None
    out = 0
    for recv_ns, events, _sym in feed.replay(read_frames(*paths)):
        for ev in events:
            if type(ev) not in (BookDelta, BookSnapshot) or ev.symbol != symbol:
                continue
            book = feed.books[symbol]
            if not book.valid:
                continue
            if t_next is None:
                t_next = recv_ns + round(start_s * 1e9)
            if recv_ns >= t_next:
                b, a = book.snapshot_levels()
                yield book_from_levels(b, a, book.instrument)
                out += 1
                t_next += round(interval_s * 1e9)
                if count is not None and out >= count:
                    return


@dataclass(frozen=True, slots=True)
class MonteCarloResult:
    """Realised shortfalls of one schedule over many seeds, against the model's E and V."""

    costs: np.ndarray = field(repr=False)
    mean: float
    variance: float
    std_error_mean: float
    std_error_variance: float
    expected_cost: float
    model_variance: float

    @property
    def n(self) -> int:
        return int(self.costs.size)

    @property
    def z_mean(self) -> float:
        """:math:`(\\bar c - E) / \\mathrm{se}(\\bar c)`."""
        return (self.mean - self.expected_cost) / self.std_error_mean

    @property
    def variance_ratio(self) -> float:
        """Realised variance / model V."""
        return self.variance / self.model_variance

    def to_dict(self) -> dict[str, float]:
        return dict(n=self.n, mean=self.mean, variance=self.variance,
                    std_error_mean=self.std_error_mean,
                    std_error_variance=self.std_error_variance,
                    expected_cost=self.expected_cost, model_variance=self.model_variance,
                    z_mean=self.z_mean, variance_ratio=self.variance_ratio)


def monte_carlo(schedule: Sequence[float] | np.ndarray, market_params: MarketParams,
                seeds: Iterable[int], *, side: Side = "sell", background: bool = False,
                progress: bool = False) -> MonteCarloResult:
    """Run ``schedule`` on a fresh :class:`SyntheticMarket` per seed (children walk the book).

    The model's :math:`E` (the market's law, :meth:`MarketParams.impact_law`, priced by
    :meth:`~tradesim_nb.impact.laws.LinearImpact.schedule_cost`, plus the known tick bias
    :math:`\\sum b(n_k)`, see :mod:`tradesim_nb.market`) and :math:`V = \\sigma^2\\tau\\sum x_k^2` are returned beside the
    realised mean and variance with their standard errors
    (:math:`\\mathrm{se}(\\hat V) = \\sqrt{(m_4 - \\hat V^2)/n}`).
    """
    from tqdm.auto import tqdm

    n = _check_schedule(schedule)
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError(f"seeds has {len(seeds)} items; at least 2 are needed")
    costs = np.empty(len(seeds))
    for i, s in enumerate(tqdm(seeds, disable=not progress, desc="monte carlo")):
        m = SyntheticMarket(market_params, seed=s)
        costs[i] = execute_schedule(n, m, side, background=background).shortfall
    p = market_params
    x = n.sum() - np.cumsum(n)
    q = p.level_size
    bias = float(np.sum(walk_cost_array(n, q, p.epsilon, p.level_spacing)
                        - (p.epsilon * n + p.level_spacing / (2 * q) * n * n)))
    e = p.impact_law().schedule_cost(n, p.tau) + bias
    v = p.sigma**2 * p.tau * float(np.dot(x, x))
    mean = float(costs.mean())
    var = float(costs.var(ddof=1))
    m4 = float(np.mean((costs - mean) ** 4))
    return MonteCarloResult(costs, mean, var, math.sqrt(var / costs.size),
                            math.sqrt(max(m4 - var**2, 0.0) / costs.size), e, v)


def simulate_executions(market_params: MarketParams, n_orders: int, seed: int = 0, *,
                        size_range: tuple[float, float] = (1e5, 4e6),
                        periods_range: tuple[int, int] = (2, 20)) -> pd.DataFrame:
    """Many TWAP parent orders on the synthetic market, vectorised: records to calibrate from.

    Each order draws a side (buy/sell with probability 1/2), a size log-uniform in
    ``size_range`` and a number of periods uniform in ``periods_range``; its children walk
    a fully refilled book (the exact walk cost of :func:`tradesim_nb.market.walk_cost_array`,
    identical to :meth:`OrderBook.walk` on the market's levels) and the mid moves by the
    permanent impact and by the period noise of :func:`tradesim_nb.market.period_noise`
    (the law of :meth:`SyntheticMarket.step`). Orders are independent (one market each).

    Returns a DataFrame with columns ``side, size, periods, duration, arrival_price,
    post_price, exec_price`` (``duration = periods * tau``; ``post_price`` is the mid at the
    end of the last period).
    """
    if not (isinstance(n_orders, int) and n_orders >= 1):
        raise ValueError(f"n_orders={n_orders!r} must be an integer >= 1")
    lo, hi = size_range
    if not (0 < lo <= hi and math.isfinite(hi)):
        raise ValueError(f"size_range={size_range!r} must satisfy 0 < low <= high < inf")
    plo, phi = periods_range
    if not (isinstance(plo, int) and isinstance(phi, int) and 1 <= plo <= phi):
        raise ValueError(f"periods_range={periods_range!r} must be integers 1 <= low <= high")
    p = market_params
    rng = np.random.default_rng(seed)
    sgn = np.where(rng.random(n_orders) < 0.5, 1.0, -1.0)
    size = np.exp(rng.uniform(math.log(lo), math.log(hi), n_orders))
    periods = rng.integers(plo, phi + 1, n_orders)
    nmax = int(periods.max())
    child = size / periods
    noise = period_noise(rng, p, (n_orders, nmax), p.steps_per_period)
    k = np.arange(nmax)[None, :]
    active = k < periods[:, None]
    # mid before child k (k = 0..N-1) relative to S0: sum_{j<k} (s*gamma*n + xi_j)
    step = np.where(active, sgn[:, None] * p.gamma * child[:, None] + noise, 0.0)
    before = np.cumsum(step, axis=1) - step
    c = walk_cost_array(child, p.level_size, p.epsilon, p.level_spacing) / child
    exec_rel = (before * active).sum(axis=1) / periods + sgn * c
    s0 = p.mid0
    return pd.DataFrame({
        "side": np.where(sgn > 0, "buy", "sell"),
        "size": size,
        "periods": periods,
        "duration": periods * p.tau,
        "arrival_price": np.full(n_orders, s0),
        "post_price": s0 + step.sum(axis=1),
        "exec_price": s0 + exec_rel,
    })
