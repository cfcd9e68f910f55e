"""Parent-order records: loading and validating them, and the arrays the ATHL fit works on.

A record is one parent order: ``side``, ``size``, ``duration``, ``adv``, ``sigma``,
``arrival_price``, ``post_price``, ``exec_price`` (see :func:`load_orders`), from a DataFrame
or a CSV file; :func:`tradesim_nb.impact.synthetic.simulate_orders` draws such records from
the ATHL model and :meth:`tradesim_nb.execution.ExecutionResult.to_record` writes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["ORDER_COLUMNS", "OrderArrays", "Weighting", "load_orders", "order_arrays"]

Weighting = Literal["gls", "athl", "none"]

#: the columns every parent-order record must have
ORDER_COLUMNS = ("side", "size", "duration", "adv", "sigma", "arrival_price", "post_price",
                 "exec_price")


def load_orders(records: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Validate parent-order records (a DataFrame or a CSV path); return a clean copy.

    Required columns: ``side`` (``buy``/``sell`` or +1/-1), ``size`` (base units, > 0),
    ``duration`` (fraction of a day, > 0), ``adv`` (> 0), ``sigma`` (daily, fraction, > 0),
    ``arrival_price`` (> 0), ``post_price``, ``exec_price`` (finite, > 0). Optional:
    ``post_duration`` (fraction of a day from the start to the post price, >= duration;
    default ``duration``), ``shares_outstanding`` (for the :math:`(\\Theta/V)^\\delta` factor).

    Raises
    ------
    ValueError
        Naming the missing column, or the column, the first bad value and its row.
    FileNotFoundError
        For a path that does not exist.
    """
    import pandas as pd

    if isinstance(records, str | Path):
        p = Path(records)
        if not p.exists():
            raise FileNotFoundError(f"orders file {p} does not exist")
        df = pd.read_csv(p)
    elif isinstance(records, pd.DataFrame):
        df = records.copy()
    else:
        raise ValueError(f"records={type(records).__name__} must be a DataFrame or a CSV path")
    missing = [c for c in ORDER_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"orders are missing column(s) {missing}; required: "
                         f"{list(ORDER_COLUMNS)}")
    if len(df) == 0:
        raise ValueError("orders has 0 rows; at least one parent order is needed")
    side = df["side"]
    if not pd.api.types.is_numeric_dtype(side):
        s = side.astype(str).str.lower().map({"buy": 1.0, "sell": -1.0, "b": 1.0, "s": -1.0,
                                              "1": 1.0, "-1": -1.0})
    else:
        s = pd.to_numeric(side, errors="coerce").where(lambda v: v.isin([1, -1]))
    if s.isna().any():
        bad = df.loc[s.isna(), "side"].iloc[0]
        raise ValueError(f"column 'side' has value {bad!r}; allowed 'buy', 'sell', +1, -1")
    df["side"] = s.astype(float)
    for c in ORDER_COLUMNS[1:]:
        v = pd.to_numeric(df[c], errors="coerce")
        bad = ~np.isfinite(v) | (v <= 0)
        if bad.any():
            raise ValueError(f"column {c!r} has value {df.loc[bad, c].iloc[0]!r} at row "
                             f"{int(np.flatnonzero(bad.to_numpy())[0])}; allowed: finite > 0")
        df[c] = v.astype(float)
    if "post_duration" in df.columns:
        v = pd.to_numeric(df["post_duration"], errors="coerce")
        bad = ~np.isfinite(v) | (v < df["duration"])
        if bad.any():
            raise ValueError(f"column 'post_duration' has value {df.loc[bad, 'post_duration'].iloc[0]!r}; "
                             "allowed: finite and >= duration")
        df["post_duration"] = v.astype(float)
    if "shares_outstanding" in df.columns:
        v = pd.to_numeric(df["shares_outstanding"], errors="coerce")
        bad = ~np.isfinite(v) | (v <= 0)
        if bad.any():
            raise ValueError(f"column 'shares_outstanding' has value "
                             f"{df.loc[bad, 'shares_outstanding'].iloc[0]!r}; allowed: finite > 0")
        df["shares_outstanding"] = v.astype(float)
    return df.reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class OrderArrays:
    """Arrays of an ATHL data set, with the per-order whitening of the (I, J) pair.

    ``imp`` and ``J`` are the signed-by-side permanent impact and realised cost (fractions of
    the arrival price); ``xv`` is :math:`X/V`, ``rate`` :math:`|X/(VT)|`, ``theta``
    :math:`\\Theta/V` (ones without shares outstanding). The whitened residuals of an order
    are :math:`w_1 = a_1 e_1` and :math:`w_2 = b_1 e_1 + b_2 e_2`.
    """

    imp: np.ndarray
    J: np.ndarray
    xv: np.ndarray
    rate: np.ndarray
    sigma: np.ndarray
    theta: np.ndarray
    a1: np.ndarray
    b1: np.ndarray
    b2: np.ndarray

    def take(self, idx: np.ndarray) -> OrderArrays:
        """The orders at ``idx`` (a bootstrap resample)."""
        return OrderArrays(*(getattr(self, f)[idx] for f in self.__slots__))


def order_arrays(df: pd.DataFrame, weighting: Weighting) -> OrderArrays:
    """The :class:`OrderArrays` of clean records (:func:`load_orders`).

    ``weighting``: ``"gls"`` whitens each order's pair with its diffusion covariance
    :math:`\\sigma^2[[T_{post}, T/2], [T/2, T/3]]` (Cholesky inverse); ``"athl"`` scales
    :math:`I` by :math:`\\sigma\\sqrt{T_{post}}` and :math:`J` by :math:`\\sigma\\sqrt{T/3}`;
    ``"none"`` is plain least squares.
    """
    s = df["side"].to_numpy()
    s0 = df["arrival_price"].to_numpy()
    imp = s * (df["post_price"].to_numpy() - s0) / s0
    J = s * (df["exec_price"].to_numpy() - s0) / s0
    x = df["size"].to_numpy()
    v = df["adv"].to_numpy()
    t = df["duration"].to_numpy()
    tp = df["post_duration"].to_numpy() if "post_duration" in df.columns else t
    sig = df["sigma"].to_numpy()
    theta = (df["shares_outstanding"].to_numpy() / v if "shares_outstanding" in df.columns
             else np.ones_like(x))
    if weighting == "gls":
        # diffusion covariance of (I, J) for uniform trading over [0, T], post at Tp >= T:
        # Var I = s^2 Tp, Var J = s^2 T/3, Cov = s^2 T/2  ->  Cholesky and its inverse.
        l11 = sig * np.sqrt(tp)
        l21 = sig * (t / 2.0) / np.sqrt(tp)
        l22 = sig * np.sqrt(np.maximum(t / 3.0 - t * t / (4.0 * tp), 1e-300))
        a1 = 1.0 / l11
        b1 = -l21 / (l11 * l22)
        b2 = 1.0 / l22
    elif weighting == "athl":
        a1 = 1.0 / (sig * np.sqrt(tp))
        b1 = np.zeros_like(a1)
        b2 = 1.0 / (sig * np.sqrt(t / 3.0))
    elif weighting == "none":
        a1 = np.ones_like(x)
        b1 = np.zeros_like(x)
        b2 = np.ones_like(x)
    else:
        raise ValueError(f"weighting={weighting!r} is not one of 'gls', 'athl', 'none'")
    return OrderArrays(imp, J, x / v, np.abs(x / (v * t)), sig, theta, a1, b1, b2)
