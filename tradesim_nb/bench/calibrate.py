"""``tradesim bench calibrate``: ATHL impact fits on 1e4 parent orders, beside scipy's curve_fit.

The same records (:func:`tradesim_nb.impact.synthetic.simulate_orders`, true gamma = 0.314,
eta = 0.142) are fitted by

* **tradesim** — :func:`tradesim_nb.impact.fit.fit_athl` (exponents fixed: one weighted linear
  solve; exponents free: :func:`scipy.optimize.least_squares` with an analytic Jacobian), plus
  its cluster-robust sandwich intervals;
* **curve_fit** — :func:`scipy.optimize.curve_fit` on the stacked :math:`(I, J)` with
  per-point ``sigma`` (the ATHL diagonal weighting, ``weighting="athl"`` on our side so
  both minimise the same sum of squares), numeric Jacobian.

Rows: one fit with fixed exponents (target <= 1 s), one with free exponents, and a
200-resample pairs bootstrap with fixed exponents (target <= 10 s). Figures are medians over
``--repeats``; ``ratio`` = peer time / ours. The estimates of both are printed so the
agreement is visible.
"""

from __future__ import annotations

import argparse
import functools
import math
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

DESCRIPTION = ("ATHL impact fit of 1e4 parent orders and a 200-resample bootstrap: "
               "tradesim fit_athl vs scipy curve_fit")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--orders", type=int, default=10_000, help="parent orders (default 1e4)")
    p.add_argument("--resamples", type=int, default=200, help="bootstrap resamples (default 200)")
    p.add_argument("--repeats", type=int, default=5, help="repeats of each fit (median)")
    p.add_argument("--boot-repeats", type=int, default=3, dest="boot_repeats",
                   help="repeats of the bootstrap (median)")
    p.add_argument("--seed", type=int, default=0)


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    ts = []
    out: Any = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def _peer(df: Any, free: bool) -> Callable[[np.ndarray | None], np.ndarray]:
    """curve_fit on the stacked (I, J), ATHL diagonal sigma; returns a fit(idx) function."""
    from scipy.optimize import curve_fit

    s = np.where(df["side"].astype(str) == "buy", 1.0, -1.0)
    s0 = df["arrival_price"].to_numpy(float)
    imp = s * (df["post_price"].to_numpy(float) - s0) / s0
    jj = s * (df["exec_price"].to_numpy(float) - s0) / s0
    xv = df["size"].to_numpy(float) / df["adv"].to_numpy(float)
    t = df["duration"].to_numpy(float)
    sig = df["sigma"].to_numpy(float)
    rate = xv / t
    sd_i = sig * np.sqrt(t)
    sd_j = sig * np.sqrt(t / 3.0)

    def fit(idx: np.ndarray | None) -> np.ndarray:
        sl = slice(None) if idx is None else idx
        a, r, sg = xv[sl], rate[sl], sig[sl]
        n = a.size
        y = np.concatenate([imp[sl], jj[sl]])
        sd = np.concatenate([sd_i[sl], sd_j[sl]])

        if free:
            def model(_x: np.ndarray, g: float, e: float, al: float, be: float) -> np.ndarray:
                perm = g * sg * a**al
                return np.concatenate([perm, perm / 2 + e * sg * r**be])
            p0 = [0.3, 0.1, 1.0, 0.6]
        else:
            def model(_x: np.ndarray, g: float, e: float) -> np.ndarray:  # type: ignore[misc]
                perm = g * sg * a
                return np.concatenate([perm, perm / 2 + e * sg * r**0.6])
            p0 = [0.3, 0.1]
        popt, _ = curve_fit(model, np.arange(2 * n), y, p0=p0, sigma=sd, absolute_sigma=False)
        return np.asarray(popt)

    return fit


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ..impact import fit_athl, load_orders, simulate_orders

    for name in ("orders", "resamples", "repeats", "boot_repeats"):
        v = getattr(args, name)
        if v < (2 if name == "resamples" else 1):
            raise ValueError(f"--{name.replace('_', '-')}={v!r} must be >= "
                             f"{2 if name == 'resamples' else 1}")
    df = simulate_orders(args.orders, seed=args.seed)
    load_orders(df)  # validate once, as fit_athl does each time
    rows: list[dict[str, Any]] = []

    for label, free in (("fit, exponents fixed", False), ("fit, exponents free", True)):
        t_ours, f_ours = _median_time(functools.partial(
            fit_athl, df, weighting="athl", fit_alpha=free, fit_beta=free), args.repeats)
        t_gls, f_gls = _median_time(functools.partial(
            fit_athl, df, weighting="gls", fit_alpha=free, fit_beta=free), args.repeats)
        t_peer, p_peer = _median_time(functools.partial(_peer(df, free), None), args.repeats)
        rows.append(dict(
            task=label, orders=args.orders,
            tradesim_s=t_ours, tradesim_gls_s=t_gls, curve_fit_s=t_peer,
            ratio=t_peer / t_ours if t_ours > 0 else math.nan,
            gamma_tradesim=f_ours.gamma.estimate, eta_tradesim=f_ours.eta.estimate,
            gamma_gls=f_gls.gamma.estimate, eta_gls=f_gls.eta.estimate,
            gamma_curve_fit=float(p_peer[0]), eta_curve_fit=float(p_peer[1]),
            target_s=1.0))

    rng_seed = args.seed
    t_boot, f_boot = _median_time(
        lambda: fit_athl(df, weighting="athl", bootstrap=args.resamples, seed=rng_seed),
        args.boot_repeats)
    t_boot_gls, _ = _median_time(
        lambda: fit_athl(df, weighting="gls", bootstrap=args.resamples, seed=rng_seed),
        args.boot_repeats)
    peer = _peer(df, False)

    def peer_boot() -> np.ndarray:
        rng = np.random.default_rng(rng_seed)
        n = len(df)
        return np.array([peer(rng.integers(0, n, n)) for _ in range(args.resamples)])

    t_pboot, draws = _median_time(peer_boot, args.boot_repeats)
    rows.append(dict(
        task=f"bootstrap {args.resamples} resamples", orders=args.orders,
        tradesim_s=t_boot, tradesim_gls_s=t_boot_gls, curve_fit_s=t_pboot,
        ratio=t_pboot / t_boot if t_boot > 0 else math.nan,
        gamma_tradesim=f_boot.gamma.estimate, eta_tradesim=f_boot.eta.estimate,
        gamma_ci_tradesim=[f_boot.gamma.ci_low, f_boot.gamma.ci_high],
        gamma_ci_curve_fit=[float(np.quantile(draws[:, 0], 0.025)),
                            float(np.quantile(draws[:, 0], 0.975))],
        target_s=10.0))
    return dict(benchmark="calibrate", python=platform.python_version(),
                machine=platform.machine(), seed=args.seed, repeats=args.repeats,
                boot_repeats=args.boot_repeats, rows=rows)


