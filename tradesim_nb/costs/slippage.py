"""Slippage of a market order: exact on the current book, and modelled after a latency.

Two things are called slippage here:

* :func:`walk_slippage` — the exact cost of filling an order against the book *as it is now*
  (:meth:`OrderBook.walk`): :math:`s(\\bar p - m)/m \\cdot 10^4` bps with :math:`\\bar p` the
  fill VWAP, :math:`m` the mid and :math:`s=\\pm1` for buy/sell.
* the **realised** slippage of a market order decided at :math:`t` that reaches the venue
  after a latency :math:`\\ell`: it fills against the book at :math:`t+\\ell` and is measured
  against the mid at :math:`t`,

  .. math::

      y = s\\,\\frac{\\bar p_{t+\\ell} - m_t}{m_t}10^4 .

  :class:`SlippageModel` predicts its mean by least squares and its quantiles
  :math:`\\tau \\in \\{0.5, 0.9, 0.95\\}` by linear quantile regression [1]_ on the order
  features of :data:`tradesim_nb.features.SLIPPAGE_FEATURES` (the exact walk slippage now,
  log notional, size over depth, spread, volatility, signed flow and imbalance):

  .. math::

      \\hat y = \\beta_0 + x^\\top\\beta, \\qquad
      \\hat q_\\tau = \\arg\\min_{b_0, b} \\sum_i \\rho_\\tau(y_i - b_0 - x_i^\\top b),\\quad
      \\rho_\\tau(u) = u(\\tau - 1\\{u < 0\\}).

  Quantile predictions are sorted per row (monotone rearrangement [2]_), so they never
  cross. A gradient-boosted quantile model (scikit-learn ``HistGradientBoostingRegressor``,
  ``loss="quantile"``) is fitted on the same split as a non-linear comparison; only the
  linear coefficients are saved and used per tick (a dot product, no ``predict`` call).

Labels come from replaying the real Binance BTCUSDT recording
(:func:`tradesim_nb.training.load_binance_dataset`); the hold-out is time-ordered: the first
70 % of decision times train, the last 30 % (after a purge gap) test.

References
----------
.. [1] Koenker, R. and Bassett, G. (1978), "Regression quantiles", Econometrica 46(1).
.. [2] Chernozhukov, V., Fernández-Val, I. and Galichon, A. (2010), "Quantile and probability
   curves without crossing", Econometrica 78(3).
.. [3] Gneiting, T. and Raftery, A. (2007), "Strictly proper scoring rules, prediction, and
   estimation", JASA 102(477) — the pinball (quantile) loss.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import mul
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..features import SLIPPAGE_FEATURES

if TYPE_CHECKING:
    from ..book import Fill, OrderBook
    from ..instruments import SizeUnit
    from ..training import RecordingDataset

__all__ = [
    "GBMQuantileModel",
    "SlippageModel",
    "coverage",
    "fit_gbm_quantiles",
    "fit_quantile",
    "fit_slippage_model",
    "pinball_loss",
    "r2_score",
    "rearrange_quantiles",
    "walk_slippage",
]

log = logging.getLogger(__name__)

#: tolerance (bps) for ties between a label and a quantile prediction in :func:`coverage`
TIE_TOL_BPS = 1e-3


def walk_slippage(book: OrderBook, side: str, amount: float, unit: SizeUnit = "usd") -> Fill:
    """Exact walk-the-book fill of a market order on the current book (no latency)."""
    return book.walk(side, amount, unit)  # type: ignore[arg-type]


# -- metrics -----------------------------------------------------------------------------------
def r2_score(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination :math:`1 - \\sum (y-\\hat y)^2 / \\sum (y-\\bar y)^2`."""
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    ss = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - pred) ** 2)) / ss if ss > 0 else math.nan


