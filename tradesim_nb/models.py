"""The model file: the fitted cost models of one instrument, in one versioned JSON file.

``tradesim fit`` (:func:`tradesim_nb.fitting.fit_files`) writes one; everything that prices an
order reads it: :func:`load_models`, ``TradeSimulator(models=...)``, ``tradesim cost
--models``, the trade-cost dashboard and the notebooks. It is plain JSON (never pickle) and
holds

* ``models`` — the slippage mean and quantile models and the maker/taker model
  (:class:`SimulatorModels`);
* ``impact`` — the impact fit (:func:`~tradesim_nb.impact.fit.fit_market_data`: estimates of
  :math:`\\eta`, :math:`\\gamma` with 95 % intervals), or null;
* ``instrument`` — the venue and instrument the data came from;
* ``files`` — the files the fit read (names, sizes, SHA-256 of their bytes, formats) and the
  time span they cover;
* ``holdout`` — the hold-out report (the figures ``tradesim fit --json`` prints);
* ``config`` — how the decisions were sampled and labelled.

Every number is validated when a file is read (:func:`load_models`): types, shapes, finite
values, the slippage models' feature names and training ranges, and a bound on what the
slippage models may predict inside their own training range (:data:`MAX_PREDICTED_BPS`); a
file larger than :data:`MAX_MODEL_FILE_BYTES` is refused unread. A bad file raises
:class:`ModelFileError` naming the file and the field. The cache of the default models
(:meth:`tradesim_nb.simulator.TradeSimulator.default_models`) is a model file too; a bad cache
is named in a warning, moved aside and retrained (:func:`load_cache`).

Impact units
------------
The fit's :math:`\\eta` (quote x s / base\\ :sup:`2`) and :math:`\\gamma` (quote / base) are in the
units of the fitted instrument at its mean mid :math:`\\bar S` (``goodness["mean_mid"]``). An
order of notional :math:`N` (quote currency) is priced as the same notional on the fitted
market: :math:`x = N/\\bar S` base units under the fitted law,

.. math::

    C_{impact}(N) = E_{\\eta,\\gamma}\\big(N/\\bar S;\\ T, n\\big),

so the impact in bps of notional carries over to any price level, contract size (contracts
are converted to notional by the instrument) or instrument; on the fitted instrument at its
own price level it is the fitted law itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .costs.maker_taker import MakerTakerModel
from .costs.slippage import SlippageModel
from .features import MAKER_FEATURES, SLIPPAGE_FEATURES

if TYPE_CHECKING:  # pragma: no cover
    from .impact.laws import LinearImpact
    from .impact.results import ImpactFit
    from .instruments import Instrument
    from .training import DatasetConfig

__all__ = [
    "MAX_MODEL_FILE_BYTES",
    "MAX_PREDICTED_BPS",
    "MODELS_VERSION",
    "MODEL_FILE_VERSION",
    "ModelFile",
    "ModelFileError",
    "ModelFileWarning",
    "SimulatorModels",
    "file_info",
    "holdout_report",
    "instrument_dict",
    "json_ready",
    "list_model_files",
    "load_cache",
    "load_models",
    "save_models",
]

log = logging.getLogger(__name__)

#: bump when features or labels change: cached default models are retrained
MODELS_VERSION = 4
#: version of the model-file layout written by :func:`save_models`
MODEL_FILE_VERSION = 1
MODEL_FILE_KIND = "tradesim_nb.ModelFile"
#: a model file larger than this is refused before it is read (a few kB is typical)
MAX_MODEL_FILE_BYTES = 16 * 1024 * 1024
#: a slippage model predicting more than this (in absolute value, bps: the whole price)
#: anywhere inside its own training range is refused
MAX_PREDICTED_BPS = 1e4


class ModelFileError(ValueError):
    """A model file (or model dict) that cannot be used; the message names the file and field.

    Attributes
    ----------
    field : str
        The dotted path of the bad field (``"models.slippage.coef[2]"``).
    reason : str
        What is wrong with it.
    path : Path or None
        The file, when the dict came from one.
    """

    def __init__(self, field: str, reason: str, path: str | os.PathLike[str] | None = None
                 ) -> None:
        self.field = field
        self.reason = reason
        self.path = None if path is None else Path(path)
        where = f"model file {self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{field}: {reason}")

    def at(self, path: str | os.PathLike[str]) -> ModelFileError:
        """The same error, naming ``path``."""
        return ModelFileError(self.field, self.reason, path)


class ModelFileWarning(UserWarning):
    """A model file that was replaced (a bad cache) or is used outside what it was fitted on."""


# -- validation helpers ---------------------------------------------------------------------------
def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _num(v: Any, fld: str, *, lo: float | None = None, hi: float | None = None,
         strict_lo: bool = False, null: bool = False) -> float:
    """``v`` as a finite float in range, else :class:`ModelFileError` naming ``fld``."""
    if v is None and null:
        return math.nan
    if not _is_num(v):
        raise ModelFileError(fld, f"{v!r} is not a number" + (" or null" if null else ""))
    x = float(v)
    if not math.isfinite(x):
        raise ModelFileError(fld, f"{v!r} is not finite")
    if lo is not None and (x <= lo if strict_lo else x < lo):
        raise ModelFileError(fld, f"{v!r} must be {'>' if strict_lo else '>='} {lo:g}")
    if hi is not None and x > hi:
        raise ModelFileError(fld, f"{v!r} must be <= {hi:g}")
    return x


def _int(v: Any, fld: str, *, lo: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ModelFileError(fld, f"{v!r} must be an integer >= {lo}")
    return int(v)


def _str(v: Any, fld: str) -> str:
    if not isinstance(v, str):
        raise ModelFileError(fld, f"{v!r} is not a string")
    return v


def _obj(v: Any, fld: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ModelFileError(fld, f"is a {type(v).__name__}, not a JSON object")
    return v


def _get(d: Mapping[str, Any], key: str, fld: str) -> Any:
    if key not in d:
        raise ModelFileError(f"{fld}.{key}" if fld else key, "missing")
    return d[key]


def _vector(v: Any, fld: str, n: int | None = None) -> tuple[float, ...]:
    if not isinstance(v, list):
        raise ModelFileError(fld, f"is a {type(v).__name__}, not a list of numbers")
    if n is not None and len(v) != n:
        raise ModelFileError(fld, f"has {len(v)} entries, expected {n}")
    return tuple(_num(x, f"{fld}[{i}]") for i, x in enumerate(v))


def _kind(d: Mapping[str, Any], want: str, fld: str) -> None:
    k = d.get("kind")
    if k != want:
        raise ModelFileError(f"{fld}.kind" if fld else "kind", f"{k!r} is not {want!r}")


def _names(v: Any, want: tuple[str, ...], fld: str) -> tuple[str, ...]:
    if not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
        raise ModelFileError(fld, f"{v!r} is not a list of feature names")
    if tuple(v) != want:
        raise ModelFileError(fld, f"{v!r} are not this version's features {list(want)}")
    return want


_METRIC_NUMBERS = ("r2", "r2_walk_only", "r2_drift", "mae_bps", "auc", "log_loss",
                   "log_loss_base", "brier", "n_train", "n_test")


def _metrics(v: Any, fld: str) -> dict[str, Any]:
    m = _obj(v, fld)
    for k in _METRIC_NUMBERS:
        if k in m and m[k] is not None and not _is_num(m[k]):
            raise ModelFileError(f"{fld}.{k}", f"{m[k]!r} is not a number or null")
    return dict(m)


def _linear_range(b0: float, coef: Sequence[float],
                  box: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Exact min and max of ``b0 + coef . x`` over the box (a linear function: at corners)."""
    lo = hi = b0
    for c, (a, b) in zip(coef, box):
        lo += min(c * a, c * b)
        hi += max(c * a, c * b)
    return lo, hi


