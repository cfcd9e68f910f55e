r"""Beyond Almgren-Chriss: sliders in; AC, Obizhaeva-Wang, propagator, nonlinear-AC, TWAP and
VWAP schedules out, side by side with their expected cost and risk; a button that replays them
on the real Binance book with impact.

Every number comes from the package (no maths here):
:meth:`tradesim_nb.execution.ExecutionModels.from_params` builds the models from the sliders and
the parameters fitted on the recording (:func:`tradesim_nb.execution.fit_execution_models`),
:meth:`~tradesim_nb.execution.ExecutionModels.optimal_schedules` and
:meth:`~tradesim_nb.execution.ExecutionModels.expected` give the schedules and their costs,
:func:`tradesim_nb.execution.replay_many` the impact-aware replay.

The sliders: notional :math:`X` (quote currency), horizon :math:`T` (s), periods :math:`N`,
resilience :math:`\rho` (1/s), Almgren (2003)'s impact exponent :math:`\beta_h`, the
propagator's kernel exponent :math:`\beta` and the risk aversion :math:`\lambda`. The book's
depth :math:`q`, the kernel's :math:`\tau_0`, :math:`\sigma` and :math:`\epsilon` stay at their
fitted values; the permanent share follows the kernel,
:math:`\varphi = (1 + T/\tau_0)^{-\beta}` (as in the fit), and the nonlinear model's
:math:`\eta` makes a child at the average rate :math:`X/T` cost what the linear model says.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..execution import (
    ExecutionModels,
    ReplayComparison,
    ReplayImpact,
    Schedule,
    replay_many,
    standard_schedules,
    volume_profile,
)
from ..impact.transient import ExponentialKernel, ManipulationReport, manipulation_check, trade_grid
from .ac import frontier_grid
from .stream import bokeh_widget

if TYPE_CHECKING:  # pragma: no cover
    from ..execution import BookTape

__all__ = ["MODEL_OF", "TransientExplorer", "TransientState", "compute_state", "replay_starts"]

#: the model under which each schedule is optimal (TWAP/VWAP: the resilient book, OW)
MODEL_OF = {"TWAP": "OW", "VWAP": "OW", "AC optimal": "AC", "OW optimal": "OW",
            "propagator optimal": "propagator", "nonlinear AC optimal": "nonlinear"}
COLORS = {"TWAP": "#7f7f7f", "VWAP": "#8c564b", "AC optimal": "#1f77b4",
          "OW optimal": "#d62728", "propagator optimal": "#2ca02c",
          "nonlinear AC optimal": "#9467bd", "POV": "#e377c2"}
MODELS = ("AC", "OW", "propagator", "nonlinear")


@dataclass(frozen=True)
class TransientState:
    r"""Everything the explorer shows for one position of the sliders (pure, testable).

    Attributes
    ----------
    models : ExecutionModels
    schedules : dict of name -> Schedule
    expected : dict of name -> dict of model -> expected cost (quote currency) and ``sqrtV``
    mid : float
        Price that converts the notional to units and money to bps.
    notional : float
    manipulation : ManipulationReport
        Of the propagator kernel on the OW grid.
    nonlinear_error : str
        Why Almgren (2003)'s model is not available for these sliders ("" when it is).
    family : dict of model -> ndarray, and ``"sqrtV"``
        The Almgren-Chriss optima over a grid of :math:`\lambda` (from TWAP to nearly
        immediate), each one's expected cost under every model and its :math:`\sqrt V`.
    notes : tuple of str
        What was left out and why, for the screen.
    """

    models: ExecutionModels
    schedules: dict[str, Schedule]
    expected: dict[str, dict[str, float]]
    mid: float
    notional: float
    manipulation: ManipulationReport
    nonlinear_error: str = ""
    family: dict[str, np.ndarray] | None = None
    notes: tuple[str, ...] = ()

    def bps(self, value: float) -> float:
        return value / self.notional * 1e4


def compute_state(base: ExecutionModels, *, mid: float, notional: float, horizon: float,
                  periods: int, resilience: float, impact_exponent: float,
                  kernel_exponent: float, risk_aversion: float,
                  profile: Callable[[float, int], np.ndarray] | None = None) -> TransientState:
    """The schedules and costs for the sliders, with ``base``'s other fitted parameters.

    ``profile(horizon, periods)`` gives VWAP's volume profile (no VWAP when None).
    """
    tau0 = base.propagator.kernel.tau0  # type: ignore[attr-defined]
    phi = min((1.0 + horizon / tau0) ** (-kernel_exponent), 0.99)
    size = notional / mid
    kw = dict(size=size, horizon=horizon, periods=periods, depth=base.ow.depth,
              resilience=resilience, permanent_share=phi, sigma=base.sigma,
              epsilon=base.ac.epsilon, kernel_exponent=kernel_exponent, tau0=tau0,
              risk_aversion=risk_aversion)
    nl_error = ""
    try:
        m = ExecutionModels.from_params(impact_exponent=impact_exponent, **kw)  # type: ignore[arg-type]
    except ValueError as e:
        if "beta" not in str(e):
            raise
        # only Almgren (2003)'s model is invalid here: keep the others, say why
        nl_error = str(e)
        m = ExecutionModels.from_params(impact_exponent=1.0, **kw)  # type: ignore[arg-type]
    scheds = m.optimal_schedules()
    if nl_error:
        del scheds["nonlinear AC optimal"]
    notes = [f"nonlinear AC left out: {nl_error}"] if nl_error else []
    if profile is not None:
        try:
            scheds["VWAP"] = Schedule.vwap(size, horizon, profile(horizon, periods))
        except ValueError as e:
            notes.append(f"VWAP left out: {e}")
    order = ["TWAP", "VWAP", "AC optimal", "OW optimal", "propagator optimal",
             "nonlinear AC optimal"]
    scheds = {k: scheds[k] for k in order if k in scheds}
    exp = {k: m.expected(s) for k, s in scheds.items()}
    if nl_error:
        for e_ in exp.values():
            e_["nonlinear"] = math.nan
    chk = manipulation_check(m.propagator.kernel, trade_grid(horizon, periods))
    fam: dict[str, list[float]] = {k: [] for k in (*MODELS, "sqrtV")}
    for lam in frontier_grid(m.ac, 40):
        ex = m.expected(Schedule.from_ac(replace(m.ac, risk_aversion=float(lam))))
        for k in fam:
            fam[k].append(ex[k] if not (k == "nonlinear" and nl_error) else math.nan)
    family = {k: np.asarray(v) for k, v in fam.items()}
    return TransientState(m, scheds, exp, float(mid), float(notional), chk, nl_error, family,
                          tuple(notes))


def replay_starts(tape: BookTape, horizon: float, every_s: float) -> np.ndarray:
    """Start times from ``horizon`` (one window of history for VWAP/POV) to the last one
    whose schedule fits, every ``every_s`` seconds, on the tape's grid."""
    hi = tape.duration_s - horizon - tape.dt_s
    s = np.arange(horizon, hi, every_s)
    return np.unique(np.round(s / tape.dt_s) * tape.dt_s)


