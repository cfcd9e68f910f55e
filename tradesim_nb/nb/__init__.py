"""Notebook dashboards (ipywidgets + Bokeh through jupyter_bokeh).

Importing this package loads bokeh and ipywidgets; ``import tradesim_nb`` never does.

* :func:`setup_notebook` — load BokehJS inline (offline-safe); call once per notebook.
* :class:`BookReplay` — a recording replayed through the real parser into a depth chart.
* :mod:`~tradesim_nb.nb.stream` — the plumbing: UI-rate throttle, own-buffer stream views.
"""

from __future__ import annotations

from .book_replay import BookReplay
from .depth import DepthView, cumulative_depth
from .stream import ColumnBuffer, SnapshotView, StreamView, UiThrottle, bokeh_widget, setup_notebook

__all__ = [
    "BookReplay",
    "ColumnBuffer",
    "DepthView",
    "SnapshotView",
    "StreamView",
    "UiThrottle",
    "bokeh_widget",
    "cumulative_depth",
    "setup_notebook",
]
