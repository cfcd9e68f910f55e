"""The result of an impact fit: estimates with intervals, and the laws they make.

A fit (:func:`~tradesim_nb.impact.fit.fit_athl`, :func:`~tradesim_nb.impact.fit.fit_ac_records`,
:func:`~tradesim_nb.impact.fit.fit_market_data`) returns an immutable :class:`ImpactFit`, as
arch's results are: :attr:`~ImpactFit.params`, :attr:`~ImpactFit.std_err`,
:meth:`~ImpactFit.conf_int`, :meth:`~ImpactFit.summary`, :meth:`~ImpactFit.to_frame`, and the
fitted law itself, :attr:`~ImpactFit.law`, which
:class:`~tradesim_nb.simulator.TradeSimulator` takes as ``impact=`` (or takes the fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from .base import FitBound, ImpactLaw

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Z95", "Estimate", "ImpactFit"]

#: the 97.5 % normal quantile of a two-sided 95 % interval
Z95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True, slots=True)
class Estimate:
    """One fitted parameter: estimate, standard error and a 95 % interval.

    Attributes
    ----------
    name : str
    estimate, std_error, ci_low, ci_high : float
    unit : str
    fixed : bool
        True for a parameter held at a given value (not fitted).
    """

    name: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    unit: str = ""
    fixed: bool = False

    def covers(self, value: float) -> bool:
        """True when ``value`` lies in the 95 % interval."""
        return self.ci_low <= value <= self.ci_high

    def to_dict(self) -> dict[str, Any]:
        """The fields other than the name (JSON-ready)."""
        return dict(estimate=self.estimate, std_error=self.std_error, ci_low=self.ci_low,
                    ci_high=self.ci_high, unit=self.unit, fixed=self.fixed)


def estimate(name: str, x: float, se: float, unit: str = "", lo: float | None = None,
             hi: float | None = None, fixed: bool = False) -> Estimate:
    """An :class:`Estimate` with a normal interval :math:`x \\pm z_{0.975}\\,se` unless
    ``lo`` and ``hi`` are given."""
    if lo is None or hi is None:
        lo, hi = x - Z95 * se, x + Z95 * se
    return Estimate(name, float(x), float(se), float(lo), float(hi), unit, fixed)


@dataclass(frozen=True, slots=True)
class ImpactFit:
    """An immutable calibration result.

    Attributes
    ----------
    method : str
        ``"athl"``, ``"ac-records"`` or ``"market-data"``.
    estimates : tuple of Estimate
    goodness : tuple of (name, value)
        Goodness-of-fit figures (R², whitened RMSE, ...).
    n_obs : int
    interval : str
        How the intervals were made (``"sandwich"``, ``"bootstrap(B)"``, ``"newey-west"``).
    info : tuple of (name, value)
        Anything else worth keeping (units, settings, ``time_unit_s`` of the laws).
    law_types : tuple of type
        The :class:`~tradesim_nb.impact.base.ImpactLaw` classes the fit's parameters make,
        the main one first (:attr:`law`).
    """

    method: str
    estimates: tuple[Estimate, ...]
    goodness: tuple[tuple[str, float], ...]
    n_obs: int
    interval: str
    info: tuple[tuple[str, Any], ...] = ()
    law_types: tuple[type[ImpactLaw], ...] = ()

    def __getitem__(self, name: str) -> Estimate:
        for e in self.estimates:
            if e.name == name:
                return e
        raise KeyError(f"no estimate named {name!r}; have {[e.name for e in self.estimates]}")

    def __contains__(self, name: object) -> bool:
        return any(e.name == name for e in self.estimates)

    @property
    def eta(self) -> Estimate:
        """The estimate named ``eta``."""
        return self["eta"]

    @property
    def gamma(self) -> Estimate:
        """The estimate named ``gamma``."""
        return self["gamma"]

    # -- arch-style accessors ------------------------------------------------------------
    @property
    def params(self) -> pd.Series:
        """Point estimates by parameter name (a pandas Series)."""
        return self.to_frame()["estimate"]

    @property
    def std_err(self) -> pd.Series:
        """Standard errors by parameter name (a pandas Series)."""
        return self.to_frame()["std_error"]

    def conf_int(self) -> pd.DataFrame:
        """The 95 % intervals: columns ``lower`` and ``upper``, one row per parameter."""
        fr = self.to_frame()
        return fr[["ci_low", "ci_high"]].rename(columns={"ci_low": "lower", "ci_high": "upper"})

    # -- the laws ---------------------------------------------------------------------------
    @property
    def law(self) -> ImpactLaw:
        """The main fitted law at the point estimates (see :meth:`law_at`)."""
        return self.law_at("estimate")

    @property
    def laws(self) -> dict[str, ImpactLaw]:
        """Every law the fit makes, by :attr:`~tradesim_nb.impact.base.ImpactLaw.kind`."""
        return {t.kind: t.from_fit(self) for t in self.law_types}

    def law_at(self, at: FitBound = "estimate", kind: str | None = None) -> ImpactLaw:
        """A fitted law at the estimates or at the ends of the 95 % intervals.

        Parameters
        ----------
        at : {"estimate", "ci_low", "ci_high"}
            ``"ci_low"``/``"ci_high"`` take every parameter at that end of its interval (cut
            at the parameter's allowed range): for a law whose cost grows with each
            coefficient, a cost band.
        kind : str, optional
            Which law (:attr:`laws`' keys); default the main one.

        Raises
        ------
        ValueError
            When the fit makes no law, or when an estimate is outside the law's allowed
            range (e.g. a negative :math:`\\gamma` from a noisy sample): such a fit cannot
            price impact.
        """
        if not self.law_types:
            raise ValueError(f"the {self.method} fit makes no impact law")
        types = {t.kind: t for t in self.law_types}
        if kind is not None and kind not in types:
            raise ValueError(f"kind={kind!r} is not one of {sorted(types)}")
        t = self.law_types[0] if kind is None else types[kind]
        try:
            return t.from_fit(self, at)
        except ValueError as e:
            raise ValueError(f"the {self.method} fit cannot make a {t.__name__} at its {at}: "
                             f"{e}") from None

    # -- tables -----------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: estimate, std_error, ci_low, ci_high, unit, fixed."""
        import pandas as pd

        return pd.DataFrame([{"param": e.name, **e.to_dict()} for e in self.estimates]
                            ).set_index("param")

    def to_dict(self) -> dict[str, Any]:
        """Method, counts, one entry per estimate, goodness, info and the law kinds."""
        out: dict[str, Any] = {"method": self.method, "n_obs": self.n_obs,
                               "interval": self.interval}
        for e in self.estimates:
            out[e.name] = e.to_dict()
        out["goodness"] = dict(self.goodness)
        out["info"] = {k: v for k, v in self.info}
        out["laws"] = [t.kind for t in self.law_types]
        return out

    def summary(self) -> str:
        """A plain-text table of the fit."""
        lines = [f"{self.method} fit: n_obs={self.n_obs}, 95% intervals by {self.interval}",
                 f"{'param':<10}{'estimate':>14}{'std err':>13}{'ci_low':>14}{'ci_high':>14}  unit"]
        for e in self.estimates:
            fx = " (fixed)" if e.fixed else ""
            lines.append(f"{e.name:<10}{e.estimate:>14.6g}{e.std_error:>13.4g}{e.ci_low:>14.6g}"
                         f"{e.ci_high:>14.6g}  {e.unit}{fx}")
        if self.goodness:
            lines.append("goodness: " + ", ".join(f"{k}={v:.4g}" for k, v in self.goodness))
        if self.info:
            lines.append("info: " + ", ".join(f"{k}={v}" for k, v in self.info))
        for t in self.law_types:
            try:
                lines.append(f"law: {t.from_fit(self)!r}")
            except ValueError as e:
                lines.append(f"law: {t.__name__} not available ({e})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