def format_table(res: dict[str, Any]) -> str:
    lines = [f"ATHL calibration benchmark (median of {res['repeats']} fits / "
             f"{res['boot_repeats']} bootstraps; python {res['python']})",
             f"{'task':<30}{'tradesim s':>12}{'(gls) s':>10}{'curve_fit s':>13}{'ratio':>8}"
             f"{'target s':>10}  gamma ours / peer"]
    for r in res["rows"]:
        peer_g = r.get("gamma_curve_fit")
        g = f"{r['gamma_tradesim']:.4f} / {peer_g:.4f}" if peer_g is not None else \
            f"CI ours {r['gamma_ci_tradesim'][0]:.3f}..{r['gamma_ci_tradesim'][1]:.3f}, " \
            f"peer {r['gamma_ci_curve_fit'][0]:.3f}..{r['gamma_ci_curve_fit'][1]:.3f}"
        lines.append(f"{r['task']:<30}{r['tradesim_s']:>12.4f}{r['tradesim_gls_s']:>10.4f}"
                     f"{r['curve_fit_s']:>13.4f}{r['ratio']:>8.1f}{r['target_s']:>10.1f}  {g}")
    lines.append("ratio = curve_fit time / tradesim time (same weighting, same data); "
                 "(gls) = our default whitened fit")
    return "\n".join(lines)
