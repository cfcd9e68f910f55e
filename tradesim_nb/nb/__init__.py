"""Notebook dashboards (ipywidgets + Bokeh through jupyter_bokeh).

Importing this package loads bokeh and ipywidgets; ``import tradesim_nb`` never does.

* :func:`setup_notebook` — load BokehJS inline (offline-safe); call once per notebook.
* :func:`ac_explorer` — Almgren-Chriss sliders, trajectory, trade list, frontier.
* :func:`trade_cost_dashboard` — live book → cost estimate per tick, streaming plots.
* :func:`calibration_explorer` — true η, γ → simulated parent orders → fit with intervals.
* :class:`BookReplay` — a recording replayed through the real parser into a depth chart.
* :mod:`~tradesim_nb.nb.stream` — the plumbing: UI-rate throttle, own-buffer stream views.
"""

from __future__ import annotations

from .ac import ACExplorer, ac_explorer
from .book_replay import BookReplay
from .calibration import CalibrationExplorer, calibration_explorer
from .depth import DepthView, cumulative_depth
from .stream import ColumnBuffer, SnapshotView, StreamView, UiThrottle, bokeh_widget, setup_notebook
from .trade_cost import TradeCostDashboard, trade_cost_dashboard

__all__ = [
    "ACExplorer",
    "BookReplay",
    "CalibrationExplorer",
    "ColumnBuffer",
    "DepthView",
    "SnapshotView",
    "StreamView",
    "TradeCostDashboard",
    "UiThrottle",
    "ac_explorer",
    "bokeh_widget",
    "calibration_explorer",
    "cumulative_depth",
    "setup_notebook",
    "trade_cost_dashboard",
]
