"""The per-tick cost estimate of one order: slippage, fees, impact and maker/taker share.

On every book update :class:`TradeSimulator` turns the book and the recent trades into
features (:class:`tradesim_nb.features.FeatureState`), evaluates the fitted linear models with
plain Python dot products (no scikit-learn call on the hot path) and returns an immutable
:class:`CostEstimate` (a named tuple):

.. math::

    C_{net} = C_{slip} + C_{fee} + C_{impact}\\quad\\text{(USD)},\\qquad
    C^{bps} = 10^4\\,C/N

with :math:`N` the order's notional at the current mid.

* **Slippage** — ``order_type="market"``: the realised-slippage model of
  :mod:`tradesim_nb.costs.slippage` (mean and p50/p90/p95, bps) for an order that reaches the
  venue after the model's latency. ``"passive_then_aggressive"``: the order rests at the touch
  for the maker model's horizon, a share :math:`m` fills passively at the touch (cost
  :math:`-\\tfrac12` spread against the mid), the rest crosses:
  :math:`\\text{slip} = m(-\\tfrac12 s_{bps}) + (1-m)\\,\\text{slip}_{taker}`. The remainder's
  slippage is taken at the full order's size (an upper bound: bps slippage grows with size)
  and the quantile band is mixed the same way (an approximation: a mixture's quantiles are
  not the mixture of quantiles). Adverse selection of the passive fills is not modelled.
* **Fees** — the venue's schedule (:mod:`tradesim_nb.costs.fees`) at the order's tier with
  the maker share applied: :math:`N\\,(m f_{maker} + (1-m) f_{taker})`.
* **Impact** — the expected cost of executing the order's base quantity over
  ``impact_settings.horizon_s`` in ``impact_settings.periods`` slices under an impact law
  (:mod:`tradesim_nb.impact`), taken without its fixed cost per unit
  (:meth:`~tradesim_nb.impact.base.ImpactLaw.impact_only`: spread and fees are counted
  above). Where the law comes from is in :attr:`CostEstimate.impact_source`:

  - ``"model_file"`` — the fitted :math:`\\eta, \\gamma` of a model file (``models=`` a
    :class:`~tradesim_nb.models.ModelFile` from ``tradesim fit``), priced for the order's
    notional on the fitted market (:mod:`tradesim_nb.models`, "Impact units");
  - ``"given"`` — a law, a fit or typed parameters passed as ``impact=`` (or a daily volume
    in ``impact_settings``);
  - ``"ticker_24h"`` / ``"trades"`` — the Almgren-Chriss rule of thumb [AC2000]_
    (:class:`~tradesim_nb.impact.laws.RuleOfThumbImpact`) on the live spread :math:`s` and a
    daily volume :math:`V` from the venue's 24-hour ticker, else extrapolated from the trade
    stream once it spans 60 s: trading 1 % of daily volume per day costs one spread,
    :math:`\\eta = s / (0.01 V)` per (unit/day), and 10 % of daily volume moves the price
    permanently by one spread, :math:`\\gamma = s / (0.1 V)`;
  - ``"none"`` — not estimated: ``impact_usd`` and ``impact_bps`` are NaN (never a 0 that
    means "unknown"), :attr:`CostEstimate.impact_model` says why (e.g. a feed with neither a
    24-hour ticker nor trades, such as the GoQuant relay), and the net cost excludes impact.

  On a one-tick market such as Binance BTCUSDT the rule of thumb gives a very small impact; a
  model file or a calibrated law (``tradesim calibrate``) is the real estimate. For a single
  market order the temporary part overlaps with the walk-the-book slippage; the three terms
  are added as specified, so choose the impact horizon accordingly.

References
----------
.. [AC2000] Almgren, R. and Chriss, N. (2000), "Optimal execution of portfolio
   transactions", J. Risk 3(2), 5-39.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from .costs.slippage import SlippageModel
from .features import SPREAD_BPS, VOL_BPS, FeatureState, make_scorer, order_rows
from .impact.base import SECONDS_PER_DAY, ImpactLaw
from .impact.laws import LinearImpact, RuleOfThumbImpact
from .impact.results import ImpactFit
from .instruments import Instrument, SizeUnit
from .models import MODELS_VERSION, ModelFile, ModelFileWarning, SimulatorModels

if TYPE_CHECKING:
    from .book import OrderBook

__all__ = ["IMPACT_SOURCES", "MODELS_VERSION", "CostEstimate", "ImpactParams",
           "ImpactSettings", "SimulatorModels", "TradeSimulator", "model_cache_dir"]

log = logging.getLogger(__name__)

OrderType = Literal["market", "passive_then_aggressive"]
#: where an estimate's impact came from (:attr:`CostEstimate.impact_source`)
IMPACT_SOURCES = ("model_file", "given", "ticker_24h", "trades", "none")
#: daily volatility (fraction per sqrt(day)) per bps per sqrt(second) of the feature row
_SIGMA_DAILY_PER_BPS = 1e-4 * math.sqrt(SECONDS_PER_DAY)
#: why a rule-of-thumb impact is not estimated yet (the venue sends a 24-hour ticker)
_NO_VOLUME_YET = ("none: no daily volume yet (waiting for the venue's 24-hour ticker, or 60 s "
                  "of trades); load a model file or give a daily volume")
_NO_COST = "none: the impact law gave no finite cost for this order"

_new_tuple = tuple.__new__


@dataclass(frozen=True, slots=True)
class ImpactSettings:
    """How a :class:`TradeSimulator` executes its order for the impact estimate.

    Parameters
    ----------
    horizon_s : float
        Execution horizon :math:`T`, seconds (> 0); converted to the law's time unit.
    periods : int
        Number of slices :math:`N` (>= 1).
    risk_aversion : float
        :math:`\\lambda` per USD (>= 0; only the linear laws use it).
    daily_volume_base : float or None
        Daily volume for the laws that need one (> 0); None = the venue's 24-hour ticker,
        else extrapolated from the trade stream once it spans 60 s (impact not estimated,
        NaN with ``impact_model="none: ..."``, before that).
    """

    horizon_s: float = 60.0
    periods: int = 1
    risk_aversion: float = 0.0
    daily_volume_base: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.horizon_s) and self.horizon_s > 0):
            raise ValueError(f"horizon_s={self.horizon_s!r} must be a finite number > 0")
        if isinstance(self.periods, bool) or not isinstance(self.periods, int) or self.periods < 1:
            raise ValueError(f"periods={self.periods!r} must be an integer >= 1")
        if not (math.isfinite(self.risk_aversion) and self.risk_aversion >= 0):
            raise ValueError(f"risk_aversion={self.risk_aversion!r} must be a finite number >= 0")
        if self.daily_volume_base is not None and not (
                math.isfinite(self.daily_volume_base) and self.daily_volume_base > 0):
            raise ValueError(f"daily_volume_base={self.daily_volume_base!r} must be a finite "
                             "number > 0 (or None)")


@dataclass(frozen=True, slots=True)
class ImpactParams:
    """Typed-in Almgren-Chriss impact of a :class:`TradeSimulator` (the old interface).

    .. deprecated:: 0.1
        Pass ``impact=LinearImpact(eta, gamma)`` (or any law, or a fit) and
        ``impact_settings=ImpactSettings(horizon_s, periods, risk_aversion,
        daily_volume_base)`` instead. ``ImpactParams`` is still accepted: it stands for
        :meth:`law` with :meth:`settings`.

    Parameters
    ----------
    eta : float or None
        Temporary impact, USD per (base unit / second) (> 0); None = rule of thumb.
    gamma : float or None
        Permanent impact, USD per base unit (>= 0); None = rule of thumb.
    horizon_s : float
        Execution horizon :math:`T`, seconds (> 0).
    periods : int
        Number of slices :math:`N` (>= 1).
    risk_aversion : float
        :math:`\\lambda` per USD (>= 0 here).
    daily_volume_base : float or None
        Daily volume for the rule of thumb (> 0); None = the venue's 24-hour ticker, else
        extrapolated from the trade stream once it spans 60 s (impact not estimated before
        that).
    """

    eta: float | None = None
    gamma: float | None = None
    horizon_s: float = 60.0
    periods: int = 1
    risk_aversion: float = 0.0
    daily_volume_base: float | None = None

    def __post_init__(self) -> None:
        if self.eta is not None and not (math.isfinite(self.eta) and self.eta > 0):
            raise ValueError(f"eta={self.eta!r} must be a finite number > 0 (or None)")
        if self.gamma is not None and not (math.isfinite(self.gamma) and self.gamma >= 0):
            raise ValueError(f"gamma={self.gamma!r} must be a finite number >= 0 (or None)")
        if not (math.isfinite(self.horizon_s) and self.horizon_s > 0):
            raise ValueError(f"horizon_s={self.horizon_s!r} must be a finite number > 0")
        if isinstance(self.periods, bool) or not isinstance(self.periods, int) or self.periods < 1:
            raise ValueError(f"periods={self.periods!r} must be an integer >= 1")
        if not (math.isfinite(self.risk_aversion) and self.risk_aversion >= 0):
            raise ValueError(f"risk_aversion={self.risk_aversion!r} must be a finite number >= 0")
        if self.daily_volume_base is not None and not (
                math.isfinite(self.daily_volume_base) and self.daily_volume_base > 0):
            raise ValueError(f"daily_volume_base={self.daily_volume_base!r} must be a finite "
                             "number > 0 (or None)")

    def law(self) -> LinearImpact | RuleOfThumbImpact:
        """:class:`~tradesim_nb.impact.laws.LinearImpact` when both coefficients are given,
        else :class:`~tradesim_nb.impact.laws.RuleOfThumbImpact` for the missing ones."""
        if self.eta is not None and self.gamma is not None:
            return LinearImpact(eta=self.eta, gamma=self.gamma)
        return RuleOfThumbImpact(eta=self.eta, gamma=self.gamma)

    def settings(self) -> ImpactSettings:
        """The :class:`ImpactSettings` part."""
        return ImpactSettings(self.horizon_s, self.periods, self.risk_aversion,
                              self.daily_volume_base)


ImpactSpec = ImpactLaw | ImpactFit | ImpactParams | None


class CostEstimate(NamedTuple):
    """One tick's cost estimate of an order (USD and bps of the notional at the mid).

    An immutable named tuple (one is built on every tick: a frozen dataclass of this size
    costs about 1.6 µs to construct, this about 0.2 µs); :attr:`_fields` lists the fields.

    ``net_usd == slippage_usd + fee_usd + impact_usd`` exactly when the impact was
    estimated. ``valid`` is False (and the figures NaN) when the book was not valid.
    ``complete`` is False when the visible book could not fill the whole order (the slippage
    then covers the filled part only).

    ``impact_source`` says where the impact came from (one of :data:`IMPACT_SOURCES`):
    ``"model_file"``, ``"given"`` (a law, fit or typed parameters or daily volume),
    ``"ticker_24h"`` (rule of thumb on the venue's 24-hour volume), ``"trades"`` (rule of
    thumb on the volume extrapolated from the trade stream) or ``"none"``: not estimated,
    with ``impact_usd`` and ``impact_bps`` NaN and ``net_usd``/``net_bps`` *excluding*
    impact. ``impact_model`` names the law (its
    :attr:`~tradesim_nb.impact.base.ImpactLaw.label`, ``", fitted (<method>)"`` added for a
    fit, the model file's name for a model file) or, when not estimated, ``"none: <why>"``.
    ``extrapolated`` is True when the order's slippage features lie outside the range the
    slippage models were trained on (another instrument, a synthetic book, an order larger
    than any trained on), or when the models come from a model file fitted on another
    instrument: the mean and the band are then extrapolations of linear fits and can
    disagree (e.g. a band below the mean).
    """

    recv_ts_ns: int
    side: str
    order_type: str
    mid: float
    notional_usd: float
    qty_base: float
    walk_bps: float
    slippage_bps: float
    slippage_usd: float
    slippage_p50_bps: float
    slippage_p90_bps: float
    slippage_p95_bps: float
    fee_usd: float
    fee_bps: float
    impact_usd: float
    impact_bps: float
    net_usd: float
    net_bps: float
    maker_share: float
    taker_share: float
    volatility_bps: float
    latency_ns: int
    valid: bool = True
    complete: bool = True
    impact_model: str = ""
    extrapolated: bool = False
    impact_source: str = ""

    @property
    def impact_estimated(self) -> bool:
        """Whether the impact was estimated (False: ``impact_source == "none"``)."""
        return self.impact_source != "none"

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


def model_cache_dir() -> Path:
    """``$TRADESIM_CACHE``, else ``$XDG_CACHE_HOME/tradesim_nb``, else ``~/.cache/tradesim_nb``."""
    env = os.environ.get("TRADESIM_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "tradesim_nb"


def _recording_key() -> str:
    from .datasets import binance_spot_files

    return "-".join(str(p.stat().st_size) for p in binance_spot_files())


def default_model_path() -> Path:
    """Where the default models' model file is cached (:func:`model_cache_dir`)."""
    return model_cache_dir() / f"models-v{MODELS_VERSION}-{_recording_key()}.json"


def default_model_file(*, retrain: bool = False) -> ModelFile:
    """The default models (:meth:`SimulatorModels.train` on the packaged Binance BTCUSDT
    recording) as a model file without an impact fit, read from the cache or trained and
    cached (see :meth:`TradeSimulator.default_models`)."""
    import dataclasses as dc

    from .datasets import binance_spot_files
    from .instruments import get_instrument
    from .models import (
        file_info,
        holdout_report,
        instrument_dict,
        load_cache,
        load_models,
        save_models,
    )
    from .training import DatasetConfig, load_binance_dataset

    path = default_model_path()
    if not retrain:
        cached = load_cache(path)
        if cached is not None:
            return cached
    t0 = time.perf_counter()
    models = SimulatorModels.train()
    log.info("default models trained from the Binance recording in %.1f s",
             time.perf_counter() - t0)
    ds = load_binance_dataset()
    mf = ModelFile(
        models=models, instrument=instrument_dict(get_instrument("binance", "BTCUSDT")),
        impact=None,
        files=tuple({**file_info(p), "format": "lines", "segment": 0}
                    for p in binance_spot_files()),
        time_span=(int(ds.meta.get("first_ns", ds.t_ns[0])),
                   int(ds.meta.get("last_ns", ds.t_ns[-1]))),
        holdout=holdout_report(models, ds.n),
        config={**dc.asdict(DatasetConfig()), "train_frac": 0.7, "default": True},
        created_ns=time.time_ns())
    try:
        save_models(mf, path)
    except OSError as e:
        log.warning("could not cache models at %s (%s)", path, e)
        return mf.normalized()
    return load_models(path)  # what later calls read back, validated


class TradeSimulator:
    """Per-tick cost estimate of one order against a live or replayed book.

    Parameters
    ----------
    instrument : Instrument
        What is traded (size conversions; fee schedule by ``instrument.venue`` and ``kind``).
    side : {"buy", "sell"}
    quantity : float
        Order size in ``unit`` (> 0).
    unit : {"usd", "base", "contracts"}
    order_type : {"market", "passive_then_aggressive"}
    fee_tier : str
        Tier name in the venue's fee schedule.
    volatility_bps : float or None
        Volatility of the mid, bps per sqrt(second) (>= 0); None = estimated live from the
        mid stream (EWMA, see :class:`~tradesim_nb.features.FeatureState`).
    impact : ImpactLaw, ImpactFit or ImpactParams, optional
        The impact law (:mod:`tradesim_nb.impact`), or a fit whose
        :attr:`~tradesim_nb.impact.results.ImpactFit.law` prices it, or the old typed-in
        :class:`ImpactParams`; default: the model file's fitted law when ``models`` is a
        model file with a usable impact fit, else the rule of thumb
        (:class:`~tradesim_nb.impact.laws.RuleOfThumbImpact`) on the venue's 24-hour volume.
    impact_settings : ImpactSettings, optional
        Horizon, slices, risk aversion and daily volume of the impact estimate (default
        ``ImpactSettings()``: 60 s, one slice); not with ``ImpactParams``, which carries its
        own.
    models : SimulatorModels, ModelFile or path, optional
        The slippage and maker/taker models: a :class:`~tradesim_nb.models.ModelFile`
        (:func:`tradesim_nb.load_models`, or the path of one) brings its impact fit too; a
        model file fitted on another instrument is used with every estimate flagged
        ``extrapolated`` and a :class:`~tradesim_nb.models.ModelFileWarning` naming the
        instrument it came from. Default :meth:`default_models` (trained from the real
        recording on first use and cached as JSON).
    history : int
        Length of the bounded estimate history (>= 1).
    fee_schedule : optional
        Passed to ``fee_usd(..., schedule=...)``; default ``get_fee_schedule(venue, kind)``.
    fee_rates : (float, float), optional
        ``(maker, taker)`` fee per USD of notional (e.g. ``(0.0008, 0.001)``), instead of a
        schedule; ``fee_tier`` is then only a label.

    Notes
    -----
    Use :meth:`on_update` as a live-client consumer ``fn(book, events, recv_ns)``; it updates
    the features with every frame and computes a new estimate when the book is valid.
    """

    def __init__(self, instrument: Instrument, side: str, quantity: float, *,
                 unit: SizeUnit = "usd", order_type: OrderType = "market",
                 fee_tier: str | None = None, volatility_bps: float | None = None,
                 impact: ImpactSpec = None, impact_settings: ImpactSettings | None = None,
                 models: SimulatorModels | ModelFile | str | os.PathLike[str] | None = None,
                 history: int = 10_000, fee_schedule: Any = None,
                 fee_rates: tuple[float, float] | None = None) -> None:
        if side not in ("buy", "sell"):
            raise ValueError(f"side={side!r} is not one of 'buy', 'sell'")
        if unit not in ("usd", "base", "contracts"):
            raise ValueError(f"unit={unit!r} is not one of 'usd', 'base', 'contracts'")
        if order_type not in ("market", "passive_then_aggressive"):
            raise ValueError(f"order_type={order_type!r} is not one of 'market', "
                             "'passive_then_aggressive'")
        if not (isinstance(quantity, int | float) and math.isfinite(quantity) and quantity > 0):
            raise ValueError(f"quantity={quantity!r} must be a finite number > 0")
        if volatility_bps is not None and not (math.isfinite(volatility_bps)
                                               and volatility_bps >= 0):
            raise ValueError(f"volatility_bps={volatility_bps!r} must be a finite number >= 0 "
                             "(or None)")
        if history < 1:
            raise ValueError(f"history={history!r} must be >= 1")
        self.instrument = instrument
        self.side = side
        self.quantity = float(quantity)
        self.unit: SizeUnit = unit
        self.order_type = order_type
        self.volatility_bps = volatility_bps
        self._set_models(models)
        self._set_impact(impact, impact_settings)
        self._qidx = self._quantile_index(self.models.slippage)
        self.features = FeatureState()
        self.history: deque[CostEstimate] = deque(maxlen=history)
        self.latest: CostEstimate | None = None
        self.ticks = 0
        self.skipped = 0
        self._ln_for = math.nan  # the notional whose log is cached in _ln
        self._ln = math.nan
        #: (slippage model, maker model, compiled scorer or None) of the models in use
        self._scorer: tuple[Any, Any, Any] = (None, None, None)
        self._walk_book: OrderBook | None = None
        self._walk_updates = (-1, -1)
        self._walk_fill: Any = None
        if fee_rates is not None:
            mk, tk = (float(fee_rates[0]), float(fee_rates[1]))
            for name, v in (("fee_rates[0]", mk), ("fee_rates[1]", tk)):
                if not (math.isfinite(v) and -0.01 <= v <= 0.01):
                    raise ValueError(f"{name}={v!r} must be a fee per USD in [-0.01, 0.01]")
            self.fee_tier, self._maker_rate, self._taker_rate = (fee_tier or "custom", mk, tk)
        else:
            self.fee_tier, self._maker_rate, self._taker_rate = self._fee_rates(fee_tier,
                                                                                 fee_schedule)

    # -- set-up -------------------------------------------------------------------------
    def _fee_rates(self, tier: str | None, schedule: Any) -> tuple[str, float, float]:
        """Maker and taker fee per USD of notional (fees are linear in the maker share)."""
        from .costs import fees

        inst = self.instrument
        if schedule is None:
            # the venue's package says which table (the GoQuant relay reads OKX's)
            schedule = fees.schedule_for(inst)
        if tier is None:
            tier = schedule.tiers[0].name
        taker = fees.fee_usd(1e6, tier, maker_share=0.0, schedule=schedule) / 1e6
        maker = fees.fee_usd(1e6, tier, maker_share=1.0, schedule=schedule) / 1e6
        return str(tier), float(maker), float(taker)

    @staticmethod
    def default_models(*, retrain: bool = False) -> SimulatorModels:
        """Models trained on the real Binance BTCUSDT recording, cached as a model file.

        The first call replays the recording and fits both models (a few seconds on one
        core; no network, no pickle) and writes ``models-v<N>-<recording sizes>.json`` to
        :func:`model_cache_dir`; later calls read that file (milliseconds), validated
        (:func:`tradesim_nb.models.load_cache`): a bad cache is named in a warning, moved
        aside and retrained. If the cache folder is not writable the models are kept in
        memory only.
        """
        return default_model_file(retrain=retrain).models

    # -- models -------------------------------------------------------------------------
    def _set_models(self, models: Any) -> None:
        """Resolve ``models`` (a path is loaded) and check it was fitted on this instrument."""
        from .models import load_models

        if isinstance(models, str | os.PathLike):
            models = load_models(models)
        #: the model file the models came from (None: plain SimulatorModels)
        self.model_file: ModelFile | None = None
        self.foreign_models = False
        if isinstance(models, ModelFile):
            self.model_file = models
            if not models.matches(self.instrument):
                self.foreign_models = True
                warnings.warn(
                    f"model file {models.name} was fitted on {models.fitted_on()}, not on "
                    f"{self.instrument.venue}:{self.instrument.symbol}: its estimates are "
                    "flagged extrapolated", ModelFileWarning, stacklevel=3)
            models = models.models
        elif models is None:
            models = self.default_models()
        elif not isinstance(models, SimulatorModels):
            raise ValueError(f"models={models!r} must be SimulatorModels, a ModelFile, the "
                             "path of a model file or None")
        self.models: SimulatorModels = models

    # -- impact -------------------------------------------------------------------------
    def _set_impact(self, impact: ImpactSpec, settings: ImpactSettings | None) -> None:
        """Resolve ``impact`` to a law and compile its per-tick pricer (validated here)."""
        fit: ImpactFit | None = None
        mf = self.model_file
        #: the order is priced as its notional at this mid (a model file's fit), else NaN
        self._impact_ref_mid = math.nan
        #: why a model file's impact fit is not used (None: used, or no model file)
        self.impact_note: str | None = None
        source: str | None = "given"  # None: decided per tick by where the daily volume is from
        if isinstance(impact, ImpactParams):
            if settings is not None:
                raise ValueError("impact=ImpactParams(...) carries its own horizon and slices; "
                                 "give impact_settings with a law (e.g. LinearImpact) instead")
            law: ImpactLaw = impact.law()
            settings = impact.settings()
        elif isinstance(impact, ImpactFit):
            fit = impact
            law = impact.law
        elif isinstance(impact, ImpactLaw):
            law = impact
        elif impact is None:
            law = RuleOfThumbImpact()
            if mf is not None:
                self.impact_note = mf.impact_problem()
                if self.impact_note is None:
                    law = mf.impact_law()
                    fit = mf.impact
                    self._impact_ref_mid = mf.impact_mid
                    source = "model_file"
                else:
                    log.info("model file %s: %s; impact from the 24-hour volume instead",
                             mf.name, self.impact_note)
        else:
            raise ValueError(f"impact={impact!r} must be an ImpactLaw, an ImpactFit, "
                             "ImpactParams or None")
        st = settings if settings is not None else ImpactSettings()
        if not isinstance(st, ImpactSettings):
            raise ValueError(f"impact_settings={settings!r} must be an ImpactSettings or None")
        used = law.impact_only()
        #: the impact law as given (a fit's law), its settings and the fit (None if none)
        self.impact: ImpactLaw = law
        self.impact_settings = st
        self.impact_fit = fit
        self._impact_law = used
        horizon = st.horizon_s / used.time_unit_s
        if source == "model_file" and st.risk_aversion == 0.0:
            # a fitted law prices the equal-slice schedule (its own schedule_cost): defined
            # for any fitted eta, gamma >= 0, where the optimum's eta_tilde > 0 (which a typed
            # law must meet) is not needed
            self._impact_price = _equal_slices(used, horizon, st.periods)
        else:
            self._impact_price = used.pricer(horizon, st.periods, st.risk_aversion)
        if source == "model_file":
            assert mf is not None and fit is not None
            self._impact_label = f"{law.label}, fitted ({fit.method}), model file {mf.name}"
        else:
            self._impact_label = law.label if fit is None else f"{law.label}, fitted ({fit.method})"
        req = used.requires
        self._impact_adv = st.daily_volume_base
        self._impact_needs_adv = "daily_volume" in req
        self._impact_needs_spread = "spread" in req
        self._impact_needs_sigma = "sigma_daily" in req
        if self._impact_needs_adv and self._impact_adv is None:
            source = None
        self._impact_source = source
        self._no_volume = _NO_VOLUME_YET
        self._no_volume_trades = _NO_VOLUME_YET
        venue = _venue_of(self.instrument.venue)
        if venue is not None and not venue.protocol.ticker_24h:
            # a venue without a 24-hour ticker (the GoQuant relay): only trades or a
            # calibration can give impact, and the dashboard says so
            self._no_volume = (f"none: no daily volume ({venue.name} sends no 24-hour ticker "
                               "and no trades have been seen); impact needs a calibration (a "
                               "model file from tradesim fit) or a daily volume")
            self._no_volume_trades = (f"none: no daily volume yet ({venue.name} sends no "
                                      "24-hour ticker; 60 s of trades are needed)")

    def impact_usd(self, qty_base: float, mid: float, spread: float, vol_bps: float,
                   now_ns: int) -> tuple[float, str, str]:
        """The impact of ``qty_base`` on a market with ``mid``, ``spread`` and a volatility
        of ``vol_bps`` per sqrt(second), as :meth:`estimate` prices it:
        ``(USD, impact_model, impact_source)``; ``(NaN, "none: <why>", "none")`` when an
        input the law needs is missing (see :class:`CostEstimate`)."""
        adv = math.nan
        source = self._impact_source
        if self._impact_needs_adv:
            adv = self._impact_adv  # type: ignore[assignment]
            if adv is None:
                feats = self.features
                adv = feats.volume_24h_base
                if adv > 0.0:
                    source = "ticker_24h"
                else:
                    adv = feats.daily_volume_base(now_ns)
                    source = "trades"
                    if not (adv > 0.0 and adv < math.inf):
                        return (math.nan, self._no_volume_trades if feats.n_trades
                                else self._no_volume, "none")
        if self._impact_needs_spread and not spread > 0.0:
            return math.nan, "none: no spread", "none"
        if self._impact_needs_sigma and not vol_bps > 0.0:
            return math.nan, "none: no volatility estimate yet", "none"
        ref = self._impact_ref_mid
        if ref > 0.0:  # a model file's fit: the same notional on the fitted market
            usd = self._impact_price(qty_base * mid / ref, ref, vol_bps * _SIGMA_DAILY_PER_BPS,
                                     adv, spread)
        else:
            usd = self._impact_price(qty_base, mid, vol_bps * _SIGMA_DAILY_PER_BPS, adv, spread)
        if usd != usd:
            return math.nan, _NO_COST, "none"
        return usd, self._impact_label, source  # type: ignore[return-value]

    # -- the tick -----------------------------------------------------------------------
    def _invalid(self, now_ns: int, mid: float, t0: int) -> CostEstimate:
        nan = math.nan
        return CostEstimate(
            recv_ts_ns=now_ns, side=self.side, order_type=self.order_type, mid=mid,
            notional_usd=nan, qty_base=nan, walk_bps=nan, slippage_bps=nan, slippage_usd=nan,
            slippage_p50_bps=nan, slippage_p90_bps=nan, slippage_p95_bps=nan, fee_usd=nan,
            fee_bps=nan, impact_usd=nan, impact_bps=nan, net_usd=nan, net_bps=nan,
            maker_share=nan, taker_share=nan, volatility_bps=nan,
            latency_ns=time.perf_counter_ns() - t0, valid=False, complete=False,
            impact_model="none: book not valid", extrapolated=False, impact_source="none")

    def estimate(self, book: OrderBook, now_ns: int | None = None, *,
                 row: Sequence[float] | None = None, _t0: int | None = None) -> CostEstimate:
        """The cost estimate on ``book`` now (features as of the last :meth:`on_update`).

        ``row`` is an already computed :meth:`FeatureState.market_row` of this book (the
        pipeline benchmark times the feature stage separately); by default it is computed.
        """
        t0 = time.perf_counter_ns() if _t0 is None else _t0
        if now_ns is None:
            now_ns = book.last_recv_ts_ns or self.features.last_ns
        mid = book.mid
        if not book.valid:
            return self._invalid(now_ns, mid, t0)
        inst = self.instrument
        wkey = (book.updates, len(book))
        if book is self._walk_book and wkey == self._walk_updates:
            fill = self._walk_fill  # the book has not changed since the last walk
        else:
            fill = book.walk(self.side, self.quantity, self.unit)  # type: ignore[arg-type]
            self._walk_book, self._walk_updates, self._walk_fill = book, wkey, fill
        if self.unit == "usd":
            notional_usd = self.quantity
        else:
            size_v = inst.size_from(self.quantity, self.unit, mid)
            notional_usd = inst.to_base(size_v, mid) * mid
        qty_base = notional_usd / mid
        if row is None:
            row = self.features.market_row(book, now_ns)
        if self.volatility_bps is None:
            volatility_bps = row[VOL_BPS]
        else:
            volatility_bps = self.volatility_bps
            row = list(row)
            row[VOL_BPS] = volatility_bps
        walk_bps = fill.slippage_bps
        sm = self.models.slippage
        if notional_usd != self._ln_for:
            self._ln_for = notional_usd
            self._ln = math.log(max(notional_usd, 1.0))
        mm = self.models.maker
        sc = self._scorer
        if sc[0] is not sm or sc[1] is not mm:
            sc = self._scorer = (sm, mm, make_scorer(sm, mm))
        s = 1.0 if self.side == "buy" else -1.0
        got = None if sc[2] is None else sc[2].score(row, s, notional_usd, self._ln, walk_bps,
                                                       self.order_type == "market")
        if got is not None:  # compiled: the same numbers as the plain-Python steps below
            slippage_bps, qs, extrapolated, maker_share = got
        else:
            xs, xm = order_rows(row, s, notional_usd, self._ln, walk_bps)
            slippage_bps, qs = sm.predict_row(xs)
            extrapolated = sm.outside_range(xs)
            if self.order_type == "market":
                maker_share = 0.0
            else:
                maker_share = mm.predict_row(xm)
                passive = -0.5 * row[SPREAD_BPS]
                slippage_bps = maker_share * passive + (1.0 - maker_share) * slippage_bps
                qs = [maker_share * passive + (1.0 - maker_share) * q for q in qs]  # type: ignore[assignment]
        taker_share = 1.0 - maker_share
        i50, i90, i95, _ = self._qidx if self._qidx[3] is sm else self._quantile_index(sm)
        slippage_p50_bps = qs[i50] if i50 >= 0 else math.nan
        slippage_p90_bps = qs[i90] if i90 >= 0 else math.nan
        slippage_p95_bps = qs[i95] if i95 >= 0 else math.nan
        slippage_usd = notional_usd * slippage_bps / 1e4
        fee_usd = notional_usd * (maker_share * self._maker_rate + taker_share * self._taker_rate)
        impact_usd, impact_model, impact_source = self.impact_usd(
            qty_base, mid, book.spread, volatility_bps, now_ns)
        if impact_usd == impact_usd:
            net_usd = slippage_usd + fee_usd + impact_usd
        else:  # not estimated (NaN): the net cost excludes impact, impact_source says so
            net_usd = slippage_usd + fee_usd
        if self.foreign_models:
            extrapolated = True
        k = 1e4 / notional_usd
        fee_bps = fee_usd * k
        impact_bps = impact_usd * k
        net_bps = net_usd * k
        recv_ts_ns = now_ns
        side = self.side
        order_type = self.order_type
        valid = True
        complete = fill.complete
        latency_ns = time.perf_counter_ns() - t0
        # Built by field name: every value is in a local named like its field, listed in
        # CostEstimate._fields order (a test checks the names against _fields); tuple.__new__
        # skips CostEstimate(...)'s keyword binding, which costs about 1.5 us for 27 fields.
        return _new_tuple(CostEstimate, (
            recv_ts_ns, side, order_type, mid, notional_usd, qty_base, walk_bps, slippage_bps,
            slippage_usd, slippage_p50_bps, slippage_p90_bps, slippage_p95_bps, fee_usd,
            fee_bps, impact_usd, impact_bps, net_usd, net_bps, maker_share, taker_share,
            volatility_bps, latency_ns, valid, complete, impact_model, extrapolated,
            impact_source))

    def _quantile_index(self, sm: SlippageModel) -> tuple[int, int, int, SlippageModel]:
        """Where p50/p90/p95 sit in the slippage model's quantiles (cached per model)."""
        q = sm.quantiles
        self._qidx = (_pick_index(q, 0.5), _pick_index(q, 0.9), _pick_index(q, 0.95), sm)
        return self._qidx

    def on_update(self, book: OrderBook, events: Iterable[Any], recv_ns: int) -> None:
        """Live-client consumer: update features, then estimate if the book is valid.

        Books of other instruments are ignored. The latest estimate is :attr:`latest`; the
        bounded :attr:`history` keeps the last ``history`` estimates.
        """
        t0 = time.perf_counter_ns()
        inst = self.instrument
        if book.symbol != inst.symbol or (book.venue and book.venue != inst.venue):
            return
        self.features.update(book, events, recv_ns)
        self.ticks += 1
        if not book.valid:
            self.skipped += 1
            return
        est = self.estimate(book, recv_ns, _t0=t0)
        self.latest = est
        self.history.append(est)

    def __call__(self, book: OrderBook, events: Iterable[Any], recv_ns: int) -> None:
        self.on_update(book, events, recv_ns)

    def history_frame(self) -> Any:
        """The estimate history as a pandas DataFrame (one row per tick)."""
        import pandas as pd

        return pd.DataFrame([e.to_dict() for e in self.history])


def _venue_of(name: str) -> Any:
    """The registry's descriptor of ``name`` (None for a venue it does not know)."""
    from .venues.registry import find_venue

    try:
        return find_venue(name)
    except Exception:  # a venue package that fails to import must not stop pricing
        return None


def _equal_slices(law: ImpactLaw, horizon: float, periods: int) -> Any:
    r"""Per-tick cost of ``x`` base units in ``periods`` equal slices over ``horizon`` under a
    law without a fixed cost per unit: :math:`c\,x^2`, ``c`` the law's
    :meth:`~tradesim_nb.impact.base.ImpactLaw.schedule_cost` of one unit (the linear law's
    cost is homogeneous of degree 2 in the size)."""
    import numpy as np

    c = law.schedule_cost(np.full(periods, 1.0 / periods), horizon / periods)

    def price(x: float, mid: float, sigma_daily: float, daily_volume: float,
              spread: float) -> float:
        return c * x * x

    return price


def _pick_index(quantiles: Sequence[float], target: float) -> int:
    """Index of ``target`` in the model's quantile list, -1 where absent."""
    for i, q in enumerate(quantiles):
        if abs(q - target) < 1e-9:
            return i
    return -1