def _money(x: float) -> str:
    return f"${x:,.0f}" if math.isfinite(x) else "n/a"


class TransientExplorer:
    r"""Sliders for :math:`X, T, N, \rho, \beta_h, \beta, \lambda`; schedules, costs, a replay.

    Parameters
    ----------
    tape : BookTape
        The recording the replay runs on (and VWAP's profile comes from).
    models : ExecutionModels
        Fitted on ``tape`` (:func:`tradesim_nb.execution.fit_execution_models`): the depth,
        :math:`\tau_0`, :math:`\sigma`, :math:`\epsilon` used throughout, and the slider
        defaults (:math:`\rho`, :math:`\beta_h`, :math:`\beta`, :math:`\lambda`, :math:`T`,
        :math:`N`).
    notional : float
        Default order size in quote currency.
    every_s : float
        Spacing of the replay's start times.
    replay_on_start : bool
        Run the replay once while building (so every plot has data on load).
    """

    def __init__(self, tape: BookTape, models: ExecutionModels, *, notional: float = 1e6,
                 every_s: float = 25.0, replay_on_start: bool = True) -> None:
        import ipywidgets as w
        from bokeh.layouts import column, row
        from bokeh.models import ColumnDataSource, FactorRange
        from bokeh.plotting import figure
        from bokeh.transform import jitter

        self.tape = tape
        self.base = models
        self.mid = float(np.nanmean(tape.mid))
        self.every_s = float(every_s)
        self.error = ""
        self.updates = 0
        self.replays = 0
        self.on_change: list[Callable[[TransientState], None]] = []
        self.state: TransientState | None = None
        self.comparison: ReplayComparison | None = None
        style = {"description_width": "170px"}
        lay = w.Layout(width="440px")

        def ls(desc: str, value: float, lo: float, hi: float, fmt: str = ".2e") -> Any:
            return w.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=0.05,
                                    description=desc, readout_format=fmt, style=style,
                                    layout=lay, continuous_update=False)

        def fs(desc: str, value: float, lo: float, hi: float, step: float, fmt: str) -> Any:
            return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc,
                                 readout_format=fmt, style=style, layout=lay,
                                 continuous_update=False)

        rho = models.ow.resilience
        k_exp = models.propagator.kernel.exponent  # type: ignore[attr-defined]
        self.sliders: dict[str, Any] = {
            "notional": ls("X (USD notional)", notional, 4, 8),
            "horizon": fs("T (s)", models.horizon, 5.0, 300.0, 5.0, ".0f"),
            "periods": w.IntSlider(value=models.periods, min=1, max=60, step=1,
                                   description="N (periods)", style=style, layout=lay,
                                   continuous_update=False),
            "resilience": ls("ρ resilience (1/s)", rho, -3, 2, ".3g"),
            "impact_exponent": fs("β impact exponent", round(models.nonlinear.beta, 2), 0.3, 1.0,
                                  0.01, ".2f"),
            "kernel_exponent": fs("kernel exponent", round(max(k_exp, 0.01), 2), 0.01, 1.5,
                                  0.01, ".2f"),
            "risk_aversion": ls("λ risk aversion (1/USD)", max(models.ac.risk_aversion, 1e-9),
                                -9, -2),
        }
        for name, s in self.sliders.items():
            s.add_class(f"ts-tr-{name}")
            s.observe(self._on_slider, names="value")
        self.model_pick = w.Dropdown(options=list(MODELS), value="OW",
                                     description="E under model", style=style, layout=lay)
        self.model_pick.add_class("ts-tr-model")
        self.model_pick.observe(self._on_slider, names="value")
        self.numbers = w.HTML()
        self.numbers.add_class("ts-tr-numbers")
        self.message = w.HTML()
        self.message.add_class("ts-tr-message")

        names = list(MODEL_OF)
        self.src_hold = {nm: ColumnDataSource({"t": [], "x": []}) for nm in names}
        self.src_kids = {nm: ColumnDataSource({"t": [], "n": []}) for nm in names}
        self.src_risk = ColumnDataSource({"std": [], "E": [], "name": [], "color": []})
        self.src_family = ColumnDataSource({"std": [], "E": []})
        self.src_real = ColumnDataSource({"name": [], "cost": [], "color": []})
        self.src_mean = ColumnDataSource({"name": [], "mean": [], "lo": [], "hi": []})
        self.src_model = ColumnDataSource({"name": [], "E": []})

        tools = "pan,wheel_zoom,reset,save"
        f1 = figure(width=560, height=300, title="Holdings x(t) (units)", x_axis_label="t (s)",
                    y_axis_label="units held", tools=tools)
        f2 = figure(width=560, height=300, title="Child orders n_k", x_axis_label="t (s)",
                    y_axis_label="units per child", tools=tools)
        for nm in names:
            c = COLORS[nm]
            dash = "dashed" if nm in ("TWAP", "VWAP") else "solid"
            f1.step("t", "x", source=self.src_hold[nm], mode="after", color=c, line_width=2,
                    line_dash=dash, legend_label=nm)
            f2.line("t", "n", source=self.src_kids[nm], color=c, line_width=2, line_dash=dash,
                    legend_label=nm)
            f2.scatter("t", "n", source=self.src_kids[nm], color=c, size=6)
        for f in (f1, f2):
            f.legend.label_text_font_size = "9px"
            f.legend.location = "top_right"
            f.legend.background_fill_alpha = 0.6
        f3 = figure(width=560, height=300, title="Expected cost against risk (bps)",
                    x_axis_label="sqrt(V) (bps)", y_axis_label="E (bps)", tools=tools)
        f3.line("std", "E", source=self.src_family, color="#1f77b4", line_width=3, alpha=0.8,
                legend_label="AC optima over λ")
        f3.scatter("std", "E", source=self.src_risk, size=14, color="color", line_color="black",
                   legend_field="name")
        f3.legend.label_text_font_size = "9px"
        f3.legend.location = "top_right"
        self.f4_range = FactorRange(factors=names)
        f4 = figure(width=560, height=300, x_range=self.f4_range, tools=tools,
                    title="Replayed on the Binance book with impact: realised cost (bps, ex fees)",
                    y_axis_label="bps of arrival notional")
        f4.scatter(x=jitter("name", width=0.5, range=self.f4_range), y="cost",
                   source=self.src_real, color="color", size=6, alpha=0.55,
                   legend_label="one start time")
        f4.segment(x0="name", y0="lo", x1="name", y1="hi", source=self.src_mean, color="black",
                   line_width=2, legend_label="mean ± 2 se")
        f4.scatter(x="name", y="mean", source=self.src_mean, color="black", size=9,
                   marker="diamond", legend_label="mean ± 2 se")
        f4.scatter(x="name", y="E", source=self.src_model, color="#ff7f0e", size=26,
                   marker="dash", line_width=4, legend_label="model E (own model)")
        f4.xaxis.major_label_orientation = 0.6
        f4.legend.label_text_font_size = "9px"
        f4.legend.background_fill_alpha = 0.6
        for f in (f1, f2, f3, f4):
            f.toolbar.logo = None
        self.figures = (f1, f2, f3, f4)

        self.replay_pick = w.SelectMultiple(options=[*names, "POV"], value=tuple(names),
                                            rows=7, description="replay", style=style,
                                            layout=w.Layout(width="300px"))
        self.replay_button = w.Button(description="Replay on the Binance book", icon="play",
                                      layout=w.Layout(width="260px"))
        self.replay_button.add_class("ts-tr-replay-button")
        self.replay_button.on_click(self._on_replay)
        self.replay_text = w.HTML()
        self.replay_text.add_class("ts-tr-replay")
        self.formulas = w.HTMLMath(value=_FORMULAS)
        # Fill the sources first, then wrap the layout: jupyter_bokeh's BokehModel sends the
        # document as it is when created (its render_bundle) and later changes as patch
        # messages, which reach only views that already exist. A widget created before its
        # data (and displayed later, as Voila does for every output) shows empty sources:
        # "could not set initial ranges", a frame with no axes and no glyphs.
        self.recompute()
        if replay_on_start:
            self.run_replay()
        self.plot = bokeh_widget(column(row(f1, f2), row(f3, f4)))
        left = w.VBox([w.HTML("<b>Order and impact</b>"), *self.sliders.values(),
                       self.model_pick, self.formulas], layout=w.Layout(width="460px"))
        right = w.VBox([self.message, self.numbers, self.plot,
                        w.HBox([self.replay_pick, w.VBox([self.replay_button, self.replay_text])])],
                       layout=w.Layout(flex="1 1 auto", min_width="600px"))
        self.widget = w.HBox([left, right], layout=w.Layout(width="100%"))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- state ----------------------------------------------------------------------------
    def _profile(self, horizon: float, periods: int) -> np.ndarray:
        """VWAP's profile: the mean over every complete window of the recording."""
        tp = self.tape
        start = math.floor(tp.duration_s / horizon) * horizon
        return volume_profile(tp.trade_t_s, tp.trade_qty, start, horizon, periods, earliest=0.0)

    def current_state(self) -> TransientState:
        """The state for the sliders (raises ValueError on an invalid combination)."""
        v = {k: s.value for k, s in self.sliders.items()}
        return compute_state(self.base, mid=self.mid, notional=float(v["notional"]),
                             horizon=float(v["horizon"]), periods=int(v["periods"]),
                             resilience=float(v["resilience"]),
                             impact_exponent=float(v["impact_exponent"]),
                             kernel_exponent=float(v["kernel_exponent"]),
                             risk_aversion=float(v["risk_aversion"]), profile=self._profile)

    def _on_slider(self, _change: dict[str, Any]) -> None:
        self.recompute()

    def recompute(self) -> TransientState | None:
        """Recompute from the sliders and push to the plots; returns the new state."""
        try:
            st = self.current_state()
        except (ValueError, RuntimeError) as e:
            self.error = str(e)
            self.message.value = ("<div style='color:#b00;font-weight:bold'>invalid parameters: "
                                  f"{html.escape(str(e))}</div>")
            return None
        self.error = ""
        self.message.value = "".join(f"<div style='color:#a60'>{html.escape(n)}</div>"
                                     for n in st.notes)
        self.state = st
        self._push(st)
        self.updates += 1
        for fn in self.on_change:
            fn(st)
        return st

    def _push(self, st: TransientState) -> None:
        ref = self.model_pick.value
        for nm in MODEL_OF:
            s = st.schedules.get(nm)
            if s is None:
                self.src_hold[nm].data = {"t": [], "x": []}
                self.src_kids[nm].data = {"t": [], "n": []}
                continue
            t = [*s.times.tolist(), s.horizon]
            self.src_hold[nm].data = {"t": t, "x": s.holdings.tolist()}
            self.src_kids[nm].data = {"t": s.times.tolist(), "n": s.sizes.tolist()}
        names = list(st.schedules)
        fam = st.family or {}
        ok = np.isfinite(fam.get(ref, np.zeros(0)))
        self.src_family.data = {"std": [st.bps(v) for v in fam.get("sqrtV", np.zeros(0))[ok]],
                                "E": [st.bps(v) for v in fam.get(ref, np.zeros(0))[ok]]}
        self.src_risk.data = {
            "std": [st.bps(st.expected[n]["sqrtV"]) for n in names],
            "E": [st.bps(st.expected[n][ref]) for n in names],
            "name": names, "color": [COLORS[n] for n in names]}
        self.numbers.value = self._numbers_html(st, ref)

    def _numbers_html(self, st: TransientState, ref: str) -> str:
        rows = []
        for n, e in st.expected.items():
            cells = "".join(
                f"<td class='ts-num ts-E-{m}'>{st.bps(e[m]):.3f}</td>" if math.isfinite(e[m])
                else f"<td class='ts-num ts-E-{m}'>n/a</td>" for m in MODELS)
            rows.append(f"<tr><td style='color:{COLORS[n]}'><b>{n}</b></td>{cells}"
                        f"<td class='ts-num ts-sqrtV'>{st.bps(e['sqrtV']):.3f}</td>"
                        f"<td class='ts-num'>{st.schedules[n].children}</td></tr>")
        m = st.models
        best = min(st.expected, key=lambda n: st.expected[n][ref])
        return (
            "<style>.ts-tr-table td, .ts-tr-table th, .ts-tr-replay td, .ts-tr-replay th "
            "{padding: 1px 8px; text-align: right}</style>"
            "<table class='ts-tr-table' style='border-collapse:collapse'>"
            "<tr><th style='text-align:left'>schedule (bps of notional)</th>"
            + "".join(f"<th>E {k}</th>" for k in MODELS)
            + "<th>sqrt V</th><th>children</th></tr>" + "".join(rows) + "</table>"
            f"<div class='ts-tr-summary'>X = <b class='ts-X'>{m.size:.4g}</b> units "
            f"({_money(st.notional)} at {st.mid:,.2f}) &middot; q = {m.ow.depth:.3g} "
            f"units/price &middot; γ = {m.ac.gamma:.3g} (permanent share "
            f"{m.permanent_share:.2f}) &middot; κ_OW = {m.ow.kappa:.3g} &middot; "
            f"cheapest under {ref}: <b class='ts-best'>{html.escape(best)}</b> "
            f"({st.bps(st.expected[best][ref]):.3f} bps) &middot; kernel: "
            f"<span class='ts-tr-check'>{html.escape(st.manipulation.message)}</span></div>")

    # -- the replay -----------------------------------------------------------------------
    def run_replay(self, every_s: float | None = None) -> ReplayComparison:
        """Replay the chosen schedules (impact-aware) from start times ``every_s`` apart."""
        if self.error:
            raise ValueError(f"the sliders' parameters are invalid: {self.error}")
        st = self.state if self.state is not None else self.current_state()
        every = self.every_s if every_s is None else float(every_s)
        t0 = time.perf_counter()
        m = st.models
        chosen = list(self.replay_pick.value) or list(st.schedules)
        specs: dict[str, Any] = {}
        data_driven = standard_schedules(m)
        for nm in chosen:
            if nm in ("VWAP", "POV"):
                specs[nm] = data_driven[nm]
            elif nm in st.schedules:
                specs[nm] = st.schedules[nm]
        starts = replay_starts(self.tape, m.horizon, every)
        if starts.size == 0:
            raise ValueError(f"T = {m.horizon:g} s leaves no start time in the "
                             f"{self.tape.duration_s:.0f} s recording")
        impact = ReplayImpact(ExponentialKernel(m.ow.resilience), m.ac.gamma, m.ow.depth)
        cmp = replay_many(self.tape, specs, starts, impact, side="buy", models=m)
        self.comparison = cmp
        self.replays += 1
        self._push_replay(cmp, time.perf_counter() - t0)
        return cmp

    def _push_replay(self, cmp: ReplayComparison, secs: float) -> None:
        names = list(cmp.names)
        self.f4_range.factors = names
        xs: list[Any] = []
        ys: list[float] = []
        cs: list[str] = []
        for nm in names:
            c = cmp.costs_bps(nm, "shortfall_ex_fees")
            xs += [nm] * c.size
            ys += c.tolist()
            cs += [COLORS.get(nm, "#333333")] * c.size
        tab = cmp.table()
        self.src_real.data = {"name": xs, "cost": ys, "color": cs}
        self.src_mean.data = {"name": names, "mean": tab["mean"].tolist(),
                              "lo": (tab["mean"] - 2 * tab["se"]).tolist(),
                              "hi": (tab["mean"] + 2 * tab["se"]).tolist()}
        self.src_model.data = {"name": names,
                               "E": [float(tab[MODEL_OF.get(n, "OW")][n]) for n in names]}
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td>"
            f"<td class='ts-num ts-real-mean'>{tab['mean'][n]:.2f}</td>"
            f"<td class='ts-num'>{tab['se'][n]:.2f}</td><td class='ts-num'>{tab['sd'][n]:.2f}</td>"
            f"<td class='ts-num'>{tab['impact'][n]:.2f}</td>"
            f"<td class='ts-num'>{tab['impact_untouched'][n]:.2f}</td>"
            f"<td class='ts-num'>{tab[MODEL_OF.get(n, 'OW')][n]:.2f}</td>"
            f"<td class='ts-num'>{tab['sqrtV'][n]:.2f}</td></tr>"
            for n in names)
        self.replay_text.value = (
            f"<div class='ts-tr-replay-status'>replayed {len(names)} schedules × "
            f"{cmp.starts_s.size} start times in {secs:.1f} s "
            f"(refill ρ = {cmp.impact.kernel.rate:.3g}/s)</div>"  # type: ignore[attr-defined]
            "<table style='border-collapse:collapse;font-size:90%'><tr><th>schedule</th>"
            "<th>mean</th><th>se</th><th>sd</th><th>impact</th><th>untouched</th>"
            "<th>model E</th><th>sqrt V</th></tr>" + rows + "</table>")

    def _on_replay(self, _button: Any) -> None:
        try:
            self.replay_text.value = "<i>replaying…</i>"
            self.run_replay()
        except (ValueError, RuntimeError) as e:
            self.replay_text.value = (f"<span style='color:#b00'>cannot replay: "
                                      f"{html.escape(str(e))}</span>")


