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

__all__ = ["DepthView", "cumulative_depth", "step_points"]


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


def step_points(px: np.ndarray, cum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corner points of the depth staircase of one side, levels given best first.

    Between a level and the next one further from the mid, the depth is the cumulative size
    up to the nearer level: :math:`D(x) = D(p_k)` for :math:`x` between :math:`p_k` and
    :math:`p_{k+1}`. Returns ``(x, y)`` of ``2n - 1`` points in the order given.
    """
    px = np.asarray(px, dtype=np.float64)
    cum = np.asarray(cum, dtype=np.float64)
    if px.shape != cum.shape or px.ndim != 1:
        raise ValueError(f"px and cum must be 1-d of one shape, got {px.shape} and {cum.shape}")
    n = px.size
    if n == 0:
        return px.copy(), cum.copy()
    x = np.empty(2 * n - 1)
    y = np.empty(2 * n - 1)
    x[0::2] = px
    y[0::2] = cum
    x[1::2] = px[1:]
    y[1::2] = cum[:-1]
    return x, y


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
        # one source for both sides (one update message a frame); the shorter side is
        # padded by repeating its last corner point
        self.view = SnapshotView(["bx", "by", "ax", "ay"])
        kw: dict[str, Any] = {"height": height, "title": title, "tools": "pan,wheel_zoom,reset",
                              "x_axis_label": "price", "y_axis_label": "cumulative size (base)"}
        if width is None:
            kw["sizing_mode"] = "stretch_width"
        else:
            kw["width"] = width
        fig = figure(**kw)
        # Steps are drawn from explicit corner points (line + varea): BokehJS 3.9's
        # ``varea_step`` with an empty source froze the browser tab (measured in Voila).
        for side, color, name in (("b", "#2ca02c", "bids"), ("a", "#d62728", "asks")):
            fig.varea(x=f"{side}x", y1=0, y2=f"{side}y", source=self.view.source,
                      fill_color=color, fill_alpha=0.25)
            fig.line(x=f"{side}x", y=f"{side}y", source=self.view.source, color=color,
                     line_width=2, legend_label=name)
        fig.legend.location = "top_center"
        fig.toolbar.logo = None
        self.figure = fig
        self.last: dict[str, np.ndarray] = {}

    def update(self, book: OrderBook) -> None:
        """Take the book's current depth (cheap; sent at the next :meth:`flush`)."""
        d = cumulative_depth(book, self.levels)
        self.last = d
        bx, by = step_points(d["bid_px"], d["bid_cum"])
        ax, ay = step_points(d["ask_px"], d["ask_cum"])
        n = max(bx.size, ax.size)
        self.view.set(bx=_pad(bx, n), by=_pad(by, n), ax=_pad(ax, n), ay=_pad(ay, n))

    def flush(self) -> None:
        self.view.flush()


def _pad(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` extended to length ``n`` by repeating its last value (NaN when empty)."""
    if a.size >= n:
        return a
    fill = a[-1] if a.size else np.nan
    return np.concatenate([a, np.full(n - a.size, fill)])
