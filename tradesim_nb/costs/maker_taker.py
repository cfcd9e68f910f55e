"""Maker/taker share: how much of an order worked passively at the touch fills as a maker.

Strategy modelled ("passive then aggressive"): at time :math:`t` the order is posted as a
limit order at the own touch (a buy at the best bid), joins the *back* of the queue, rests for
a horizon :math:`h`, and whatever is left crosses the spread as a market order at
:math:`t + h`.

**Labels** (replay of the real Binance BTCUSDT recording, see
:func:`tradesim_nb.features.passive_fill_fraction`): the queue ahead is the touch size at
:math:`t`; opposite-side aggressor volume at the order's price first consumes the queue
ahead, then the order (the queue-depletion view of a fill at the touch, as in Cont and de
Larrard [2]_); a trade strictly through the price means the level was cleared and the order
filled. The passive share is

.. math::

    f = \\operatorname{clip}\\Big(\\frac{V_{at}(t, t+h] - Q_{ahead}(t)}{q}, 0, 1\\Big)
    \\quad (f = 1 \\text{ if a trade went through the price}).

Cancellations ahead of the order are not observable in L2 data and are ignored, so ``f``
is conservative; fills against hidden or iceberg liquidity are not modelled either.

**Why a fractional label, not a 0/1 one.** The quantity the cost estimate needs is the
*expected passive share* :math:`E[f \\mid x]`, which is a fraction (large orders fill in part).
We fit a logistic model to the fraction directly by quasi-maximum likelihood (Papke and
Wooldridge [1]_): the Bernoulli log-likelihood with the fractional label,

.. math::

    \\max_\\beta \\sum_i f_i \\ln p_i + (1-f_i)\\ln(1-p_i), \\quad
    p_i = \\sigma(\\beta_0 + x_i^\\top\\beta),

which is consistent for :math:`E[f\\mid x]` whenever the logistic mean is right, whatever the
distribution of :math:`f`. In scikit-learn this is ``LogisticRegression`` on each row twice,
once with label 1 and weight :math:`f_i`, once with label 0 and weight :math:`1-f_i`. For
binary :math:`f` it is ordinary logistic regression, so :math:`p` is also the fill
probability. Features: :data:`tradesim_nb.features.MAKER_FEATURES`.

Evaluation on a time-ordered hold-out (first 70 % of decision times train): log-loss with
the fractional label, AUC for "filled completely" (:math:`f = 1`), a decile calibration table
(mean predicted vs mean realised share) and the Brier score.

References
----------
.. [1] Papke, L. E. and Wooldridge, J. M. (1996), "Econometric methods for fractional response
   variables with an application to 401(k) plan participation rates", J. Applied
   Econometrics 11(6).
.. [2] Cont, R. and de Larrard, A. (2013), "Price dynamics in a Markovian limit order
   market", SIAM J. Financial Math. 4(1) — queue depletion and fill probability at the touch.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import mul
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..features import MAKER_FEATURES

if TYPE_CHECKING:
    from ..training import RecordingDataset

__all__ = ["MakerTakerModel", "auc_score", "calibration_table", "fit_maker_taker_model",
           "fractional_log_loss"]

log = logging.getLogger(__name__)

_EPS = 1e-12


def fractional_log_loss(f: np.ndarray, p: np.ndarray) -> float:
    """Mean :math:`-[f\\ln p + (1-f)\\ln(1-p)]` (equals log-loss for binary ``f``)."""
    f = np.asarray(f, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return float(-np.mean(f * np.log(p) + (1 - f) * np.log(1 - p)))


def auc_score(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of binary ``y`` by the rank (Mann-Whitney) formula, ties halved."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    r = rankdata(np.asarray(score, dtype=np.float64))
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def calibration_table(f: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted vs mean realised share in ``bins`` quantile bins of the prediction."""
    if bins < 2:
        raise ValueError(f"bins={bins!r} must be >= 2")
    f = np.asarray(f, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if chunk.size == 0:
            continue
        out.append({"n": int(chunk.size), "p_min": float(p[chunk].min()),
                    "p_max": float(p[chunk].max()), "mean_pred": float(p[chunk].mean()),
                    "mean_realised": float(f[chunk].mean())})
    return out


@dataclass(frozen=True)
class MakerTakerModel:
    """Fractional logistic model of the passive share, coefficients on raw features.

    ``p = 1 / (1 + exp(-(intercept + coef · x)))``; the features are standardised for the
    fit and the scaling is folded back into ``coef`` and ``intercept``.
    """

    feature_names: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    horizon_s: float = 10.0
    metrics: dict[str, Any] = field(default_factory=dict)
    trained_on: str = ""

    def __post_init__(self) -> None:
        if len(self.coef) != len(self.feature_names):
            raise ValueError(f"coef has {len(self.coef)} entries, expected "
                             f"{len(self.feature_names)} (feature_names)")
        if not (math.isfinite(self.horizon_s) and self.horizon_s > 0):
            raise ValueError(f"horizon_s={self.horizon_s!r} must be a finite number > 0")

    def predict_row(self, x: Sequence[float]) -> float:
        """Expected passive share for one feature row (plain Python, hot path)."""
        z = self.intercept + sum(map(mul, self.coef, x))
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"X has shape {X.shape}, expected (n, {len(self.feature_names)})")
        z = X @ np.asarray(self.coef) + self.intercept
        out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * z))  # = sigmoid(z), overflow-free
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "tradesim_nb.MakerTakerModel", "version": 1,
                "feature_names": list(self.feature_names), "coef": list(self.coef),
                "intercept": self.intercept, "horizon_s": self.horizon_s,
                "metrics": self.metrics, "trained_on": self.trained_on}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MakerTakerModel:
        """Validated (:func:`tradesim_nb.models.maker_from_dict`): a bad field raises
        :class:`~tradesim_nb.models.ModelFileError` naming it."""
        from ..models import maker_from_dict

        return maker_from_dict(d, "maker")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write plain JSON (no pickle)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, allow_nan=True))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MakerTakerModel:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({"coef": [self.intercept, *self.coef]},
                            index=["intercept", *self.feature_names])

    def summary(self) -> str:
        m = self.metrics
        lines = [f"MakerTakerModel (horizon {self.horizon_s:g} s, trained on {self.trained_on})"]
        if m:
            lines.append(f"  hold-out n={m['n_test']}  log-loss={m['log_loss']:.4f} "
                         f"(base rate {m['log_loss_base']:.4f})  AUC={m['auc']:.4f}  "
                         f"Brier={m['brier']:.4f}")
            lines.append("  decile  mean_pred  mean_realised  n")
            for i, row in enumerate(m["calibration"]):
                lines.append(f"  {i + 1:6d}  {row['mean_pred']:9.3f}  "
                             f"{row['mean_realised']:13.3f}  {row['n']}")
        return "\n".join(lines)


