"""The trade-cost dashboard: a live book in, a cost estimate per tick out, at UI rate.

Wiring (one tick)::

    BookClient frame -> feed/book -> TradeSimulator.on_update (every tick, on the loop)
                     -> UiThrottle.request()
    UiThrottle (<= rate_hz a second) -> flush(): depth chart, mid + cost band, cost breakdown,
                                       latency histogram, the numbers panel

Inputs on the left (venue, instrument, side, quantity, order type, fee tier, the cost models,
volatility with a manual override, impact parameters); outputs on the right.

The models selector lists the bundled default models (trained on the packaged Binance
recording) and every model file of ``tradesim fit`` in the model cache
(:func:`tradesim_nb.simulator.model_cache_dir`); ``trade_cost_dashboard(models=...)`` takes a
model file (or its path, or plain ``SimulatorModels``). With a model file the impact is its
fitted eta and gamma; without one the rule of thumb on the venue's 24-hour volume. The
numbers panel names the impact's source, and where it cannot be estimated (the GoQuant relay
has neither trades nor a 24-hour ticker) it says "not estimated" and why, and the net cost is
labelled "excl. impact" -- never a silent $0.00. A model file fitted on another instrument is
used with every estimate flagged, and the panel says which instrument it came from. A change of an input rebuilds the
:class:`~tradesim_nb.simulator.TradeSimulator` (keeping its feature state, so the live
volatility and volume estimates carry over) and re-estimates on the current book at once; a
change of venue or instrument reconnects the client.

Where the data comes from is always on screen: ``LIVE <venue>`` when the exchange answered,
``LOCAL VENUE (synthetic)`` when the client fell back to the loopback venue. The environment
variable ``TRADESIM_LIVE_SOURCE`` (``auto``, ``live`` or ``local``) overrides the default
``auto``; tests and CI set ``local`` so nothing tries the internet.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import os
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..instruments import get_instrument
from ..models import ModelFile
from ..venues.registry import VENUES
from .depth import DepthView
from .layout import side_by_side
from .stream import SnapshotView, StreamView, UiThrottle, bokeh_widget

__all__ = ["TradeCostDashboard", "trade_cost_dashboard"]

log = logging.getLogger(__name__)

#: instruments the live client can follow on each venue (every venue of the registry)
VENUE_SYMBOLS: dict[str, tuple[str, ...]] = {name: VENUES[name].symbols for name in VENUES}
SOURCES = ("auto", "live", "local")
#: seconds of latencies the histogram shows (the readout is over the whole ring)
HIST_WINDOW_S = 10.0
#: the models selector's entry for the bundled default models
_DEFAULT_LABEL = "bundled default"
#: where the impact came from, as the numbers panel says it
_IMPACT_SOURCE = {"model_file": "model file", "given": "typed η, γ",
                  "ticker_24h": "rule of thumb on the 24-hour volume",
                  "trades": "rule of thumb on the traded volume (extrapolated)"}


def _valid_source(src: str) -> bool:
    return src in SOURCES or src.startswith(("ws://", "wss://"))


def default_source() -> str:
    """``$TRADESIM_LIVE_SOURCE`` if set (auto, live, local, or a ``ws://`` URL of a venue
    such as ``tradesim venue``), else ``"auto"``."""
    src = os.environ.get("TRADESIM_LIVE_SOURCE", "auto").strip() or "auto"
    if not src.startswith(("ws://", "wss://")):
        src = src.lower()
    if not _valid_source(src):
        raise ValueError(f"TRADESIM_LIVE_SOURCE={src!r} is not one of {', '.join(SOURCES)} "
                         "or a ws:// URL")
    return src


def _fmt(x: Any, spec: str) -> str:
    return format(x, spec) if isinstance(x, int | float) and math.isfinite(x) else "–"


class TradeCostDashboard:
    """Build with :func:`trade_cost_dashboard` (it awaits the connection).

    Attributes
    ----------
    client : tradesim_nb.live.BookClient
    simulator : tradesim_nb.simulator.TradeSimulator
    throttle : UiThrottle
        Its ``flushes``, ``mean_flush_ms`` and ``flush_ns_max`` are the kernel-side UI cost.
    ui_updates : int
        Flushes that drew a valid estimate.
    """

    def __init__(self, venue: str = "okx", symbol: str = "BTC-USDT-SWAP", *,
                 side: str = "buy", quantity_usd: float = 100_000.0,
                 order_type: str = "market", fee_tier: str | None = None,
                 source: str | None = None, rate_hz: float = 10.0, local_rate_hz: float = 100.0,
                 auto_timeout_s: float = 3.0, rollover: int = 600, levels: int = 40,
                 models: Any = None) -> None:
        if venue not in VENUE_SYMBOLS:
            raise ValueError(f"venue={venue!r} is not one of {', '.join(VENUE_SYMBOLS)}")
        if symbol not in VENUE_SYMBOLS[venue]:
            raise ValueError(f"symbol={symbol!r} is not one of {', '.join(VENUE_SYMBOLS[venue])}")
        if not (math.isfinite(quantity_usd) and 1.0 <= quantity_usd <= 1e9):
            raise ValueError(f"quantity_usd={quantity_usd!r} must be in [1, 1e9]")
        if not (math.isfinite(local_rate_hz) and 0 < local_rate_hz <= 5000):
            raise ValueError(f"local_rate_hz={local_rate_hz!r} must be in (0, 5000]")
        if not (math.isfinite(auto_timeout_s) and 0 < auto_timeout_s <= 60):
            raise ValueError(f"auto_timeout_s={auto_timeout_s!r} must be in (0, 60]")
        self.source = default_source() if source is None else source
        if not _valid_source(self.source):
            raise ValueError(f"source={self.source!r} is not one of {', '.join(SOURCES)} or a "
                             "ws:// URL")
        self.local_rate_hz = float(local_rate_hz)
        self.auto_timeout_s = float(auto_timeout_s)
        if isinstance(models, str | os.PathLike):
            from ..models import load_models

            models = load_models(models)
        #: the models in use: a ModelFile, SimulatorModels, or None until :meth:`start`
        self.models = models
        #: what the models selector offers: label -> ModelFile (None: the bundled default)
        self.model_choices: dict[str, Any] = {}
        self._default_models: Any = None
        self._quiet = False  # set while the selector is changed from code
        self.client: Any = None
        self.simulator: Any = None
        self.ui_updates = 0
        self.estimates_drawn = 0
        #: the latency histogram and the feed banner are redrawn every this many UI updates
        self.slow_every = 10
        self._lat_p50_p99: tuple[float, float, int] = (math.nan, math.nan, 0)
        self.closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._build_widgets(venue, symbol, side, quantity_usd, order_type, fee_tier)
        self._build_plots(rollover, levels)
        self.throttle = UiThrottle(self._flush, rate_hz)

    # -- widgets --------------------------------------------------------------------------
    def _build_widgets(self, venue: str, symbol: str, side: str, quantity_usd: float,
                       order_type: str, fee_tier: str | None) -> None:
        import ipywidgets as w

        style = {"description_width": "130px"}
        lay = w.Layout(width="360px")
        self.w_venue = w.Dropdown(options=list(VENUE_SYMBOLS), value=venue, description="venue",
                                  style=style, layout=lay)
        self.w_symbol = w.Dropdown(options=list(VENUE_SYMBOLS[venue]), value=symbol,
                                   description="instrument", style=style, layout=lay)
        self.w_side = w.ToggleButtons(options=["buy", "sell"], value=side, description="side",
                                      style={"description_width": "130px", "button_width": "80px"})
        self.w_qty = w.FloatLogSlider(value=quantity_usd, base=10, min=3, max=7, step=0.05,
                                      description="quantity (USD)", readout_format=",.0f",
                                      style=style, layout=lay, continuous_update=False)
        self.w_qty.add_class("ts-tc-quantity")
        self.w_order = w.Dropdown(options=[("market", "market"),
                                           ("passive, then cross", "passive_then_aggressive")],
                                  value=order_type, description="order type", style=style,
                                  layout=lay)
        self.w_tier = w.Dropdown(options=self._tiers(venue, symbol), description="fee tier",
                                 style=style, layout=lay)
        if fee_tier is not None:
            self.w_tier.value = fee_tier
        self.w_models = w.Dropdown(options=[_DEFAULT_LABEL], value=_DEFAULT_LABEL,
                                   description="models", style={"description_width": "70px"},
                                   layout=lay)
        self.w_models.add_class("ts-tc-models")
        self.w_models_info = w.HTML(layout=w.Layout(width="360px"))
        self.w_models_info.add_class("ts-tc-models-info")
        self.w_vol_manual = w.Checkbox(value=False, description="override volatility",
                                       indent=False)
        self.w_vol = w.FloatSlider(value=1.0, min=0.0, max=20.0, step=0.1,
                                   description="σ (bps/√s)", style=style, layout=lay,
                                   continuous_update=False, disabled=True)
        self.w_vol_live = w.HTML()
        self.w_horizon = w.FloatLogSlider(value=60.0, base=10, min=0, max=4, step=0.1,
                                          description="impact horizon (s)", readout_format=".3g",
                                          style=style, layout=lay, continuous_update=False)
        # a checkbox label is one line cut with an ellipsis: keep it short, explain below it
        self.w_impact_manual = w.Checkbox(value=False, description="set η, γ by hand",
                                          indent=False, layout=w.Layout(width="360px"))
        impact_note = w.HTML("<span style='color:#555;font-size:90%'>unticked: the model file's "
                             "fitted η, γ, else a rule of thumb from the live spread and the "
                             "venue's 24-hour volume</span>",
                             layout=w.Layout(width="360px"))
        self.w_eta = w.FloatLogSlider(value=1.0, base=10, min=-4, max=3, step=0.1,
                                      description="η (USD per base/s)", readout_format=".2e",
                                      style=style, layout=lay, continuous_update=False,
                                      disabled=True)
        self.w_gamma = w.FloatLogSlider(value=1.0, base=10, min=-4, max=3, step=0.1,
                                        description="γ (USD per base)", readout_format=".2e",
                                        style=style, layout=lay, continuous_update=False,
                                        disabled=True)
        self.banner = w.HTML()
        self.banner.add_class("ts-tc-source")
        self.numbers = w.HTML("<i>waiting for the first valid book…</i>")
        self.numbers.add_class("ts-tc-numbers")
        self.message = w.HTML()
        self.message.add_class("ts-tc-message")

        for wd in (self.w_side, self.w_qty, self.w_order, self.w_tier, self.w_vol,
                   self.w_horizon, self.w_eta, self.w_gamma):
            wd.observe(self._on_input, names="value")
        self.w_models.observe(self._on_models, names="value")
        self.w_vol_manual.observe(self._on_toggle, names="value")
        self.w_impact_manual.observe(self._on_toggle, names="value")
        self.w_venue.observe(self._on_venue, names="value")
        self.w_symbol.observe(self._on_symbol, names="value")
        self.inputs = w.VBox([
            w.HTML("<b>Order</b>"), self.w_venue, self.w_symbol, self.w_side, self.w_qty,
            self.w_order, self.w_tier,
            w.HTML("<b>Cost models</b>"), self.w_models, self.w_models_info,
            w.HTML("<b>Volatility</b>"), self.w_vol_live, self.w_vol_manual, self.w_vol,
            w.HTML("<b>Impact (Almgren-Chriss)</b>"), self.w_horizon, self.w_impact_manual,
            impact_note, self.w_eta, self.w_gamma,
        ])
        self.inputs.add_class("ts-tc-inputs")

    @staticmethod
    def _tiers(venue: str, symbol: str) -> list[str]:
        from ..costs import fees

        inst = get_instrument(venue, symbol)
        return [t.name for t in fees.schedule_for(inst).tiers]

    def _build_plots(self, rollover: int, levels: int) -> None:
        import ipywidgets as w
        from bokeh.layouts import column, row
        from bokeh.models import DatetimeTickFormatter
        from bokeh.plotting import figure

        self.depth = DepthView(levels, title="Cumulative depth (live book)", height=260)
        # one source for the two time series (one update message a frame)
        self.series = StreamView(["t_ms", "mid", "exec", "lo", "hi", "slip", "fee", "impact",
                                  "net"], rollover=rollover)
        self.hist = SnapshotView(["left", "right", "count"])
        fmt = DatetimeTickFormatter(seconds="%H:%M:%S", minsec="%H:%M:%S", minutes="%H:%M")
        f_mid = figure(height=240, sizing_mode="stretch_width", x_axis_type="datetime",
                       title="Mid and expected execution price (band: slippage p50-p95)",
                       tools="pan,wheel_zoom,reset")
        f_mid.varea("t_ms", "lo", "hi", source=self.series.source, fill_color="#ff7f0e",
                    fill_alpha=0.25)
        f_mid.line("t_ms", "mid", source=self.series.source, color="#555555", legend_label="mid")
        f_mid.line("t_ms", "exec", source=self.series.source, color="#ff7f0e", line_width=2,
                   legend_label="mid + net cost")
        f_mid.legend.location = "top_left"
        f_cost = figure(height=240, sizing_mode="stretch_width", x_axis_type="datetime",
                        title="Cost breakdown (bps of notional)", tools="pan,wheel_zoom,reset",
                        x_range=f_mid.x_range)
        for col, color in (("slip", "#1f77b4"), ("fee", "#2ca02c"), ("impact", "#9467bd"),
                           ("net", "#d62728")):
            f_cost.line("t_ms", col, source=self.series.source, color=color,
                        line_width=3 if col == "net" else 1.5, legend_label=col)
        f_cost.legend.location = "top_left"
        f_lat = figure(height=260, sizing_mode="stretch_width",
                       title="Latency: receive → estimate (µs), last 10 s",
                       tools="pan,wheel_zoom,reset")
        f_lat.quad(left="left", right="right", top="count", bottom=0, source=self.hist.source,
                   fill_color="#17becf", line_color="white")
        for f in (f_mid, f_cost):
            f.xaxis.formatter = fmt
        for f in (self.depth.figure, f_mid, f_cost, f_lat):
            f.toolbar.logo = None
        self.figures = (self.depth.figure, f_mid, f_cost, f_lat)
        self.plot = bokeh_widget(column(row(self.depth.figure, f_lat, sizing_mode="stretch_width"),
                                        f_mid, f_cost, sizing_mode="stretch_width"))
        right = w.VBox([self.banner, self.message, self.numbers, self.plot])
        right.add_class("ts-tc-outputs")
        self.widget = side_by_side(self.inputs, right, inputs_px=380, outputs_min_px=600)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> TradeCostDashboard:
        """Load the cost models (off the loop), connect the client, start drawing."""
        from ..simulator import TradeSimulator

        self.banner.value = "<i>loading the cost models…</i>"
        self._default_models = await asyncio.to_thread(TradeSimulator.default_models)
        self.refresh_models()
        if self.models is None:
            self.models = self._default_models
        self._select_models(self.models)
        await self._connect()
        return self

    async def _connect(self) -> None:
        from .. import live

        venue, symbol = self.w_venue.value, self.w_symbol.value
        self.banner.value = (f"<i>connecting to {html.escape(venue)} {html.escape(symbol)} "
                             f"(source={self.source})…</i>")
        cfg = live.ClientConfig(auto_timeout_s=self.auto_timeout_s,
                                connect_timeout_s=max(self.auto_timeout_s, 1.0))
        client = live.BookClient(venue, symbol, source=self.source, config=cfg,
                                 channels=("books", "trades"),
                                 local_venue=self._local_venue_kwargs(venue, symbol))
        await client.start(wait_snapshot_s=5.0)
        self.client = client
        self._rebuild_simulator()
        client.on_update(self._on_tick)
        self.banner.value = self._banner_html()
        self.throttle.flush_now()

    def _local_venue_kwargs(self, venue: str, symbol: str) -> dict[str, Any]:
        """A seeded random-walk book for the fallback venue, at a plausible price and depth
        (about 30,000 USD a level, 50 levels a side) so that the default orders fill
        (:meth:`~tradesim_nb.random_walk.RandomWalkBook.for_instrument`)."""
        from ..live import RandomWalkBook

        src = RandomWalkBook.for_instrument(get_instrument(venue, symbol), seed=7,
                                            rate_hz=self.local_rate_hz)
        return {"source": src, "rate_hz": self.local_rate_hz, "seed": 7}

    async def _reconnect(self) -> None:
        old = self.client
        self.client = None
        if old is not None:
            old.remove_callback(self._on_tick)
            await old.stop()
        self.series.reset()
        await self._connect()

    def _spawn(self, coro: Any) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._task_done)

    def _task_done(self, t: asyncio.Task[Any]) -> None:
        self._tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            self.message.value = (f"<span style='color:#b00'>{html.escape(repr(t.exception()))}"
                                  "</span>")

    async def stop(self) -> None:
        """Stop drawing and stop the client (and its local venue)."""
        self.closed = True
        self.throttle.close()
        for t in list(self._tasks):
            t.cancel()
        if self.client is not None:
            self.client.remove_callback(self._on_tick)
            await self.client.stop()
        self.banner.value = self._banner_html()

    # -- inputs ---------------------------------------------------------------------------
    def _rebuild_simulator(self) -> None:
        from ..models import ModelFileWarning
        from ..simulator import ImpactParams, ImpactSettings, TradeSimulator

        inst = get_instrument(self.w_venue.value, self.w_symbol.value)
        manual = self.w_impact_manual.value
        horizon = float(self.w_horizon.value)
        impact: Any = None
        settings: Any = ImpactSettings(horizon_s=horizon)
        if manual:
            impact = ImpactParams(eta=float(self.w_eta.value), gamma=float(self.w_gamma.value),
                                  horizon_s=horizon)
            settings = None
        with warnings.catch_warnings():
            # another instrument's model file: said in the models panel, not once a rebuild
            warnings.simplefilter("ignore", ModelFileWarning)
            sim = TradeSimulator(
                inst, self.w_side.value, float(self.w_qty.value), unit="usd",
                order_type=self.w_order.value, fee_tier=self.w_tier.value,
                volatility_bps=float(self.w_vol.value) if self.w_vol_manual.value else None,
                impact=impact, impact_settings=settings, models=self.models)
        old = self.simulator
        if old is not None and old.instrument == inst:
            sim.features = old.features  # keep the live volatility and volume estimates
        self.simulator = sim
        self.w_models_info.value = self._models_html()

    # -- models -------------------------------------------------------------------------
    def refresh_models(self) -> None:
        """List the bundled default and the model files in the model cache again (and the
        models given to the dashboard, when they are none of those)."""
        from ..models import list_model_files
        from ..simulator import default_model_path, model_cache_dir

        default = default_model_path()
        choices: dict[str, Any] = {_DEFAULT_LABEL: self._default_models}
        files = [mf for mf in list_model_files(model_cache_dir())
                 if mf.path is None or mf.path.resolve() != default.resolve()]
        given = self.models
        if isinstance(given, ModelFile) and all(given != m for m in files):
            files.append(given)
        for mf in files:  # short labels (the panel below names the file): the instrument
            label = mf.fitted_on()
            k = 2
            while label in choices:
                label = f"{mf.fitted_on()} #{k}"
                k += 1
            choices[label] = mf
        if given is not None and all(given != m for m in choices.values()):
            choices["given to the dashboard"] = given
        self.model_choices = choices
        keep = self.w_models.value
        self._quiet = True
        try:
            self.w_models.options = list(choices)
            self.w_models.value = keep if keep in choices else _DEFAULT_LABEL
        finally:
            self._quiet = False

    def _select_models(self, models: Any) -> None:
        """Show ``models`` as the selector's value (no rebuild)."""
        for label, m in self.model_choices.items():
            if m == models:
                self._quiet = True
                try:
                    self.w_models.value = label
                finally:
                    self._quiet = False
                return

    def _on_models(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self.models = self.model_choices[self.w_models.value]
        self._on_input(change)

    def _models_html(self) -> str:
        sim = self.simulator
        mf = getattr(sim, "model_file", None)
        if mf is None:
            return ("<span style='color:#555;font-size:90%'>trained on the Binance BTCUSDT "
                    "recording; impact from the venue's 24-hour volume</span>")
        h = mf.holdout
        s, m = h.get("slippage") or {}, h.get("maker_taker") or {}
        text = (f"<code>{html.escape(mf.name)}</code>, fitted on "
                f"<b>{html.escape(mf.fitted_on())}</b>: hold-out R² "
                f"{_fmt(s.get('r2'), '.3f')}, AUC {_fmt(m.get('auc'), '.3f')}")
        if sim.foreign_models:
            text += (f"<br><b style='color:#b60' class='ts-tc-models-foreign'>fitted on "
                     f"{html.escape(mf.fitted_on())}, not on this instrument: estimates "
                     "flagged</b>")
        if sim.impact_note:
            text += (f"<br>impact fit not used ({html.escape(sim.impact_note)}): the 24-hour "
                     "volume instead")
        return f"<span style='font-size:90%'>{text}</span>"

    def _on_input(self, change: dict[str, Any]) -> None:
        if self.client is None:
            return
        try:
            self._rebuild_simulator()
        except ValueError as e:
            self.message.value = f"<span style='color:#b00'>{html.escape(str(e))}</span>"
            return
        self.message.value = ""
        book = self.client.book
        if book.valid:  # a new estimate on the current book, without waiting for a tick
            self.simulator.latest = self.simulator.estimate(book)
        self.throttle.flush_now()

    def _on_toggle(self, change: dict[str, Any]) -> None:
        self.w_vol.disabled = not self.w_vol_manual.value
        self.w_eta.disabled = self.w_gamma.disabled = not self.w_impact_manual.value
        self._on_input(change)

    def _on_venue(self, change: dict[str, Any]) -> None:
        self.w_symbol.options = list(VENUE_SYMBOLS[self.w_venue.value])

    def _on_symbol(self, change: dict[str, Any]) -> None:
        self.w_tier.options = self._tiers(self.w_venue.value, self.w_symbol.value)
        self.simulator = None
        self._spawn(self._reconnect())

    # -- per tick (every frame, on the loop) ----------------------------------------------
    def _on_tick(self, book: Any, events: Sequence[Any], recv_ns: int) -> None:
        sim = self.simulator
        if sim is not None:
            sim.on_update(book, events, recv_ns)
        self.throttle.request()

    # -- per UI frame (<= rate_hz) --------------------------------------------------------
    def _flush(self) -> None:
        client, sim = self.client, self.simulator
        if client is None:
            return
        book = client.book
        if book.valid:
            self.depth.update(book)
        self.depth.flush()
        est = sim.latest if sim is not None else None
        if est is not None and est.valid:
            t_ms = est.recv_ts_ns / 1e6
            sgn = 1.0 if est.side == "buy" else -1.0
            m = est.mid
            lo = m * (1 + sgn * est.slippage_p50_bps / 1e4)
            hi = m * (1 + sgn * est.slippage_p95_bps / 1e4)
            self.series.append(t_ms=t_ms, mid=m, exec=m * (1 + sgn * est.net_bps / 1e4),
                               lo=min(lo, hi), hi=max(lo, hi), slip=est.slippage_bps,
                               fee=est.fee_bps, impact=est.impact_bps, net=est.net_bps)
            self.estimates_drawn += 1
        self.series.flush()
        # slower-moving panels (latency histogram, feed banner) once every `slow_every` frames
        if self.ui_updates % self.slow_every == 0:
            lat = client.latency.latencies_us("estimate")
            lat = lat[np.isfinite(lat) & (lat > 0)]
            # the histogram shows the last 10 s (how the latency is now), the readout the ring
            recent = client.latency.latencies_us("estimate", last_s=HIST_WINDOW_S)
            recent = recent[np.isfinite(recent) & (recent > 0)]
            if recent.size >= 2:
                hi_us = float(np.percentile(recent, 99.5))
                counts, edges = np.histogram(np.minimum(recent, hi_us), bins=30)
                self.hist.set(left=edges[:-1], right=edges[1:], count=counts)
            if lat.size >= 2:
                self._lat_p50_p99 = (float(np.percentile(lat, 50)), float(np.percentile(lat, 99)),
                                     int(lat.size))
            self.hist.flush()
            self.banner.value = self._banner_html()
            feats = sim.features if sim is not None else None
            vol_live = float(feats.vol_bps()) if feats is not None else math.nan
            self.w_vol_live.value = (f"live estimate: <b class='ts-tc-vol'>"
                                     f"{_fmt(vol_live, '.3f')}</b> bps/√s (EWMA of the mid)")
        self.numbers.value = self._numbers_html(est)
        self.ui_updates += 1

    # -- text -----------------------------------------------------------------------------
    def _banner_html(self) -> str:
        c = self.client
        if c is None:
            return "<i>not connected</i>"
        src = str(c.source)
        if src == "live":
            tag = ("<span style='background:#2ca02c;color:white;padding:2px 8px;"
                   f"border-radius:3px'>LIVE {html.escape(c.venue.upper())}</span>")
        elif src.startswith(("local", "ws://127.", "ws://localhost")):
            tag = ("<span style='background:#ff7f0e;color:white;padding:2px 8px;"
                   "border-radius:3px'>LOCAL VENUE (synthetic data, not a live market)</span>")
        else:
            tag = f"<span style='background:#555;color:white;padding:2px 8px'>{html.escape(src)}</span>"
        m = c.metrics
        return (f"{tag} <span class='ts-tc-status'>feed <b>{html.escape(str(m['status']))}</b>"
                f" &middot; {html.escape(c.venue)} {html.escape(c.symbols[0])}"
                f" &middot; source <code>{html.escape(src)}</code>"
                f" &middot; frames <span class='ts-tc-frames'>{m['frames']:,}</span>"
                f" ({_fmt(m.get('frames_per_s', math.nan), '.0f')}/s)"
                f" &middot; gaps {m['gaps_detected']}, checksum failures {m['checksum_failures']},"
                f" reconnects {m['reconnects']}</span>")

    def _impact_row(self, est: Any) -> tuple[str, str, str, str]:
        """The market-impact row: the number and its source, or "not estimated" and why."""
        horizon = _fmt(float(self.w_horizon.value), '.3g')
        if not est.impact_estimated:
            why = html.escape(est.impact_model.removeprefix("none: "))
            return ("market impact", "<b class='ts-tc-impact' style='color:#b00'>not "
                    "estimated</b>", "–",
                    f"<span class='ts-tc-impact-why'>impact: not estimated ({why})</span>")
        src = _IMPACT_SOURCE.get(est.impact_source, est.impact_source)
        return ("market impact",
                f"<span class='ts-tc-impact'>{_fmt(est.impact_bps, '.2f')} bps</span>",
                f"${_fmt(est.impact_usd, ',.2f')}",
                f"Almgren-Chriss over {horizon} s; source: <span class='ts-tc-impact-source'>"
                f"{html.escape(src)}</span>")

    def _numbers_html(self, est: Any) -> str:
        if est is None or not est.valid:
            return "<i>waiting for a valid book…</i>"
        p50, p99, n_lat = self._lat_p50_p99
        rows = [
            ("expected slippage", f"{_fmt(est.slippage_bps, '.2f')} bps",
             f"${_fmt(est.slippage_usd, ',.2f')}",
             f"band p50 {_fmt(est.slippage_p50_bps, '.2f')} · p90 "
             f"{_fmt(est.slippage_p90_bps, '.2f')} · p95 {_fmt(est.slippage_p95_bps, '.2f')} bps"
             f"; walk-the-book {_fmt(est.walk_bps, '.2f')} bps"
             + ("" if est.complete else " <b style='color:#b00'>(book too thin to fill)</b>")
             + (" <b style='color:#b60'>(outside the models' training range: "
                "extrapolated)</b>" if est.extrapolated else "")),
            ("fees", f"{_fmt(est.fee_bps, '.2f')} bps", f"${_fmt(est.fee_usd, ',.2f')}",
             f"tier {html.escape(str(self.w_tier.value))}"),
            self._impact_row(est),
            (f"<b>net cost</b>{'' if est.impact_estimated else ' (excl. impact)'}",
             f"<b class='ts-tc-net-bps'>{_fmt(est.net_bps, '.3f')} bps</b>",
             f"<b class='ts-tc-net-usd'>${_fmt(est.net_usd, ',.2f')}</b>",
             f"on ${_fmt(est.notional_usd, ',.0f')} at mid {_fmt(est.mid, ',.2f')}"
             + ("" if est.impact_estimated else
                " <b style='color:#b00' class='ts-tc-net-note'>excl. impact</b>")),
            ("maker / taker", f"{_fmt(100 * est.maker_share, '.1f')}% / "
             f"{_fmt(100 * est.taker_share, '.1f')}%", "", html.escape(est.order_type)),
            ("internal latency", f"p50 {_fmt(p50, '.0f')} µs", f"p99 {_fmt(p99, '.0f')} µs",
             f"receive → estimate (parse, apply, estimate), last {n_lat} frames"),
        ]
        # names and numbers on one line each (in a narrow window they wrapped mid-number,
        # "5.082 | bps"); the notes column wraps instead
        nw = "padding-right:12px;white-space:nowrap"
        body = "".join(f"<tr><td style='{nw}'>{a}</td><td style='{nw};text-align:right'>{b}</td>"
                       f"<td style='{nw};text-align:right'>{cc}</td>"
                       f"<td style='color:#555'>{d}</td></tr>" for a, b, cc, d in rows)
        return (f"<table class='ts-tc-table'>{body}</table>"
                f"<div style='color:#777;font-size:85%'>estimate at "
                f"{time.strftime('%H:%M:%S', time.gmtime(est.recv_ts_ns / 1e9))} UTC · "
                f"UI updates <span class='ts-tc-ui'>{self.ui_updates}</span> · kernel time per "
                f"UI update: mean <span class='ts-tc-flush-ms'>"
                f"{_fmt(self.throttle.mean_flush_ms, '.2f')}</span> ms, max "
                f"{self.throttle.flush_ns_max / 1e6:.1f} ms</div>")


async def trade_cost_dashboard(venue: str = "okx", symbol: str = "BTC-USDT-SWAP",
                               **kwargs: Any) -> TradeCostDashboard:
    """Build, connect and return the dashboard (``await`` it in a notebook cell).

    The client tries the live venue for ``auto_timeout_s`` seconds (``source="auto"``, or
    ``$TRADESIM_LIVE_SOURCE``) and falls back to a local venue on 127.0.0.1 publishing
    ``local_rate_hz`` book updates a second; the banner says which. Stop it with
    ``await dash.stop()``.
    """
    dash = TradeCostDashboard(venue, symbol, **kwargs)
    return await dash.start()