def slippage_from_dict(d: Any, fld: str = "slippage") -> SlippageModel:
    """A validated :class:`~tradesim_nb.costs.slippage.SlippageModel` from its dict."""
    d = _obj(d, fld)
    _kind(d, "tradesim_nb.SlippageModel", fld)
    names = _names(_get(d, "feature_names", fld), SLIPPAGE_FEATURES, f"{fld}.feature_names")
    p = len(names)
    coef = _vector(_get(d, "coef", fld), f"{fld}.coef", p)
    b0 = _num(_get(d, "intercept", fld), f"{fld}.intercept")
    qs = _vector(_get(d, "quantiles", fld), f"{fld}.quantiles")
    if not qs or list(qs) != sorted(set(qs)) or not all(0 < q < 1 for q in qs):
        raise ModelFileError(f"{fld}.quantiles", f"{list(qs)!r} must be increasing, each in "
                             "(0, 1)")
    qc_raw = _get(d, "quantile_coef", fld)
    if not isinstance(qc_raw, list) or len(qc_raw) != len(qs):
        raise ModelFileError(f"{fld}.quantile_coef", f"must be a list of {len(qs)} rows (one "
                             "per quantile)")
    qc = tuple(_vector(r, f"{fld}.quantile_coef[{i}]", p) for i, r in enumerate(qc_raw))
    qi = _vector(_get(d, "quantile_intercept", fld), f"{fld}.quantile_intercept", len(qs))
    fr_raw = _get(d, "feature_range", fld)
    if not isinstance(fr_raw, list) or len(fr_raw) != p:
        raise ModelFileError(f"{fld}.feature_range", f"must be {p} [min, max] pairs (one per "
                             "feature)")
    fr: list[tuple[float, float]] = []
    for i, r in enumerate(fr_raw):
        lo, hi = _vector(r, f"{fld}.feature_range[{i}]", 2)
        if lo > hi:
            raise ModelFileError(f"{fld}.feature_range[{i}]", f"min {lo!r} > max {hi!r}")
        fr.append((lo, hi))
    for name, (a, c) in (("mean", (b0, coef)),
                         *((f"q{round(q * 100)}", (qi[j], qc[j])) for j, q in enumerate(qs))):
        lo, hi = _linear_range(a, c, fr)
        if max(abs(lo), abs(hi)) > MAX_PREDICTED_BPS:
            raise ModelFileError(f"{fld}.{'coef' if name == 'mean' else 'quantile_coef'}",
                                 f"the {name} model predicts {lo:.4g} .. {hi:.4g} bps inside "
                                 f"its own training range (at most +-{MAX_PREDICTED_BPS:g} bps "
                                 "is plausible)")
    return SlippageModel(
        feature_names=names, coef=coef, intercept=b0, quantiles=qs, quantile_coef=qc,
        quantile_intercept=qi,
        latency_ms=_num(d.get("latency_ms", 100.0), f"{fld}.latency_ms", lo=0.0),
        metrics=_metrics(d.get("metrics", {}), f"{fld}.metrics"),
        trained_on=_str(d.get("trained_on", ""), f"{fld}.trained_on"),
        feature_range=tuple(fr))


