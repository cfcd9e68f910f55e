"""The order-book depth chart: cumulative depth of each side, as a streamed-to view.

:func:`cumulative_depth` is the pure part (a book -> arrays, tested without Bokeh);
:class:`DepthView` owns one ``ColumnDataSource`` per side and replaces their data at most once
per UI frame (a :class:`~tradesim_nb.nb.stream.SnapshotView` each).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..book import OrderBook
from .stream import SnapshotView

__all__ = ["DepthView", "cumulative_depth"]


def cumulative_depth(book: OrderBook, levels: int = 50) -> dict[str, np.ndarray]:
    """Cumulative size of the best ``levels`` levels of each side, in base currency.

    .. math:: D_{bid}(p_k) = \\sum_{j \\le k} q^{bid}_j, \\qquad
              D_{ask}(p_k) = \\sum_{j \\le k} q^{ask}_j

    with levels ordered best first. Sizes in contracts are converted with the instrument
    (``Instrument.to_base``); without an instrument the venue's units are used.

    Returns
    -------
    dict
        ``bid_px``, ``bid_cum``, ``ask_px``, ``ask_cum`` (best first), float64 arrays.
    """
    if int(levels) != levels or levels < 1:
        raise ValueError(f"levels={levels!r} must be an integer >= 1")
    bp, bs, ap, as_ = book.top(int(levels))
    inst = book.instrument
    if inst is not None and inst.sized_in_contracts:
        bs = np.array([inst.to_base(s, p) for s, p in zip(bs, bp)], dtype=np.float64)
        as_ = np.array([inst.to_base(s, p) for s, p in zip(as_, ap)], dtype=np.float64)
    return {"bid_px": bp, "bid_cum": np.cumsum(bs), "ask_px": ap, "ask_cum": np.cumsum(as_)}


class DepthView:
    """A Bokeh depth chart of one book (bids green, asks red), updated by :meth:`update`.

    Parameters
    ----------
    levels : int
        Levels a side shown.
    title : str
        Figure title.
    height, width : int
        Figure size in pixels (``width=None`` stretches).
    """

    def __init__(self, levels: int = 50, title: str = "Cumulative depth",
                 height: int = 300, width: int | None = None) -> None:
        from bokeh.plotting import figure

        if int(levels) != levels or levels < 1:
            raise ValueError(f"levels={levels!r} must be an integer >= 1")
        self.levels = int(levels)
        self.bids = SnapshotView(["px", "cum"])
        self.asks = SnapshotView(["px", "cum"])
        kw: dict[str, Any] = {"height": height, "title": title, "tools": "pan,wheel_zoom,reset",
                              "x_axis_label": "price", "y_axis_label": "cumulative size (base)"}
        if width is None:
            kw["sizing_mode"] = "stretch_width"
        else:
            kw["width"] = width
        fig = figure(**kw)
        # bids: depth at or above x is the cum of the next (higher) level -> "before"
        fig.varea_step(x="px", y1=0, y2="cum", step_mode="before", source=self.bids.source,
                       fill_color="#2ca02c", fill_alpha=0.25)
        fig.step(x="px", y="cum", mode="before", source=self.bids.source, color="#2ca02c",
                 line_width=2, legend_label="bids")
        fig.varea_step(x="px", y1=0, y2="cum", step_mode="after", source=self.asks.source,
                       fill_color="#d62728", fill_alpha=0.25)
        fig.step(x="px", y="cum", mode="after", source=self.asks.source, color="#d62728",
                 line_width=2, legend_label="asks")
        fig.legend.location = "top_center"
        fig.toolbar.logo = None
        self.figure = fig
        self.last: dict[str, np.ndarray] = {}

    def update(self, book: OrderBook) -> None:
        """Take the book's current depth (cheap; sent at the next :meth:`flush`)."""
        d = cumulative_depth(book, self.levels)
        self.last = d
        # ascending price for the step glyphs
        self.bids.set(px=d["bid_px"][::-1], cum=d["bid_cum"][::-1])
        self.asks.set(px=d["ask_px"], cum=d["ask_cum"])

    def flush(self) -> None:
        self.bids.flush()
        self.asks.flush()
