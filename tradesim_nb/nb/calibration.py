r"""The calibration explorer: choose the true :math:`\eta, \gamma`, simulate, fit, compare.

Each change of a slider draws ``n_orders`` TWAP parent orders on the synthetic
Almgren-Chriss market (:func:`tradesim_nb.impact.synthetic.calibrate_synthetic`, which runs
:func:`tradesim_nb.execution.simulate_executions` then
:func:`tradesim_nb.impact.fit.fit_ac_records`) and shows the estimates with their 95 %
intervals against the truth. No maths here: the explorer only draws what the core returns.

The point to take away: the interval, not the estimate, is the result. With few orders or a
noisy market the interval is wide; it should cover the truth about 95 % of the time (re-draw
with other seeds to see it fail now and then).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from .layout import side_by_side
from .stream import bokeh_widget

__all__ = ["CalibrationExplorer", "calibration_explorer"]


class CalibrationExplorer:
    """Sliders for the true parameters and the sample; a table and a plot of the fit.

    Attributes
    ----------
    fit : tradesim_nb.impact.ImpactFit
        The latest fit (``summary()``, ``to_frame()``).
    truth : dict
        The true ``eta``, ``gamma`` and ``epsilon`` of the latest simulation.
    """

    def __init__(self, eta: float = 2.5e-6, gamma: float = 2.5e-7, n_orders: int = 500,
                 seed: int = 0, sigma: float = 0.3, flow_share: float = 0.2) -> None:
        import ipywidgets as w
        from bokeh.models import ColumnDataSource, FactorRange
        from bokeh.models.annotations import Span, Whisker
        from bokeh.plotting import figure

        style = {"description_width": "140px"}
        lay = w.Layout(width="420px")
        self.w_eta = w.FloatLogSlider(value=eta, base=10, min=-8, max=-4, step=0.1,
                                      description="true η", readout_format=".2e", style=style,
                                      layout=lay, continuous_update=False)
        self.w_gamma = w.FloatLogSlider(value=gamma, base=10, min=-9, max=-5, step=0.1,
                                        description="true γ", readout_format=".2e",
                                        style=style, layout=lay, continuous_update=False)
        self.w_n = w.IntSlider(value=n_orders, min=20, max=5000, step=20,
                               description="parent orders", style=style, layout=lay,
                               continuous_update=False)
        self.w_n.add_class("ts-cal-n")
        self.w_sigma = w.FloatSlider(value=sigma, min=0.05, max=2.0, step=0.05,
                                     description="σ ($/√day)", style=style, layout=lay,
                                     continuous_update=False)
        self.w_flow = w.FloatSlider(value=flow_share, min=0.0, max=0.9, step=0.05,
                                    description="flow share of var", style=style, layout=lay,
                                    continuous_update=False)
        self.w_seed = w.IntSlider(value=seed, min=0, max=999, step=1, description="seed",
                                  style=style, layout=lay, continuous_update=False)
        for s in (self.w_eta, self.w_gamma, self.w_n, self.w_sigma, self.w_flow, self.w_seed):
            s.observe(self._on_change, names="value")
        self.table = w.HTML()
        self.table.add_class("ts-cal-table")
        self.text = w.HTML()
        self.text.add_class("ts-cal-text")
        self.src = ColumnDataSource({"param": [], "ratio": [], "lo": [], "hi": []})
        params = ["eta", "gamma", "epsilon"]
        f = figure(height=260, sizing_mode="stretch_width", y_range=FactorRange(factors=params),
                   title="estimate / truth with 95% interval (1 = exact)",
                   x_axis_label="ratio to the true value", tools="pan,wheel_zoom,reset")
        # the interval as a glyph (not only the Whisker annotation, which the auto-ranges
        # ignore) so that the x range always holds the whole interval
        f.segment(x0="lo", y0="param", x1="hi", y1="param", source=self.src,
                  line_color="#1f77b4", line_width=2)
        f.scatter("ratio", "param", source=self.src, size=10, color="#1f77b4")
        f.add_layout(Whisker(source=self.src, base="param", lower="lo", upper="hi",
                             dimension="width", line_color="#1f77b4"))
        f.add_layout(Span(location=1.0, dimension="height", line_color="#d62728",
                          line_dash="dashed"))
        f.toolbar.logo = None
        self.figure = f
        self.fit: Any = None
        self.truth: dict[str, float] = {}
        self.fits = 0
        # fit before wrapping the figure: the widget's first view then draws the data at once
        self.refit()
        self.plot = bokeh_widget(f)
        left = w.VBox([w.HTML("<b>Synthetic market and sample</b>"), self.w_eta, self.w_gamma,
                       self.w_sigma, self.w_flow, self.w_n, self.w_seed])
        right = w.VBox([self.text, self.table, self.plot])
        self.widget = side_by_side(left, right, inputs_px=440, outputs_min_px=450)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _on_change(self, change: dict[str, Any]) -> None:
        self.refit()

    def refit(self) -> Any:
        """Simulate and fit with the current sliders; returns the fit (None if invalid)."""
        from ..impact import calibrate_synthetic

        try:
            fit, mp = calibrate_synthetic(
                float(self.w_eta.value), float(self.w_gamma.value), int(self.w_seed.value),
                n_orders=int(self.w_n.value), sigma=float(self.w_sigma.value),
                flow_share=float(self.w_flow.value))
        except ValueError as err:
            self.text.value = f"<span style='color:#b00'>{html.escape(str(err))}</span>"
            return None
        self.fit = fit
        self.truth = {"eta": mp.eta, "gamma": mp.gamma, "epsilon": mp.epsilon}
        self.fits += 1
        rows, ratio, lo, hi, names = [], [], [], [], []
        for name in ("eta", "gamma", "epsilon"):
            e = fit[name]
            t = self.truth[name]
            cov = e.covers(t)
            rows.append(
                f"<tr><td>{name}</td><td class='ts-num'>{t:.4g}</td>"
                f"<td class='ts-num ts-cal-{name}'>{e.estimate:.4g}</td>"
                f"<td class='ts-num'>{e.std_error:.2g}</td>"
                f"<td class='ts-num'>[{e.ci_low:.4g}, {e.ci_high:.4g}]</td>"
                f"<td style='color:{'#2ca02c' if cov else '#d62728'}'>"
                f"{'yes' if cov else 'NO'}</td></tr>")
            if t != 0:
                names.append(name)
                ratio.append(e.estimate / t)
                lo.append(e.ci_low / t)
                hi.append(e.ci_high / t)
        self.table.value = (
            "<table class='ts-cal'><tr><th>param</th><th>truth</th><th>estimate</th>"
            "<th>std err</th><th>95% interval</th><th>covers truth</th></tr>"
            + "".join(rows) + "</table>")
        self.text.value = (f"{fit.n_obs} TWAP parent orders, fitted by {html.escape(fit.method)}"
                           f" ({html.escape(fit.interval)}); "
                           + ", ".join(f"{k} = {v:.3g}" for k, v in fit.goodness))
        self.src.data = {"param": names, "ratio": np.asarray(ratio), "lo": np.asarray(lo),
                         "hi": np.asarray(hi)}
        return fit


def calibration_explorer(**kwargs: Any) -> CalibrationExplorer:
    """Build the explorer (keyword arguments: ``eta, gamma, n_orders, seed, sigma,
    flow_share``, the initial slider values)."""
    return CalibrationExplorer(**kwargs)
