"""Notebook 04 in Voila, in headless Chromium: the net-cost curve of the two order types
draws on its log axis and still draws after a pan."""

from __future__ import annotations

import pytest
from bokeh_figures import pan, wait_drawn

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NB = "04_slippage_and_maker_taker_models"
NET = "net-cost-of-a-buy-end-of-the-binance-recording"
COLOURS = {NET: {"market": ("#d62728", 1.0), "passive, then cross": ("#1f77b4", 1.0)}}
MIN_COLOUR = {NET: {"market": 300, "passive, then cross": 300}}


def test_net_cost_curves_draw_and_pan(voila, page):
    srv = voila(f"{NB}.ipynb")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(srv.url, timeout=180_000)
    page.get_by_text("at $100,000: market").wait_for(timeout=180_000)
    load = wait_drawn(page, NB, "load", expect=[NET], colours=COLOURS, min_colour=MIN_COLOUR)
    # six order sizes from $1,000 to $3,000,000 on a log axis: decade labels, all positive
    x0, x1 = load[NET].x_range
    assert 0 < x0 < 1e3 and x1 > 3e6, load[NET].x_range
    pan(page, NET, 80)  # to the right: the curve stays in the frame
    wait_drawn(page, NB, "panned", expect=[NET], colours=COLOURS, min_colour=MIN_COLOUR,
               changed_from=load, must_change=[NET])
    assert not page.js_errors, page.js_errors