def pinball_loss(y: np.ndarray, pred: np.ndarray, q: float) -> float:
    """Mean pinball loss :math:`\\rho_\\tau(y - \\hat q)` (lower is better; a strictly proper
    scoring rule for the quantile, Gneiting and Raftery [3]_)."""
    if not (0.0 < q < 1.0):
        raise ValueError(f"q={q!r} must be in (0, 1)")
    u = np.asarray(y, dtype=np.float64) - np.asarray(pred, dtype=np.float64)
    return float(np.mean(np.maximum(q * u, (q - 1.0) * u)))


def coverage(y: np.ndarray, pred: np.ndarray, tol: float = TIE_TOL_BPS) -> tuple[float, float]:
    """``(P(y < q̂ - tol), P(y <= q̂ + tol))``: empirical coverage of a quantile prediction.

    Realised slippage has point masses (the mid often does not move within the latency, so
    ``y`` equals the walk slippage exactly); a correct :math:`\\tau`-quantile then satisfies
    ``lower <= tau <= upper`` rather than one equality. For continuous labels both agree.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    return float(np.mean(y < p - tol)), float(np.mean(y <= p + tol))


def rearrange_quantiles(q: np.ndarray) -> np.ndarray:
    """Sort quantile predictions along the last axis (monotone rearrangement, [2]_)."""
    return np.sort(np.asarray(q, dtype=np.float64), axis=-1)


# -- the model ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlippageModel:
    """Fitted linear mean and quantile models of realised slippage (bps).

    Attributes
    ----------
    feature_names : tuple of str
    coef, intercept : mean model (least squares)
    quantiles : tuple of float, increasing
    quantile_coef : tuple of tuple of float, one per quantile
    quantile_intercept : tuple of float
    latency_ms : float
        Latency the labels assumed.
    metrics : dict
        Hold-out figures (see :func:`fit_slippage_model`).
    feature_range : tuple of (float, float)
        ``(min, max)`` of each feature over the training rows (empty: unknown). A row outside
        it is an extrapolation of the linear models (:meth:`outside_range`).
    """

    feature_names: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    quantiles: tuple[float, ...]
    quantile_coef: tuple[tuple[float, ...], ...]
    quantile_intercept: tuple[float, ...]
    latency_ms: float = 100.0
    metrics: dict[str, Any] = field(default_factory=dict)
    trained_on: str = ""
    feature_range: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        p = len(self.feature_names)
        if self.feature_range and (len(self.feature_range) != p or any(
                not lo <= hi for lo, hi in self.feature_range)):
            raise ValueError(f"feature_range must be empty or {p} (min, max) pairs with "
                             "min <= max")
        if len(self.coef) != p:
            raise ValueError(f"coef has {len(self.coef)} entries, expected {p} (feature_names)")
        if list(self.quantiles) != sorted(self.quantiles) or not all(
                0 < q < 1 for q in self.quantiles):
            raise ValueError(f"quantiles={self.quantiles!r} must be increasing, each in (0, 1)")
        if len(self.quantile_coef) != len(self.quantiles) or any(
                len(c) != p for c in self.quantile_coef):
            raise ValueError("quantile_coef must have one row of len(feature_names) per quantile")
        if len(self.quantile_intercept) != len(self.quantiles):
            raise ValueError("quantile_intercept must have one entry per quantile")

    # -- prediction ---------------------------------------------------------------------
    def predict_row(self, x: Sequence[float]) -> tuple[float, tuple[float, ...]]:
        """``(mean_bps, (q_1, ..., q_m))`` for one feature row, plain Python (hot path)."""
        mean = self.intercept + sum(map(mul, self.coef, x))
        qs = [b0 + sum(map(mul, cs, x))
              for b0, cs in zip(self.quantile_intercept, self.quantile_coef)]
        qs.sort()  # monotone rearrangement: quantiles never cross
        return mean, tuple(qs)

    def outside_range(self, x: Sequence[float]) -> bool:
        """Whether a feature row lies outside the training range of any feature (hot path)."""
        for v, (lo, hi) in zip(x, self.feature_range):  # noqa: SIM110 (a loop: no generator)
            if v < lo or v > hi:
                return True
        return False

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(mean (n,), quantiles (n, m))`` for a feature matrix; quantiles sorted per row."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"X has shape {X.shape}, expected (n, {len(self.feature_names)})")
        mean = X @ np.asarray(self.coef) + self.intercept
        Q = X @ np.asarray(self.quantile_coef).T + np.asarray(self.quantile_intercept)
        return mean, rearrange_quantiles(Q)

    # -- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "tradesim_nb.SlippageModel", "version": 1,
            "feature_names": list(self.feature_names), "coef": list(self.coef),
            "intercept": self.intercept, "quantiles": list(self.quantiles),
            "quantile_coef": [list(c) for c in self.quantile_coef],
            "quantile_intercept": list(self.quantile_intercept),
            "latency_ms": self.latency_ms, "metrics": self.metrics,
            "trained_on": self.trained_on,
            "feature_range": [list(r) for r in self.feature_range],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SlippageModel:
        """Validated (:func:`tradesim_nb.models.slippage_from_dict`): a bad field raises
        :class:`~tradesim_nb.models.ModelFileError` naming it."""
        from ..models import slippage_from_dict

        return slippage_from_dict(d, "slippage")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write plain JSON (no pickle). ``repr`` floats round-trip exactly."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, allow_nan=True))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SlippageModel:
        return cls.from_dict(json.loads(Path(path).read_text()))

    # -- reporting ----------------------------------------------------------------------
    def to_frame(self) -> Any:
        """Coefficients as a pandas DataFrame (rows: intercept + features; cols: mean, q..)."""
        import pandas as pd

        cols: dict[str, list[float]] = {"mean": [self.intercept, *self.coef]}
        for q, b0, cs in zip(self.quantiles, self.quantile_intercept, self.quantile_coef):
            cols[f"q{round(q * 100)}"] = [b0, *cs]
        return pd.DataFrame(cols, index=["intercept", *self.feature_names])

    def summary(self) -> str:
        m = self.metrics
        lines = [f"SlippageModel (latency {self.latency_ms:g} ms, trained on {self.trained_on})"]
        if m:
            lines.append(f"  hold-out n={m.get('n_test')}  R2 mean={m.get('r2'):.4f}  "
                         f"R2 vs walk-only={m.get('r2_walk_only'):.4f}  "
                         f"R2 of drift={m.get('r2_drift'):.4f}")
            for q in self.quantiles:
                k = f"q{round(q * 100)}"
                lo, hi = m[k]["coverage"]
                line = f"  {k}: coverage [{lo:.3f}, {hi:.3f}] pinball {m[k]['pinball']:.4f}"
                if "gbm_coverage" in m[k]:
                    glo, ghi = m[k]["gbm_coverage"]
                    line += (f" (gbm coverage [{glo:.3f}, {ghi:.3f}] pinball "
                             f"{m[k]['gbm_pinball']:.4f})")
                lines.append(line)
        return "\n".join(lines)


@dataclass(frozen=True)
class GBMQuantileModel:
    """Gradient-boosted quantile models exported as plain arrays (JSON, no pickle).

    Each quantile has a baseline and a list of regression trees; a tree is the arrays
    ``feature``, ``threshold``, ``left``, ``right``, ``is_leaf``, ``value`` and
    ``missing_left`` of scikit-learn's ``HistGradientBoostingRegressor`` predictor nodes
    (numerical splits only: ``x[feature] <= threshold`` goes left, NaN goes to
    ``missing_left``). The prediction is the baseline plus the sum of the reached leaf
    values (the learning rate is already folded into them by scikit-learn), sorted across
    quantiles. It is the non-linear comparison model; the per-tick simulator uses the linear
    :class:`SlippageModel`.
    """

    feature_names: tuple[str, ...]
    quantiles: tuple[float, ...]
    baselines: tuple[float, ...]
    trees: tuple[tuple[dict[str, tuple[float, ...]], ...], ...]
    metrics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sklearn(cls, estimators: Sequence[Any], quantiles: Sequence[float],
                     feature_names: Sequence[str]) -> GBMQuantileModel:
        """Export fitted ``HistGradientBoostingRegressor(loss="quantile")`` estimators.

        Uses the estimators' fitted predictor nodes (scikit-learn >= 1.0 layout).
        """
        trees = []
        bases = []
        for est in estimators:
            if getattr(est, "is_categorical_", None) is not None and np.any(est.is_categorical_):
                raise ValueError("categorical splits cannot be exported")
            bases.append(float(np.ravel(est._baseline_prediction)[0]))
            tq = []
            for it in est._predictors:
                nodes = it[0].nodes
                tq.append({
                    "feature": tuple(float(v) for v in nodes["feature_idx"]),
                    "threshold": tuple(float(v) for v in nodes["num_threshold"]),
                    "left": tuple(float(v) for v in nodes["left"]),
                    "right": tuple(float(v) for v in nodes["right"]),
                    "is_leaf": tuple(float(v) for v in nodes["is_leaf"]),
                    "value": tuple(float(v) for v in nodes["value"]),
                    "missing_left": tuple(float(v) for v in nodes["missing_go_to_left"]),
                })
            trees.append(tuple(tq))
        return cls(tuple(feature_names), tuple(float(q) for q in quantiles), tuple(bases),
                   tuple(trees))

    def predict_raw(self, X: np.ndarray) -> np.ndarray:
        """``(n, m)`` predictions per quantile, before rearrangement."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"X has shape {X.shape}, expected (n, {len(self.feature_names)})")
        n = X.shape[0]
        rows = np.arange(n)
        out = np.empty((n, len(self.quantiles)))
        for j, (b0, trees) in enumerate(zip(self.baselines, self.trees)):
            acc = np.full(n, b0)
            for t in trees:
                feat = np.asarray(t["feature"], dtype=np.int64)
                thr = np.asarray(t["threshold"])
                left = np.asarray(t["left"], dtype=np.int64)
                right = np.asarray(t["right"], dtype=np.int64)
                leaf = np.asarray(t["is_leaf"], dtype=bool)
                miss = np.asarray(t["missing_left"], dtype=bool)
                node = np.zeros(n, dtype=np.int64)
                active = ~leaf[node]
                while active.any():
                    nd = node[active]
                    x = X[rows[active], feat[nd]]
                    go_left = np.where(np.isnan(x), miss[nd], x <= thr[nd])
                    node[active] = np.where(go_left, left[nd], right[nd])
                    active = ~leaf[node]
                acc += np.asarray(t["value"])[node]
            out[:, j] = acc
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``(n, m)`` quantile predictions, sorted per row (no crossing)."""
        return rearrange_quantiles(self.predict_raw(X))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "tradesim_nb.GBMQuantileModel", "version": 1,
                "feature_names": list(self.feature_names), "quantiles": list(self.quantiles),
                "baselines": list(self.baselines),
                "trees": [[{k: list(v) for k, v in t.items()} for t in tq] for tq in self.trees],
                "metrics": self.metrics}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GBMQuantileModel:
        if d.get("kind") != "tradesim_nb.GBMQuantileModel":
            raise ValueError(f"kind={d.get('kind')!r} is not 'tradesim_nb.GBMQuantileModel'")
        trees = tuple(tuple({k: tuple(map(float, v)) for k, v in t.items()} for t in tq)
                      for tq in d["trees"])
        return cls(tuple(d["feature_names"]), tuple(map(float, d["quantiles"])),
                   tuple(map(float, d["baselines"])), trees, dict(d.get("metrics", {})))

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), allow_nan=True))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> GBMQuantileModel:
        return cls.from_dict(json.loads(Path(path).read_text()))


def fit_gbm_quantiles(X: np.ndarray, y: np.ndarray, quantiles: Sequence[float] = (0.5, 0.9, 0.95),
                      *, max_iter: int = 100, learning_rate: float = 0.1,
                      max_leaf_nodes: int = 15, random_state: int = 0,
                      feature_names: Sequence[str] = SLIPPAGE_FEATURES) -> GBMQuantileModel:
    """Fit one ``HistGradientBoostingRegressor(loss="quantile")`` per quantile and export it."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    ests = [HistGradientBoostingRegressor(loss="quantile", quantile=q, max_iter=max_iter,
                                          learning_rate=learning_rate,
                                          max_leaf_nodes=max_leaf_nodes,
                                          random_state=random_state).fit(X, y)
            for q in quantiles]
    return GBMQuantileModel.from_sklearn(ests, quantiles, feature_names)


