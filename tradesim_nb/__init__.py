"""tradesim_nb: a Jupyter research toolkit for execution cost.

Core (this namespace) is pure numpy/scipy/scikit-learn: events, instruments, the order book,
venue parsers, cost models, impact laws and their fits. ``tradesim_nb.live`` (websockets, asyncio) and
``tradesim_nb.nb`` (ipywidgets, Bokeh) load only when imported.

The book and event types import eagerly; the models load on first use of their name
(``tradesim_nb.TradeSimulator`` imports :mod:`tradesim_nb.simulator` then), so
``import tradesim_nb`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .book import Fill, OrderBook
from .events import BBO, BookDelta, BookSnapshot, FeedStatus, Ticker, Trade
from .feed import FeedStats, MalformedFrame, VenueFeed
from .instruments import INSTRUMENTS, Instrument, get_instrument, register_instrument
from .replay import replay  # eager: ``import tradesim_nb.replay`` would shadow a lazy name
from .venues import get_feed

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    # cost models
    "ACParams": "costs.almgren_chriss",
    "ACSolution": "costs.almgren_chriss",
    "optimal_execution": "costs.almgren_chriss",
    "frontier": "costs.almgren_chriss",
    "frontier_holdings": "costs.almgren_chriss",
    "expected_cost_of": "costs.almgren_chriss",
    "variance_of": "costs.almgren_chriss",
    "twap_holdings": "costs.almgren_chriss",
    "FeeSchedule": "costs.fees",
    "FeeTier": "costs.fees",
    "fee_usd": "costs.fees",
    "get_fee_schedule": "costs.fees",
    "SlippageModel": "costs.slippage",
    "GBMQuantileModel": "costs.slippage",
    "fit_slippage_model": "costs.slippage",
    "fit_gbm_quantiles": "costs.slippage",
    "walk_slippage": "costs.slippage",
    "MakerTakerModel": "costs.maker_taker",
    "fit_maker_taker_model": "costs.maker_taker",
    # features and the per-tick estimate
    "FeatureState": "features",
    "DatasetConfig": "training",
    "dataset_from_frames": "training",
    "dataset_from_recording": "training",
    "load_binance_dataset": "training",
    "TradeSimulator": "simulator",
    "CostEstimate": "simulator",
    "ImpactParams": "simulator",
    "ImpactSettings": "simulator",
    "SimulatorModels": "models",
    # the model file and tradesim fit
    "ModelFile": "models",
    "ModelFileError": "models",
    "load_models": "models",
    "save_models": "models",
    "FitSettings": "fitting",
    "fit_files": "fitting",
    # impact laws and their fits
    "ImpactLaw": "impact",
    "MarketContext": "impact",
    "LinearImpact": "impact",
    "RuleOfThumbImpact": "impact",
    "PowerLawImpact": "impact",
    "ATHLImpact": "impact",
    "SquareRootImpact": "impact",
    "athl_cost": "impact",
    "athl_permanent": "impact",
    "athl_temporary": "impact",
    "sqrt_impact": "impact",
    "temporary_impact": "impact",
    "permanent_impact": "impact",
    # synthetic market, execution, calibration
    "MarketParams": "market",
    "SyntheticMarket": "market",
    "execute_schedule": "execution",
    "monte_carlo": "execution",
    "ImpactFit": "impact",
    "fit_athl": "impact",
    "fit_ac_records": "impact",
    "fit_market_data": "impact",
    "calibrate_synthetic": "impact",
    "calibrate_many": "impact",
    "simulate_orders": "impact",
    "load_orders": "impact",
    # recordings, metrics
    "read_frames": "recording",
    "RecordingWriter": "recording",
    "LatencyRing": "metrics",
}

__all__ = [
    "BBO",
    "INSTRUMENTS",
    "BookDelta",
    "BookSnapshot",
    "FeedStats",
    "FeedStatus",
    "Fill",
    "Instrument",
    "MalformedFrame",
    "OrderBook",
    "Ticker",
    "Trade",
    "VenueFeed",
    "__version__",
    "get_feed",
    "get_instrument",
    "register_instrument",
    "replay",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'tradesim_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .costs.almgren_chriss import (
        ACParams,
        ACSolution,
        expected_cost_of,
        frontier,
        frontier_holdings,
        optimal_execution,
        twap_holdings,
        variance_of,
    )
    from .costs.fees import FeeSchedule, FeeTier, fee_usd, get_fee_schedule
    from .costs.maker_taker import MakerTakerModel, fit_maker_taker_model
    from .costs.slippage import (
        GBMQuantileModel,
        SlippageModel,
        fit_gbm_quantiles,
        fit_slippage_model,
        walk_slippage,
    )
    from .execution import execute_schedule, monte_carlo
    from .features import FeatureState
    from .fitting import FitSettings, fit_files
    from .impact import (
        ATHLImpact,
        ImpactFit,
        ImpactLaw,
        LinearImpact,
        MarketContext,
        PowerLawImpact,
        RuleOfThumbImpact,
        SquareRootImpact,
        athl_cost,
        athl_permanent,
        athl_temporary,
        calibrate_many,
        calibrate_synthetic,
        fit_ac_records,
        fit_athl,
        fit_market_data,
        load_orders,
        permanent_impact,
        simulate_orders,
        sqrt_impact,
        temporary_impact,
    )
    from .market import MarketParams, SyntheticMarket
    from .metrics import LatencyRing
    from .models import ModelFile, ModelFileError, SimulatorModels, load_models, save_models
    from .recording import RecordingWriter, read_frames
    from .simulator import (
        CostEstimate,
        ImpactParams,
        ImpactSettings,
        TradeSimulator,
    )
    from .training import (
        DatasetConfig,
        dataset_from_frames,
        dataset_from_recording,
        load_binance_dataset,
    )
