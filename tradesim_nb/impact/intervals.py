r"""Standard errors and intervals of the impact fits: sandwich, Newey-West, bootstraps.

* :func:`cluster_sandwich` — the cluster-robust covariance of least squares,
  :math:`B^{-1} M B^{-1}` with :math:`B = J^\top J` and :math:`M = \sum_c g_c g_c^\top` over
  clusters (parent orders), valid whatever the true noise scale [White1980]_.
* :func:`newey_west_ols` — OLS with the heteroskedasticity- and autocorrelation-consistent
  covariance of Newey and West [NW1987]_.
* :func:`block_indices` — one moving-block bootstrap resample of a time series [Kuensch1989]_;
  :func:`percentile_estimate` — an estimate with the percentile interval of its draws.

References
----------
.. [White1980] H. White, "A heteroskedasticity-consistent covariance matrix estimator and a
   direct test for heteroskedasticity", Econometrica 48 (1980) 817-838.
.. [NW1987] W. K. Newey and K. D. West, "A simple, positive semi-definite, heteroskedasticity
   and autocorrelation consistent covariance matrix", Econometrica 55 (1987) 703-708.
.. [Kuensch1989] H. R. Kuensch, "The jackknife and the bootstrap for general stationary
   observations", Ann. Statist. 17 (1989) 1217-1241.
"""

from __future__ import annotations

import math

import numpy as np

from .results import Estimate, estimate

__all__ = [
    "block_indices",
    "cluster_sandwich",
    "newey_west_ols",
    "percentile_estimate",
]


def cluster_sandwich(r: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Cluster-robust covariance of least squares: :math:`B^{-1} M B^{-1}`.

    Parameters
    ----------
    r : ndarray, shape (n, k)
        Residuals, ``k`` per cluster (e.g. the whitened pair of a parent order).
    j : ndarray, shape (n, k, p)
        Jacobian of the residuals in the ``p`` parameters.

    Returns
    -------
    ndarray, shape (p, p)
        With the small-sample factor :math:`n/(n - p)`.
    """
    jm = j.reshape(-1, j.shape[2])
    bread = np.linalg.pinv(jm.T @ jm)
    g = np.einsum("nkp,nk->np", j, r)  # per-cluster score
    n = g.shape[0]
    meat = g.T @ g * (n / max(n - j.shape[2], 1))
    return bread @ meat @ bread


def newey_west_ols(y: np.ndarray, x: np.ndarray, lags: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS of ``y`` on the columns of ``x`` with the Newey-West (Bartlett kernel) covariance.

    .. math:: \\hat\\Omega = \\Gamma_0 + \\sum_{l=1}^{L}\\Big(1 - \\frac{l}{L+1}\\Big)
              (\\Gamma_l + \\Gamma_l^\\top),\\quad \\Gamma_l = \\sum_t u_t u_{t-l}^\\top,
              \\; u_t = x_t e_t

    with :math:`L = \\lfloor 4 (n/100)^{2/9} \\rfloor` by default.

    Returns
    -------
    beta : ndarray, shape (k,)
    cov : ndarray, shape (k, k)
    lags : int
        :math:`L`.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n, k = x.shape
    if n <= k + 1:
        raise ValueError(f"y has {n} observations; more than {k + 1} are needed")
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    e = y - x @ beta
    u = x * e[:, None]
    L = math.floor(4 * (n / 100.0) ** (2.0 / 9.0)) if lags is None else int(lags)
    omega = u.T @ u
    for lag in range(1, L + 1):
        g = u[lag:].T @ u[:-lag]
        omega += (1 - lag / (L + 1)) * (g + g.T)
    xtx_inv = np.linalg.inv(x.T @ x)
    cov = xtx_inv @ omega @ xtx_inv * n / (n - k)
    return beta, cov, L


def block_indices(rng: np.random.Generator, n: int, block: int) -> np.ndarray:
    """Indices of one moving-block bootstrap resample of ``n`` points, blocks of ``block``."""
    nb = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, nb)
    return (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]


def percentile_estimate(name: str, x: float, draws: np.ndarray, unit: str = "",
                        fixed: bool = False) -> Estimate:
    """``x`` with the standard deviation and the 2.5 / 97.5 % percentiles of its bootstrap
    ``draws`` (NaN draws dropped). ``fixed`` gives a zero-width interval; fewer than 2
    finite draws give NaN."""
    col = np.asarray(draws, dtype=float)
    col = col[np.isfinite(col)]
    if fixed:
        return estimate(name, x, 0.0, unit, x, x, True)
    if col.size < 2:
        return estimate(name, x, math.nan, unit, math.nan, math.nan)
    return Estimate(name, float(x), float(col.std(ddof=1)), float(np.quantile(col, 0.025)),
                    float(np.quantile(col, 0.975)), unit)