def fit_quantile(q: float, X: np.ndarray, y: np.ndarray) -> tuple[tuple[float, ...], float]:
    """One linear quantile regression [1]_ (``QuantileRegressor``, no penalty, HiGHS):
    ``(coef, intercept)``. Deterministic, so where it runs does not change it."""
    from sklearn.linear_model import QuantileRegressor

    qr = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y)
    return tuple(float(c) for c in qr.coef_), float(qr.intercept_)


def _fit_quantile_item(job: tuple[float, np.ndarray, np.ndarray]) -> tuple[tuple[float, ...],
                                                                          float]:
    return fit_quantile(*job)


def fit_slippage_model(dataset: RecordingDataset, *, quantiles: Sequence[float] = (0.5, 0.9, 0.95),
                       train_frac: float = 0.7, max_quantile_rows: int = 12_000,
                       gbm: bool = True, gbm_iter: int = 100,
                       random_state: int = 0,
                       map_fn: Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]
                       | None = None) -> SlippageModel:
    """Fit the mean and quantile models on a time-ordered split and evaluate the hold-out.

    Parameters
    ----------
    dataset : RecordingDataset
        From :func:`tradesim_nb.training.dataset_from_recording`.
    quantiles : sequence of float
        Increasing, each in (0, 1).
    train_frac : float
        Share of decision times (earliest first) used for training, in (0, 1).
    max_quantile_rows : int
        The linear-programming quantile fits use an evenly spaced subsample of at most this
        many training rows (HiGHS time grows faster than linearly); >= 100.
    gbm : bool
        Also fit gradient-boosted quantile models on the same split, for comparison.
    gbm_iter : int
        Boosting iterations of each gradient-boosted model.
    random_state : int
        Seed of the gradient-boosted models.
    map_fn : callable, optional
        ``map_fn(fn, items) -> list`` runs the quantile regressions (``fn`` takes one
        ``(q, X, y)`` item; results in item order): e.g. on Dask workers. Default: one after
        the other here. The regressions are deterministic, so the model does not depend on it.

    Returns
    -------
    SlippageModel
        With ``metrics``: ``n_train``, ``n_test``, ``r2`` (mean model), ``r2_walk_only``
        (predicting the walk slippage at ``t``), ``r2_drift`` (R² of ``y - walk``, i.e. how
        much of the mid move over the latency the features explain), ``by_size`` (R² per
        order size, mean model and walk-only), ``mae_bps`` and per
        quantile ``coverage`` (see :func:`coverage`), ``pinball``, ``gbm_coverage``,
        ``gbm_pinball``, plus ``crossing_before_sort`` (share of test rows whose raw linear
        quantiles crossed) and ``fit_s``.
    """
    qs = tuple(float(q) for q in quantiles)
    if not qs or list(qs) != sorted(qs) or not all(0 < q < 1 for q in qs):
        raise ValueError(f"quantiles={quantiles!r} must be increasing, each in (0, 1)")
    if max_quantile_rows < 100:
        raise ValueError(f"max_quantile_rows={max_quantile_rows!r} must be >= 100")
    t0 = time.perf_counter()
    end, start = dataset.split_index(train_frac, purge_s=dataset.config.latency_ms / 1e3 + 1.0)
    Xtr, ytr, _ = dataset.slippage_table(slice(0, end))
    Xte, yte, _ = dataset.slippage_table(slice(start, None))
    if Xtr.shape[0] < 200 or Xte.shape[0] < 100:
        raise ValueError(f"too few labelled rows: train={Xtr.shape[0]}, test={Xte.shape[0]} "
                         "(need >= 200 and >= 100)")
    A = np.column_stack([np.ones(Xtr.shape[0]), Xtr])
    beta = np.linalg.lstsq(A, ytr, rcond=None)[0]
    step = max(1, math.ceil(Xtr.shape[0] / max_quantile_rows))
    Xs, ys = Xtr[::step], ytr[::step]
    jobs = [(q, Xs, ys) for q in qs]
    fits = ([_fit_quantile_item(j) for j in jobs] if map_fn is None
            else map_fn(_fit_quantile_item, jobs))
    qcoef: list[tuple[float, ...]] = [c for c, _ in fits]
    qint: list[float] = [b for _, b in fits]
    model = SlippageModel(
        feature_names=SLIPPAGE_FEATURES, coef=tuple(float(b) for b in beta[1:]),
        intercept=float(beta[0]), quantiles=qs, quantile_coef=tuple(qcoef),
        quantile_intercept=tuple(qint), latency_ms=dataset.config.latency_ms,
        trained_on=dataset.source,
        feature_range=tuple((float(lo), float(hi))
                            for lo, hi in zip(Xtr.min(axis=0), Xtr.max(axis=0))),
    )
    mean, Q = model.predict(Xte)
    raw = Xte @ np.asarray(model.quantile_coef).T + np.asarray(model.quantile_intercept)
    walk = Xte[:, 0]
    metrics: dict[str, Any] = {
        "n_train": int(Xtr.shape[0]), "n_test": int(Xte.shape[0]),
        "n_quantile_rows": int(Xs.shape[0]),
        "train_decisions": end, "test_decisions": dataset.n - start,
        "r2": r2_score(yte, mean), "r2_walk_only": r2_score(yte, walk),
        "r2_drift": r2_score(yte - walk, mean - walk),
        "mae_bps": float(np.mean(np.abs(yte - mean))),
        "crossing_before_sort": float(np.mean(np.any(np.diff(raw, axis=1) < 0, axis=1)))
        if len(qs) > 1 else 0.0,
    }
    # pooled R² is dominated by the spread of costs across sizes: report it per size too
    size_te = np.round(np.exp(Xte[:, 1]))
    metrics["by_size"] = {
        f"{sz:.0f}": {"n": int(np.sum(size_te == sz)),
                      "r2": r2_score(yte[size_te == sz], mean[size_te == sz]),
                      "r2_walk_only": r2_score(yte[size_te == sz], walk[size_te == sz]),
                      "mean_y_bps": float(np.mean(yte[size_te == sz]))}
        for sz in np.unique(size_te)
    }
    gbm_pred: dict[float, np.ndarray] = {}
    if gbm:
        Gs = fit_gbm_quantiles(Xtr, ytr, qs, max_iter=gbm_iter,
                               random_state=random_state).predict(Xte)
        gbm_pred = {q: Gs[:, i] for i, q in enumerate(qs)}
    for i, q in enumerate(qs):
        k = f"q{round(q * 100)}"
        entry: dict[str, Any] = {"quantile": q, "coverage": list(coverage(yte, Q[:, i])),
                                 "pinball": pinball_loss(yte, Q[:, i], q)}
        if gbm:
            entry["gbm_coverage"] = list(coverage(yte, gbm_pred[q]))
            entry["gbm_pinball"] = pinball_loss(yte, gbm_pred[q], q)
        metrics[k] = entry
    metrics["fit_s"] = time.perf_counter() - t0
    log.info("slippage model fitted in %.1f s: R2=%.4f", metrics["fit_s"], metrics["r2"])
    return dataclasses.replace(model, metrics=metrics)