_FORMULAS = r"""
<div style="font-size:88%">
<p>Trade $n_i$ at $t_i$, $\sum n_i = X$; hold $x_j$ until $t_{j+1}$:
$V = \sigma^2\sum_j (t_{j+1}-t_j)x_j^2$.</p>
<p><b>Transient impact</b> (Gatheral 2010): $E = \epsilon X + \tfrac12\sum_{i,j}G(|t_i-t_j|)n_in_j$,
$G(t) = \gamma + \kappa\,g(t)$. Optimum: $n \propto \Gamma^{-1}\mathbf 1$ (with $\lambda V$: one KKT solve).</p>
<p><b>Obizhaeva-Wang</b>: $g = e^{-\rho t}$, $\kappa = 1/q-\gamma$; blocks
$x_0 = x_N = X/((N-1)(1-a)+2)$, $x_n = (1-a)x_0$, $a = e^{-\rho\tau}$.</p>
<p><b>Propagator</b> (Bouchaud et al. 2004): $G(t) = q^{-1}(1+t/\tau_0)^{-\beta}$;
no manipulation when $g$ is convex and decreasing (Alfonsi-Schied-Slynko 2012).</p>
<p><b>Almgren-Chriss</b>: $E = \epsilon X + \tfrac12\gamma X^2 + \tfrac{\tilde\eta}{\tau}\sum n_k^2$,
$\eta = \tau/(2q)$. <b>Almgren 2003</b>: $h(v) = \eta v^{\beta_h}$, solved by Newton.</p>
<p><b>Replay</b>: later books shift by $\gamma\sum n$, their front $\sum (1-\gamma q)n_ie^{-\rho(t-t_i)}$
stays taken.</p>
</div>
"""