def maker_from_dict(d: Any, fld: str = "maker") -> MakerTakerModel:
    """A validated :class:`~tradesim_nb.costs.maker_taker.MakerTakerModel` from its dict."""
    d = _obj(d, fld)
    _kind(d, "tradesim_nb.MakerTakerModel", fld)
    names = _names(_get(d, "feature_names", fld), MAKER_FEATURES, f"{fld}.feature_names")
    return MakerTakerModel(
        feature_names=names, coef=_vector(_get(d, "coef", fld), f"{fld}.coef", len(names)),
        intercept=_num(_get(d, "intercept", fld), f"{fld}.intercept"),
        horizon_s=_num(_get(d, "horizon_s", fld), f"{fld}.horizon_s", lo=0.0, strict_lo=True),
        metrics=_metrics(d.get("metrics", {}), f"{fld}.metrics"),
        trained_on=_str(d.get("trained_on", ""), f"{fld}.trained_on"))


# -- the models a simulator evaluates ------------------------------------------------------------
@dataclass(frozen=True)
class SimulatorModels:
    """The fitted models a :class:`~tradesim_nb.simulator.TradeSimulator` evaluates per tick:
    the slippage mean and quantile models and the maker/taker model."""

    slippage: SlippageModel
    maker: MakerTakerModel

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "tradesim_nb.SimulatorModels", "version": MODELS_VERSION,
                "slippage": self.slippage.to_dict(), "maker": self.maker.to_dict()}

    @classmethod
    def from_dict(cls, d: Any, fld: str = "models") -> SimulatorModels:
        """Validated: a bad field raises :class:`ModelFileError` naming it."""
        d = _obj(d, fld or "(top level)")
        _kind(d, "tradesim_nb.SimulatorModels", fld)
        v = d.get("version")
        if v != MODELS_VERSION:
            raise ModelFileError(f"{fld}.version" if fld else "version",
                                 f"{v!r}: this version reads models of version "
                                 f"{MODELS_VERSION} (refit them with tradesim fit)")
        pre = f"{fld}." if fld else ""
        return cls(slippage_from_dict(_get(d, "slippage", fld), f"{pre}slippage"),
                   maker_from_dict(_get(d, "maker", fld), f"{pre}maker"))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Plain JSON, no pickle."""
        Path(path).write_bytes(_dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SimulatorModels:
        """Read and validate (:class:`ModelFileError` names the file and field)."""
        d = _read_json(path)
        try:
            return cls.from_dict(d, "")
        except ModelFileError as e:
            raise e.at(path) from None

    @classmethod
    def train(cls, config: DatasetConfig | None = None, *, gbm: bool = False) -> SimulatorModels:
        """Train both models on the real Binance BTCUSDT recording (a few seconds, no network)."""
        from .costs.maker_taker import fit_maker_taker_model
        from .costs.slippage import fit_slippage_model
        from .training import load_binance_dataset

        ds = load_binance_dataset(config)
        return cls(fit_slippage_model(ds, gbm=gbm), fit_maker_taker_model(ds))


# -- the impact fit in the file ---------------------------------------------------------------------
def _impact_to_dict(fit: ImpactFit) -> dict[str, Any]:
    return {"method": fit.method, "n_obs": fit.n_obs, "interval": fit.interval,
            "estimates": [{"name": e.name, **e.to_dict()} for e in fit.estimates],
            "goodness": dict(fit.goodness), "info": dict(fit.info),
            "laws": [t.kind for t in fit.law_types]}


def _impact_from_dict(d: Any, fld: str = "impact") -> ImpactFit:
    from .impact.base import ImpactLaw
    from .impact.laws import LinearImpact, SquareRootImpact
    from .impact.results import Estimate, ImpactFit

    d = _obj(d, fld)
    ests_raw = _get(d, "estimates", fld)
    if not isinstance(ests_raw, list) or not ests_raw:
        raise ModelFileError(f"{fld}.estimates", "must be a non-empty list")
    ests = []
    for i, e in enumerate(ests_raw):
        f = f"{fld}.estimates[{i}]"
        e = _obj(e, f)
        name = _str(_get(e, "name", f), f"{f}.name")
        f = f"{fld}.{name}"
        fixed = e.get("fixed", False)
        if not isinstance(fixed, bool):
            raise ModelFileError(f"{f}.fixed", f"{fixed!r} is not true or false")
        ests.append(Estimate(name, _num(_get(e, "estimate", f), f"{f}.estimate", null=True),
                             _num(e.get("std_error"), f"{f}.std_error", null=True),
                             _num(e.get("ci_low"), f"{f}.ci_low", null=True),
                             _num(e.get("ci_high"), f"{f}.ci_high", null=True),
                             _str(e.get("unit", ""), f"{f}.unit"), fixed))
    names = [e.name for e in ests]
    for need in ("eta", "gamma"):
        if need not in names:
            raise ModelFileError(f"{fld}.estimates", f"no estimate named {need!r}")
    good = _obj(d.get("goodness", {}), f"{fld}.goodness")
    goodness = tuple((str(k), _num(v, f"{fld}.goodness.{k}", null=True)) for k, v in good.items())
    info = tuple(_obj(d.get("info", {}), f"{fld}.info").items())
    kinds: dict[str, type[ImpactLaw]] = {LinearImpact.kind: LinearImpact,
                                         SquareRootImpact.kind: SquareRootImpact}
    laws_raw = d.get("laws", [])
    if not isinstance(laws_raw, list) or any(k not in kinds for k in laws_raw):
        raise ModelFileError(f"{fld}.laws", f"{laws_raw!r}: known laws are {sorted(kinds)}")
    return ImpactFit(_str(_get(d, "method", fld), f"{fld}.method"), tuple(ests), goodness,
                     _int(_get(d, "n_obs", fld), f"{fld}.n_obs"),
                     _str(d.get("interval", ""), f"{fld}.interval"), info,
                     tuple(kinds[k] for k in laws_raw))


# -- the model file -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelFile:
    """One fitted instrument: what :func:`load_models` returns and ``tradesim fit`` writes.

    Attributes
    ----------
    models : SimulatorModels
    instrument : dict
        ``venue``, ``symbol`` and the instrument's description (kind, base, quote, contract
        size...) as fitted.
    impact : ImpactFit or None
        The market-data impact fit (see the module docstring for its units).
    files : tuple of dict
        ``name``, ``size``, ``sha256``, ``format`` and ``segment`` of every file read.
    time_span : (int, int)
        First and last receive time of the data, ns since the epoch.
    holdout : dict
        The hold-out report (``slippage``, ``maker_taker``, ``impact``, ``n_decisions``...).
    config : dict
        The sampling and labelling settings (:class:`~tradesim_nb.training.DatasetConfig`
        fields, the split and the impact grid).
    created_ns : int
        When the file was written (not compared: two files of the same fit are equal).
    path : Path or None
        Where it was read from (not stored, not compared).
    """

    models: SimulatorModels
    instrument: dict[str, Any]
    impact: ImpactFit | None = None
    files: tuple[dict[str, Any], ...] = ()
    time_span: tuple[int, int] = (0, 0)
    holdout: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    created_ns: int = field(default=0, compare=False)
    path: Path | None = field(default=None, compare=False)

    @property
    def venue(self) -> str:
        return str(self.instrument.get("venue", ""))

    @property
    def symbol(self) -> str:
        return str(self.instrument.get("symbol", ""))

    @property
    def name(self) -> str:
        """The file name (``"(in memory)"`` for a model file not read from disk)."""
        return self.path.name if self.path is not None else "(in memory)"

    def fitted_on(self) -> str:
        """``"venue:symbol"`` of the data the models were fitted on."""
        return f"{self.venue}:{self.symbol}"

    def matches(self, instrument: Instrument) -> bool:
        """Whether ``instrument`` is the one the models were fitted on."""
        return instrument.venue == self.venue and instrument.symbol == self.symbol

    # -- impact -------------------------------------------------------------------------------
    def impact_problem(self) -> str | None:
        """Why the file's impact fit cannot price impact (None when it can)."""
        fit = self.impact
        if fit is None:
            return "the model file holds no impact fit"
        eta, gamma = fit.eta.estimate, fit.gamma.estimate
        if not (math.isfinite(eta) and eta > 0):
            return f"its fitted eta is {eta:.4g} (must be > 0)"
        if not (math.isfinite(gamma) and gamma >= 0):
            return f"its fitted gamma is {gamma:.4g} (must be >= 0)"
        if not self.impact_mid > 0:
            return "its fit gives no mean mid (goodness mean_mid)"
        return None

    @property
    def impact_mid(self) -> float:
        """The fit's mean mid :math:`\\bar S` (NaN without a fit)."""
        if self.impact is None:
            return math.nan
        v = dict(self.impact.goodness).get("mean_mid", math.nan)
        return float(v) if v is not None else math.nan

    def impact_law(self) -> LinearImpact:
        """The fitted Almgren-Chriss law at the estimates, without the fixed cost per unit
        (spread and fees are priced separately): ``LinearImpact(eta, gamma, 0, time_unit)``.

        Raises
        ------
        ValueError
            When the fit cannot price impact (:meth:`impact_problem` says why).
        """
        from .impact.laws import LinearImpact

        why = self.impact_problem()
        if why is not None:
            raise ValueError(f"model file {self.name}: {why}")
        assert self.impact is not None
        info = dict(self.impact.info)
        return LinearImpact(eta=self.impact.eta.estimate, gamma=self.impact.gamma.estimate,
                            epsilon=0.0, time_unit_s=float(info.get("time_unit_s", 1.0)))

    # -- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"kind": MODEL_FILE_KIND, "version": MODEL_FILE_VERSION,
                "created_ns": int(self.created_ns or time.time_ns()),
                "instrument": dict(self.instrument),
                "files": [dict(f) for f in self.files],
                "time_span": {"first_ns": int(self.time_span[0]),
                              "last_ns": int(self.time_span[1])},
                "config": dict(self.config), "holdout": dict(self.holdout),
                "models": self.models.to_dict(),
                "impact": None if self.impact is None else _impact_to_dict(self.impact)}

    @classmethod
    def from_dict(cls, d: Any, path: str | os.PathLike[str] | None = None) -> ModelFile:
        """Validated (:class:`ModelFileError` names the field, and ``path`` when given)."""
        try:
            return cls._from_dict(d, path)
        except ModelFileError as e:
            raise (e.at(path) if path is not None else e) from None

    @classmethod
    def _from_dict(cls, d: Any, path: str | os.PathLike[str] | None) -> ModelFile:
        d = _obj(d, "(top level)")
        _kind(d, MODEL_FILE_KIND, "")
        v = d.get("version")
        if v != MODEL_FILE_VERSION:
            raise ModelFileError("version", f"{v!r}: this version reads model files of "
                                 f"version {MODEL_FILE_VERSION}")
        inst = _obj(_get(d, "instrument", ""), "instrument")
        for k in ("venue", "symbol"):
            if not (isinstance(inst.get(k), str) and inst[k]):
                raise ModelFileError(f"instrument.{k}", f"{inst.get(k)!r} is not a name")
        files_raw = d.get("files", [])
        if not isinstance(files_raw, list):
            raise ModelFileError("files", "is not a list")
        files = []
        for i, f in enumerate(files_raw):
            f = _obj(f, f"files[{i}]")
            _str(_get(f, "name", f"files[{i}]"), f"files[{i}].name")
            _int(_get(f, "size", f"files[{i}]"), f"files[{i}].size")
            sha = _str(_get(f, "sha256", f"files[{i}]"), f"files[{i}].sha256")
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise ModelFileError(f"files[{i}].sha256", f"{sha!r} is not a SHA-256 digest")
            files.append(dict(f))
        span = _obj(d.get("time_span", {"first_ns": 0, "last_ns": 0}), "time_span")
        first = _int(_get(span, "first_ns", "time_span"), "time_span.first_ns")
        last = _int(_get(span, "last_ns", "time_span"), "time_span.last_ns")
        if last < first:
            raise ModelFileError("time_span", f"last_ns {last} < first_ns {first}")
        impact_raw = d.get("impact")
        return cls(
            models=SimulatorModels.from_dict(_get(d, "models", ""), "models"),
            instrument=dict(inst),
            impact=None if impact_raw is None else _impact_from_dict(impact_raw),
            files=tuple(files), time_span=(first, last),
            holdout=_obj(d.get("holdout", {}), "holdout"),
            config=_obj(d.get("config", {}), "config"),
            created_ns=_int(d.get("created_ns", 0), "created_ns"),
            path=None if path is None else Path(path))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the file (atomically: a temporary file renamed); returns the path."""
        return save_models(self, path)

    def normalized(self) -> ModelFile:
        """The model file as it reads back from disk (JSON types: lists, NaN as missing),
        validated."""
        return ModelFile.from_dict(json.loads(_dumps(self.to_dict())))

    # -- reporting ------------------------------------------------------------------------------
    def summary(self) -> str:
        """A few lines: instrument, data, hold-out figures, impact."""
        h = self.holdout
        s = h.get("slippage", {})
        mt = h.get("maker_taker", {})
        lines = [f"model file {self.name}: {self.fitted_on()}, "
                 f"{len(self.files)} file(s), {h.get('n_decisions', '?')} decisions over "
                 f"{(self.time_span[1] - self.time_span[0]) / 1e9:.0f} s"]
        if s:
            lines.append(f"  slippage hold-out R2 {_f(s.get('r2'))} (walk-only "
                         f"{_f(s.get('r2_walk_only'))})")
        if mt:
            lines.append(f"  maker/taker hold-out AUC {_f(mt.get('auc'))}, log-loss "
                         f"{_f(mt.get('log_loss'))} (base rate {_f(mt.get('log_loss_base'))})")
        if self.impact is not None:
            e, g = self.impact.eta, self.impact.gamma
            lines.append(f"  impact eta {e.estimate:.4g} [{e.ci_low:.4g}, {e.ci_high:.4g}] "
                         f"{e.unit}, gamma {g.estimate:.4g} [{g.ci_low:.4g}, {g.ci_high:.4g}] "
                         f"{g.unit} at mean mid {self.impact_mid:,.2f}")
            why = self.impact_problem()
            if why:
                lines.append(f"  impact not usable: {why}")
        else:
            lines.append("  no impact fit")
        return "\n".join(lines)


def _f(x: Any) -> str:
    return f"{x:.4f}" if _is_num(x) and math.isfinite(x) else "-"


# -- files ----------------------------------------------------------------------------------------
def json_ready(o: Any) -> Any:
    """``o`` ready for JSON: NaN/inf -> null, tuples -> lists, numpy arrays and scalars ->
    Python lists and numbers, mapping keys -> strings (the model file and ``--json``)."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {str(k): json_ready(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [json_ready(v) for v in o]
    if hasattr(o, "tolist"):  # numpy arrays and scalars
        return json_ready(o.tolist())
    return o


