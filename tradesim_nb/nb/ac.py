r"""The Almgren-Chriss explorer: sliders in, trajectory, trade list and frontier out.

Every number comes from :mod:`tradesim_nb.costs.almgren_chriss` (no maths here):
:func:`~tradesim_nb.costs.almgren_chriss.optimal_execution` for the current :math:`\lambda`,
:func:`~tradesim_nb.costs.almgren_chriss.frontier` for the efficient frontier, and
:func:`~tradesim_nb.costs.almgren_chriss.expected_cost_of` /
:func:`~tradesim_nb.costs.almgren_chriss.variance_of` for the two benchmarks, TWAP
(:math:`\lambda = 0`) and immediate execution (everything in the first period).

The defaults are the worked example of Almgren & Chriss (2000), section 3: a sale of
:math:`X = 10^6` shares at :math:`S_0 = 50` over :math:`T = 5` days, :math:`\sigma = 0.95`
$/share/day^1/2, :math:`\epsilon = 0.0625`, :math:`\eta = 2.5\times10^{-6}`,
:math:`\gamma = 2.5\times10^{-7}`, :math:`\lambda = 10^{-6}`, with :math:`N = 25` periods
instead of the paper's 5 so the curves are smooth.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..costs.almgren_chriss import (
    ACParams,
    ACSolution,
    expected_cost_of,
    frontier,
    optimal_execution,
    twap_holdings,
    variance_of,
)
from .layout import side_by_side
from .stream import bokeh_widget

__all__ = ["ACExplorer", "ACState", "ac_explorer", "ac_monte_carlo", "benchmarks",
           "frontier_grid", "monte_carlo_view"]

#: the paper's example, N=25
DEFAULTS = ACParams(size=1e6, horizon=5.0, periods=25, sigma=0.95, epsilon=0.0625,
                    eta=2.5e-6, gamma=2.5e-7, risk_aversion=1e-6)


@dataclass(frozen=True)
class ACState:
    """Everything the explorer shows for one set of parameters (pure, testable)."""

    params: ACParams
    solution: ACSolution
    twap_cost: float
    twap_std: float
    immediate_cost: float
    immediate_std: float
    frontier_lambda: np.ndarray
    frontier_cost: np.ndarray
    frontier_std: np.ndarray


def frontier_grid(p: ACParams, n: int = 120) -> np.ndarray:
    r"""Risk aversions that trace the whole frontier: 0 and a log grid around the scale
    :math:`\lambda^\ast = \tilde\eta / (\sigma^2 T^2)` where :math:`\kappa T \approx 1`.

    The grid spans :math:`\kappa T` from about :math:`10^{-2}` to :math:`10^{2.5}`, from TWAP to
    almost immediate execution, and always contains ``p.risk_aversion`` when it is > 0.
    """
    if int(n) != n or n < 2:
        raise ValueError(f"n={n!r} must be an integer >= 2")
    if p.sigma == 0:
        return np.array([0.0])
    lam_star = p.eta_tilde / (p.sigma**2 * p.horizon**2)
    grid = lam_star * np.logspace(-4, 5, int(n) - 1)
    lam = np.concatenate([[0.0], grid])
    if p.risk_aversion > 0:
        lam = np.union1d(lam, [p.risk_aversion])
    return np.asarray(lam[lam > p.min_risk_aversion], dtype=np.float64)


def benchmarks(p: ACParams) -> dict[str, tuple[float, float]]:
    r"""``{"twap": (E, sqrt V), "immediate": (E, sqrt V)}`` by the direct sums of eq. 8.

    Immediate execution sells :math:`X` in the first period: :math:`n_1 = X`,
    :math:`x_k = 0` for :math:`k \ge 1`, so :math:`V = 0` and
    :math:`E = \tfrac12\gamma X^2 + \epsilon X + \tilde\eta X^2/\tau`.
    """
    x_twap = twap_holdings(p)
    n_twap = -np.diff(x_twap)
    x_imm = np.zeros(p.periods + 1)
    x_imm[0] = p.size
    n_imm = np.zeros(p.periods)
    n_imm[0] = p.size
    return {
        "twap": (expected_cost_of(p, n_twap), math.sqrt(variance_of(p, x_twap))),
        "immediate": (expected_cost_of(p, n_imm), math.sqrt(variance_of(p, x_imm))),
    }


def compute_state(p: ACParams, n_frontier: int = 120) -> ACState:
    """The solution, the benchmarks and the frontier for ``p``."""
    sol = optimal_execution(p)
    b = benchmarks(p)
    lam = frontier_grid(p, n_frontier)
    e, v = frontier(p, lam)
    return ACState(p, sol, b["twap"][0], b["twap"][1], b["immediate"][0], b["immediate"][1],
                   lam, np.asarray(e), np.sqrt(np.maximum(np.asarray(v), 0.0)))


def _fmt_money(x: float) -> str:
    return f"${x:,.0f}" if math.isfinite(x) else "n/a"


class ACExplorer:
    r"""Sliders for :math:`X, T, N, \sigma, \epsilon, \eta, \gamma, \lambda`; plots and numbers.

    Use :func:`ac_explorer` to build one. The state shown is :attr:`state` (an
    :class:`ACState`); :attr:`on_change` callbacks get it after every recomputation.
    Invalid combinations (e.g. :math:`\tilde\eta \le 0`) are reported on screen, not raised.
    """

    def __init__(self, params: ACParams = DEFAULTS, n_frontier: int = 120) -> None:
        import ipywidgets as w
        from bokeh.layouts import column, row
        from bokeh.models import ColumnDataSource, DataRange1d
        from bokeh.plotting import figure

        self.n_frontier = n_frontier
        self.params = params
        self.error = ""
        self.updates = 0
        self.on_change: list[Callable[[ACState], None]] = []
        style = {"description_width": "150px"}
        lay = w.Layout(width="420px")

        def fs(desc: str, value: float, lo: float, hi: float, step: float,
               fmt: str = ".3g") -> Any:
            return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc,
                                 readout_format=fmt, style=style, layout=lay,
                                 continuous_update=False)

        def ls(desc: str, value: float, lo_exp: float, hi_exp: float) -> Any:
            return w.FloatLogSlider(value=value, base=10, min=lo_exp, max=hi_exp, step=0.1,
                                    description=desc, readout_format=".2e", style=style,
                                    layout=lay, continuous_update=False)

        self.sliders: dict[str, Any] = {
            "size": ls("X (shares)", params.size, 4, 8),
            "horizon": fs("T (days)", params.horizon, 0.5, 20.0, 0.5, ".1f"),
            "periods": w.IntSlider(value=params.periods, min=1, max=200, step=1,
                                   description="N (periods)", style=style, layout=lay,
                                   continuous_update=False),
            "sigma": fs("σ ($/share/√day)", params.sigma, 0.0, 3.0, 0.05, ".2f"),
            "epsilon": fs("ε ($/share)", params.epsilon, 0.0, 0.5, 0.0125, ".4f"),
            "eta": ls("η ($/share per share/day)", params.eta, -8, -4),
            "gamma": ls("γ ($/share per share)", max(params.gamma, 1e-10), -10, -5),
            "risk_aversion": ls("λ (1/$)", max(params.risk_aversion, 1e-9), -9, -3),
        }
        for name, s in self.sliders.items():
            s.add_class(f"ts-ac-{name}")
            s.observe(self._on_slider, names="value")

        self.numbers = w.HTML()
        self.numbers.add_class("ts-ac-numbers")
        self.message = w.HTML()
        self.message.add_class("ts-ac-message")

        self.src_opt = ColumnDataSource({"t": [], "x": []})
        self.src_twap = ColumnDataSource({"t": [], "x": []})
        self.src_imm = ColumnDataSource({"t": [], "x": []})
        self.src_trades = ColumnDataSource({"t": [], "n": [], "twap": [], "w": []})
        self.src_front = ColumnDataSource({"std": [], "E": []})
        self.src_point = ColumnDataSource({"std": [], "E": [], "label": []})

        f1 = figure(height=260, sizing_mode="stretch_width", title="Holdings x(t)",
                    x_axis_label="t (days)", y_axis_label="shares held", tools="pan,wheel_zoom,reset")
        f1.line("t", "x", source=self.src_opt, color="#1f77b4", line_width=3,
                legend_label="optimal (λ)")
        f1.line("t", "x", source=self.src_twap, color="#7f7f7f", line_dash="dashed",
                line_width=2, legend_label="TWAP (λ=0)")
        f1.step("t", "x", source=self.src_imm, color="#d62728", mode="after",
                line_dash="dotted", line_width=2, legend_label="immediate")
        f2 = figure(height=260, sizing_mode="stretch_width", title="Trade list n_k",
                    x_axis_label="t (days)", y_axis_label="shares sold in period",
                    tools="pan,wheel_zoom,reset")
        self._bars = f2.vbar(x="t", top="n", width="w", source=self.src_trades,
                             color="#1f77b4", alpha=0.7, legend_label="optimal")
        f2.line("t", "twap", source=self.src_trades, color="#7f7f7f", line_dash="dashed",
                legend_label="TWAP")
        # padded ranges: room for the labels beside the end points (the auto-range holds
        # the points only, and cut "immediate" and "TWAP")
        f3 = figure(height=300, sizing_mode="stretch_width",
                    x_range=DataRange1d(range_padding=0.2), y_range=DataRange1d(range_padding=0.2),
                    title="Efficient frontier: E against sqrt(V)",
                    x_axis_label="sqrt(V) ($)", y_axis_label="E ($)", tools="pan,wheel_zoom,reset")
        f3.line("std", "E", source=self.src_front, color="#1f77b4", line_width=2)
        f3.scatter("std", "E", source=self.src_point, size=11, color="#ff7f0e",
                   marker="circle")
        f3.text("std", "E", text="label", source=self.src_point, x_offset=8, y_offset=-4,
                text_font_size="11px")
        for f in (f1, f2, f3):
            f.toolbar.logo = None
        self.figures = (f1, f2, f3)
        # fill the sources before wrapping the figures: the widget's first view then draws
        # the data at once (see stream._lean_bokeh_model for what a later view is given)
        self.state: ACState | None = None
        self.recompute()
        self.plot = bokeh_widget(column(row(f1, f2, sizing_mode="stretch_width"), f3,
                                        sizing_mode="stretch_width"))
        self.mc_button = w.Button(description="Monte Carlo (200 runs)", icon="play",
                                  layout=w.Layout(width="220px"))
        self.mc_button.add_class("ts-ac-mc-button")
        self.mc_button.on_click(self._on_mc)
        self.mc_out = w.Output()
        self.mc_text = w.HTML(layout=w.Layout(flex="1 1 0%", min_width="0"))  # wraps
        self.mc_text.add_class("ts-ac-mc")
        self.mc_result: Any = None
        self.formulas = w.HTMLMath(value=_FORMULAS)
        left = w.VBox([w.HTML("<b>Parameters</b>"), *self.sliders.values(), self.formulas])
        right = w.VBox([self.message, self.numbers, self.plot,
                        w.HBox([self.mc_button, self.mc_text]), self.mc_out])
        self.widget = side_by_side(left, right, inputs_px=440, outputs_min_px=500)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- parameters -----------------------------------------------------------------------
    def current_params(self) -> ACParams:
        """The parameters the sliders show (raises ValueError on an invalid combination)."""
        v = {k: s.value for k, s in self.sliders.items()}
        return replace(self.params, size=float(v["size"]), horizon=float(v["horizon"]),
                       periods=int(v["periods"]), sigma=float(v["sigma"]),
                       epsilon=float(v["epsilon"]), eta=float(v["eta"]),
                       gamma=float(v["gamma"]), risk_aversion=float(v["risk_aversion"]))

    def run_monte_carlo(self, n_runs: int = 200, seed: int = 0) -> Any:
        """Run :func:`ac_monte_carlo` for the current parameters and show the histogram."""
        from IPython.display import display

        p = self.current_params()
        self.mc_text.value = "<i>running…</i>"
        res = ac_monte_carlo(p, n_runs, seed)
        self.mc_result = res
        self.mc_text.value = (
            f"realised mean <b>{_fmt_money(res.mean)}</b> ± {_fmt_money(res.std_error_mean)}"
            f" (model E {_fmt_money(res.expected_cost)}, z = {res.z_mean:+.2f}) · realised sd "
            f"<b>{_fmt_money(math.sqrt(res.variance))}</b> (model sqrt V "
            f"{_fmt_money(math.sqrt(res.model_variance))}, ratio V {res.variance_ratio:.2f} ± "
            f"{res.std_error_variance / res.model_variance:.2f})")
        self.mc_out.clear_output()
        with self.mc_out:
            display(bokeh_widget(monte_carlo_view(res)))
        return res

    def _on_mc(self, _button: Any) -> None:
        try:
            self.run_monte_carlo()
        except ValueError as e:
            self.mc_text.value = (f"<span style='color:#b00'>cannot simulate these parameters: "
                                  f"{html.escape(str(e))}</span>")

    def _on_slider(self, change: dict[str, Any]) -> None:
        self.recompute()

    def recompute(self) -> ACState | None:
        """Recompute from the sliders and push to the plots; returns the new state."""
        try:
            p = self.current_params()
            st = compute_state(p, self.n_frontier)
        except ValueError as e:
            self.error = str(e)
            self.message.value = ("<div style='color:#b00;font-weight:bold'>invalid parameters: "
                                  f"{html.escape(str(e))}</div>")
            return None
        self.error = ""
        self.message.value = ""
        self.params = p
        self.state = st
        self._push(st)
        self.updates += 1
        for fn in self.on_change:
            fn(st)
        return st

    def _push(self, st: ACState) -> None:
        p, sol = st.params, st.solution
        t = np.asarray(sol.times, dtype=float)
        self.src_opt.data = {"t": t.tolist(), "x": np.asarray(sol.holdings).tolist()}
        self.src_twap.data = {"t": t.tolist(), "x": twap_holdings(p).tolist()}
        x_imm = np.zeros(p.periods + 1)
        x_imm[0] = p.size
        self.src_imm.data = {"t": t.tolist(), "x": x_imm.tolist()}
        mids = (t[:-1] + t[1:]) / 2
        self.src_trades.data = {"t": mids.tolist(),
                                "n": np.asarray(sol.trade_list).tolist(),
                                "twap": [p.size / p.periods] * p.periods,
                                "w": [0.8 * p.tau] * p.periods}
        self.src_front.data = {"std": st.frontier_std.tolist(), "E": st.frontier_cost.tolist()}
        self.src_point.data = {"std": [sol.std, st.twap_std, st.immediate_std],
                               "E": [sol.expected_cost, st.twap_cost, st.immediate_cost],
                               "label": ["current λ", "TWAP", "immediate"]}
        self.numbers.value = self._numbers_html(st)

    def _numbers_html(self, st: ACState) -> str:
        sol = st.solution
        hl = sol.half_life
        hl_txt = "∞ (TWAP)" if not math.isfinite(hl) else f"{hl:.3g} days"
        rows = [
            ("optimal (current λ)", sol.expected_cost, sol.std, sol.expected_cost + sol.std),
            ("TWAP (λ = 0)", st.twap_cost, st.twap_std, st.twap_cost + st.twap_std),
            ("immediate", st.immediate_cost, st.immediate_std, st.immediate_cost),
        ]
        body = "".join(
            f"<tr><td>{name}</td><td class='ts-num'>{_fmt_money(e)}</td>"
            f"<td class='ts-num'>{_fmt_money(s)}</td><td class='ts-num'>{_fmt_money(es)}</td></tr>"
            for name, e, s, es in rows)
        return (
            "<table class='ts-ac-table' style='border-collapse:collapse'>"
            "<tr><th style='text-align:left'>schedule</th><th>E (expected cost)</th>"
            "<th>sqrt V</th><th>E + sqrt V</th></tr>" + body + "</table>"
            f"<div class='ts-ac-summary'>E = <b class='ts-E'>{_fmt_money(sol.expected_cost)}</b>"
            f" &middot; sqrt V = <b class='ts-std'>{_fmt_money(sol.std)}</b>"
            f" &middot; half-life 1/κ = <b class='ts-halflife'>{hl_txt}</b>"
            f" &middot; κ = {sol.kappa:.4g}/day, regime {sol.regime}"
            f" &middot; E + λV = {_fmt_money(sol.objective)}"
            f" &middot; 95% L-VaR = {_fmt_money(sol.cost_at_confidence(0.95))}</div>"
        )


_FORMULAS = r"""
<div style="font-size:90%">
<p>Sell $X$ in $N$ periods of $\tau = T/N$; hold $x_k$, sell $n_k = x_{k-1}-x_k$.</p>
<p>$E = \tfrac12\gamma X^2 + \epsilon\sum|n_k| + \tfrac{\tilde\eta}{\tau}\sum n_k^2$,
$\ V = \sigma^2\sum \tau x_k^2$, $\ \tilde\eta = \eta - \tfrac12\gamma\tau$</p>
<p>minimise $E + \lambda V$: $\ x_j = X\,\frac{\sinh(\kappa(T-t_j))}{\sinh(\kappa T)}$,
$\ \cosh(\kappa\tau) = 1 + \tfrac{\lambda\sigma^2\tau^2}{2\tilde\eta}$, half-life $1/\kappa$.</p>
</div>
"""


def ac_explorer(**params: Any) -> ACExplorer:
    """Build the explorer; keyword arguments override the defaults (fields of ACParams).

    Examples
    --------
    >>> ex = ac_explorer(periods=50, risk_aversion=2e-6)   # doctest: +SKIP
    >>> ex                                                  # doctest: +SKIP
    """
    p = replace(DEFAULTS, **params) if params else DEFAULTS
    return ACExplorer(p)


def ac_monte_carlo(p: ACParams, n_runs: int = 200, seed: int = 0) -> Any:
    r"""Realised shortfall of the optimal schedule of ``p`` on the synthetic market, ``n_runs`` times.

    The market (:class:`tradesim_nb.market.SyntheticMarket`) has the same :math:`\sigma,
    \epsilon, \eta, \gamma` and period :math:`\tau = T/N` as ``p``; every child order walks
    its book. Returns :class:`tradesim_nb.execution.MonteCarloResult` (realised mean and
    variance with standard errors beside the model's :math:`E` and :math:`V`; the model's
    :math:`E` there includes the book's known tick bias).
    """
    from ..execution import ac_schedule, monte_carlo
    from ..market import MarketParams

    if int(n_runs) != n_runs or n_runs < 2:
        raise ValueError(f"n_runs={n_runs!r} must be an integer >= 2")
    # no background flow: the mid's noise is the diffusion sigma alone, as in the model
    mp = MarketParams(sigma=p.sigma, tau=p.tau, epsilon=p.epsilon, eta=p.eta, gamma=p.gamma,
                      mean_trade_size=0.0)
    return monte_carlo(ac_schedule(p), mp, range(seed, seed + int(n_runs)))


def monte_carlo_view(result: Any, title: str = "Realised cost on the synthetic market") -> Any:
    """A Bokeh histogram of the realised costs with the model's E and E ± sqrt(V) marked."""
    from bokeh.models.annotations import Span
    from bokeh.plotting import figure

    costs = np.asarray(result.costs, dtype=float)
    counts, edges = np.histogram(costs, bins=max(10, min(40, costs.size // 5)))
    f = figure(height=280, sizing_mode="stretch_width", title=title, x_axis_label="cost ($)",
               y_axis_label="runs", tools="pan,wheel_zoom,reset")
    f.quad(left=edges[:-1], right=edges[1:], top=counts, bottom=0, fill_color="#1f77b4",
           fill_alpha=0.6, line_color="white", legend_label=f"{costs.size} runs")
    e, sd = result.expected_cost, math.sqrt(result.model_variance)
    for x, dash, color in ((e, "solid", "#d62728"), (e - sd, "dashed", "#d62728"),
                           (e + sd, "dashed", "#d62728"), (result.mean, "solid", "#2ca02c")):
        f.add_layout(Span(location=x, dimension="height", line_color=color, line_dash=dash,
                          line_width=2))
    f.toolbar.logo = None
    return f
