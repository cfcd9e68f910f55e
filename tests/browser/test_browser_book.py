"""Notebook 00 in Voila, in headless Chromium: both real recordings replay into depth charts
and top-of-book timelines that draw (glyphs and axes), and still draw after a pan."""

from __future__ import annotations

import time

import pytest
from bokeh_figures import pan, wait_drawn

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NB = "00_order_book"
OKX_DEPTH, BN_DEPTH = "okx-btc-usdt-cumulative-depth", "binance-btcusdt-cumulative-depth"
OKX_TOP, BN_TOP = "best-bid-ask-mid-recording-time", "best-bid-ask-mid-recording-time-2"
FIGS = [OKX_DEPTH, OKX_TOP, BN_DEPTH, BN_TOP]
DEPTH_COLOURS = {"bid fill": ("#2ca02c", 0.25), "ask fill": ("#d62728", 0.25)}
#: the timelines' bid, ask and mid lie within a pixel of each other at this scale and blend
#: into one line of mixed colour: they are checked by their ink alone
COLOURS = {OKX_DEPTH: DEPTH_COLOURS, BN_DEPTH: DEPTH_COLOURS}
MIN_COLOUR = {k: {"bid fill": 2000, "ask fill": 2000} for k in (OKX_DEPTH, BN_DEPTH)}


def test_order_book_replays_draw_finish_and_pan(voila, page):
    srv = voila(f"{NB}.ipynb")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(srv.url, timeout=120_000)
    status = page.locator(".ts-replay-status")
    status.first.wait_for(state="visible", timeout=120_000)
    t_end = time.monotonic() + 60
    while time.monotonic() < t_end:
        texts = status.all_inner_texts()
        if len(texts) == 2 and all("done" in t for t in texts):
            break
        time.sleep(0.5)
    texts = status.all_inner_texts()
    assert len(texts) == 2 and all("done" in t for t in texts), texts
    okx, binance = texts
    assert "checksums ok" in okx and "failed 0" in okx, okx
    assert "book not valid" not in okx and "book not valid" not in binance
    # the replays ran while Voila executed the cells, before this page existed: the plots
    # must show the replayed books all the same
    load = wait_drawn(page, NB, "load", expect=FIGS, colours=COLOURS, min_colour=MIN_COLOUR)
    # no widget inputs here: a person drags the plots (the pan tool); they must redraw
    pan(page, OKX_DEPTH, 120)
    pan(page, BN_TOP, -150, 30)
    wait_drawn(page, NB, "panned", expect=FIGS, colours=COLOURS, min_colour=MIN_COLOUR,
               changed_from=load, must_change=[OKX_DEPTH, BN_TOP])
    # the page stays responsive (an empty varea_step once froze BokehJS here)
    assert page.evaluate("1 + 1") == 2
    assert not page.js_errors, page.js_errors