def _dumps(d: dict[str, Any]) -> bytes:
    return orjson.dumps(json_ready(d), option=orjson.OPT_INDENT_2)


def _read_json(path: str | os.PathLike[str]) -> Any:
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_MODEL_FILE_BYTES:
        raise ModelFileError("(file)", f"{size} bytes is more than the {MAX_MODEL_FILE_BYTES} "
                             "a model file may have", p)
    try:
        # the json module reads NaN and Infinity (which an old cache may hold), so that the
        # validation can name the field that holds one
        return json.loads(p.read_bytes())
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelFileError("(file)", f"not valid JSON ({e})", p) from None


def save_models(model: ModelFile, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` as JSON to ``path`` (a temporary file renamed into place)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_bytes(_dumps(model.to_dict()))
    tmp.replace(p)
    return p


def load_models(path: str | os.PathLike[str]) -> ModelFile:
    """Read and validate a model file.

    Parameters
    ----------
    path : path
        A file written by ``tradesim fit`` (or :func:`save_models`).

    Returns
    -------
    ModelFile
        Give it to ``TradeSimulator(models=...)``, ``tradesim cost --models`` or the
        dashboard.

    Raises
    ------
    ModelFileError
        A file that is too large, not JSON, or whose field is missing, of the wrong type or
        shape, not finite, or implausible; the message names the file and the field.
    FileNotFoundError
        No such file.
    """
    return ModelFile.from_dict(_read_json(path), path)


def load_cache(path: str | os.PathLike[str]) -> ModelFile | None:
    """The model file cached at ``path``, or None when there is none or it is bad.

    A bad cache (unreadable, wrong types, non-finite or implausible numbers) is named in a
    :class:`ModelFileWarning`, moved aside to ``<name>.bad`` and None is returned, so the
    caller retrains and writes a fresh one.
    """
    p = Path(path)
    if not p.exists():
        return None
    try:
        return load_models(p)
    except (ModelFileError, OSError) as e:
        bad = p.with_name(p.name + ".bad")
        try:
            p.replace(bad)
            moved = f"moved to {bad.name}"
        except OSError as e2:
            moved = f"could not be moved aside ({e2})"
        warnings.warn(f"ignoring the bad model cache {p} ({e}); it was {moved} and the "
                      "models are trained again", ModelFileWarning, stacklevel=3)
        return None


def list_model_files(folder: str | os.PathLike[str]) -> list[ModelFile]:
    """The valid model files in ``folder`` (``*.json``), newest first; bad ones are skipped
    with a log line naming them."""
    out = []
    d = Path(folder)
    if not d.is_dir():
        return []
    for p in sorted(d.glob("*.json")):
        try:
            out.append(load_models(p))
        except (ModelFileError, OSError) as e:
            log.info("skipping %s: %s", p, e)
    out.sort(key=lambda m: (-m.created_ns, m.name))
    return out


def file_info(path: str | os.PathLike[str], chunk: int = 1 << 20) -> dict[str, Any]:
    """``{"name", "size", "sha256"}`` of a file (streamed: memory stays flat)."""
    p = Path(path)
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        while True:
            b = fh.read(chunk)
            if not b:
                break
            h.update(b)
    return {"name": p.name, "size": p.stat().st_size, "sha256": h.hexdigest()}


def holdout_report(models: SimulatorModels, n_decisions: int,
                   impact: ImpactFit | None = None) -> dict[str, Any]:
    """The hold-out figures of fitted models, as ``tradesim fit --json`` prints them.

    ``slippage``: ``r2``, ``r2_walk_only``, ``r2_drift``, ``mae_bps``, ``n_train``, ``n_test``
    and ``coverage`` (per quantile, ``[P(y < q), P(y <= q)]``); ``maker_taker``: ``auc``,
    ``log_loss``, ``log_loss_base``, ``brier``, ``n_train``, ``n_test``; ``impact``:
    ``eta``, ``gamma`` (estimate, std_error, ci_low, ci_high, unit), ``mean_mid``,
    ``n_obs`` (null without a fit).
    """
    sm = models.slippage.metrics
    mm = models.maker.metrics
    out: dict[str, Any] = {
        "n_decisions": int(n_decisions),
        "slippage": {k: sm.get(k) for k in ("r2", "r2_walk_only", "r2_drift", "mae_bps",
                                             "n_train", "n_test")},
        "maker_taker": {k: mm.get(k) for k in ("auc", "log_loss", "log_loss_base", "brier",
                                                "n_train", "n_test")},
        "impact": None,
    }
    out["slippage"]["coverage"] = {
        f"q{round(q * 100)}": sm.get(f"q{round(q * 100)}", {}).get("coverage")
        for q in models.slippage.quantiles}
    if impact is not None:
        out["impact"] = {"eta": impact.eta.to_dict(), "gamma": impact.gamma.to_dict(),
                         "mean_mid": dict(impact.goodness).get("mean_mid"),
                         "n_obs": impact.n_obs, "interval": impact.interval}
    return out


def instrument_dict(instrument: Instrument) -> dict[str, Any]:
    """What a model file records of an instrument (its dataclass fields)."""
    return dataclasses.asdict(instrument)