def fit_maker_taker_model(dataset: RecordingDataset, *, train_frac: float = 0.7,
                          C: float = 1.0) -> MakerTakerModel:
    """Fit the fractional logistic model on a time-ordered split and evaluate the hold-out.

    Parameters
    ----------
    dataset : RecordingDataset
    train_frac : float
        Share of decision times (earliest first) used for training, in (0, 1). The test set
        starts one horizon after the last training decision (their label windows would
        otherwise overlap).
    C : float
        Inverse L2 regularisation strength of ``LogisticRegression`` (> 0), on standardised
        features.

    Returns
    -------
    MakerTakerModel
        ``metrics``: ``n_train``, ``n_test``, ``log_loss``, ``log_loss_base`` (constant
        prediction at the training mean share), ``auc`` (complete fill vs not), ``brier``,
        ``mean_share_train``/``mean_share_test`` and ``calibration`` (deciles).
    """
    from sklearn.linear_model import LogisticRegression

    if not (math.isfinite(C) and C > 0):
        raise ValueError(f"C={C!r} must be a finite number > 0")
    t0 = time.perf_counter()
    end, start = dataset.split_index(train_frac, purge_s=dataset.config.horizon_s)
    Xtr, ftr, _ = dataset.maker_table(slice(0, end))
    Xte, fte, _ = dataset.maker_table(slice(start, None))
    if Xtr.shape[0] < 200 or Xte.shape[0] < 100:
        raise ValueError(f"too few labelled rows: train={Xtr.shape[0]}, test={Xte.shape[0]} "
                         "(need >= 200 and >= 100)")
    mu = Xtr.mean(axis=0)
    sd = Xtr.std(axis=0)
    sd[sd < 1e-12] = 1.0
    Z = (Xtr - mu) / sd
    n = Z.shape[0]
    Zd = np.vstack([Z, Z])
    yd = np.concatenate([np.ones(n), np.zeros(n)])
    wd = np.concatenate([ftr, 1.0 - ftr])
    keep = wd > 0
    lr = LogisticRegression(C=C, max_iter=1000).fit(Zd[keep], yd[keep], sample_weight=wd[keep])
    b = lr.coef_[0] / sd
    b0 = float(lr.intercept_[0] - np.sum(lr.coef_[0] * mu / sd))
    model = MakerTakerModel(feature_names=MAKER_FEATURES, coef=tuple(float(x) for x in b),
                            intercept=b0, horizon_s=dataset.config.horizon_s,
                            trained_on=dataset.source)
    p = model.predict(Xte)
    base = float(np.clip(ftr.mean(), _EPS, 1 - _EPS))
    metrics: dict[str, Any] = {
        "n_train": int(n), "n_test": int(Xte.shape[0]),
        "train_decisions": end, "test_decisions": dataset.n - start,
        "log_loss": fractional_log_loss(fte, p),
        "log_loss_base": fractional_log_loss(fte, np.full_like(fte, base)),
        "auc": auc_score(fte >= 1.0 - 1e-9, p),
        "brier": float(np.mean((p - fte) ** 2)),
        "mean_share_train": float(ftr.mean()), "mean_share_test": float(fte.mean()),
        "mean_pred_test": float(p.mean()),
        "share_partial_test": float(np.mean((fte > 0) & (fte < 1))),
        "calibration": calibration_table(fte, p, 10),
        "fit_s": time.perf_counter() - t0,
    }
    log.info("maker/taker model fitted in %.1f s: AUC=%.4f", metrics["fit_s"], metrics["auc"])
    return dataclasses.replace(model, metrics=metrics)
