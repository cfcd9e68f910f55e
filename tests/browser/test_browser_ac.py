"""Notebook 02 in Voila, in headless Chromium: every plot draws (lines, axes), and moving λ
changes the numbers and redraws the holdings, the trade list and the frontier."""

from __future__ import annotations

import re
import time

import pytest
from bokeh_figures import changed_pixels, resized, wait_drawn

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NB = "02_almgren_chriss_explorer"
HOLD, TRADES, FRONT = "holdings-x-t", "trade-list-n-k", "efficient-frontier-e-against-sqrt-v"
MC_START = "realised-cost-of-the-starting-schedule"
MC_EXPLORER = "realised-cost-on-the-synthetic-market"
#: the glyphs that must be on screen: the optimal schedule's blue, the orange frontier points
COLOURS = {
    HOLD: {"optimal line": ("#1f77b4", 1.0)},
    TRADES: {"optimal bars": ("#1f77b4", 0.7)},
    FRONT: {"frontier line": ("#1f77b4", 1.0), "points": ("#ff7f0e", 1.0)},
    MC_START: {"bars": ("#1f77b4", 0.6)},
    MC_EXPLORER: {"bars": ("#1f77b4", 0.6)},
}
MIN_COLOUR = {HOLD: {"optimal line": 800}, TRADES: {"optimal bars": 3000},
              FRONT: {"frontier line": 800, "points": 150},
              MC_START: {"bars": 5000}, MC_EXPLORER: {"bars": 5000}}


def _money(text: str) -> float:
    m = re.search(r"\$([\d,]+)", text)
    assert m, text
    return float(m.group(1).replace(",", ""))


def test_ac_explorer_plots_draw_and_follow_lambda(voila, page):
    srv = voila(f"{NB}.ipynb")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(srv.url, timeout=90_000)
    numbers = page.locator(".ts-ac-numbers .ts-E")
    numbers.wait_for(state="visible", timeout=90_000)
    assert page.locator(".noUi-handle").count() >= 8  # the eight parameter sliders

    figs = [HOLD, TRADES, FRONT, MC_START]
    load = wait_drawn(page, NB, "load", expect=figs, colours=COLOURS, min_colour=MIN_COLOUR)
    e0 = _money(numbers.inner_text())
    std0 = _money(page.locator(".ts-ac-numbers .ts-std").inner_text())

    handle = page.locator(".ts-ac-risk_aversion .noUi-handle")
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")  # lambda up by 10**0.5
    t_end = time.monotonic() + 20
    e1 = e0
    while time.monotonic() < t_end:
        e1 = _money(numbers.inner_text())
        if e1 != e0:
            break
        time.sleep(0.2)
    std1 = _money(page.locator(".ts-ac-numbers .ts-std").inner_text())
    # more risk aversion: a faster, dearer and less risky schedule
    assert e1 > e0, (e0, e1)
    assert std1 < std0, (std0, std1)
    moved = wait_drawn(page, NB, "moved", expect=figs, colours=COLOURS, min_colour=MIN_COLOUR,
                       changed_from=load, must_change=[HOLD, TRADES, FRONT])
    # the plots keep their size when the numbers beside them change (they did not: the
    # outputs column took the width of its widest line)
    assert not resized(load, moved), resized(load, moved)
    # the starting schedule's histogram does not depend on the sliders: it must not change
    # (the control that shows a changed image means a redraw, not noise)
    assert changed_pixels(load[MC_START], moved[MC_START]) == 0
    # a faster schedule: the optimal holdings fall below the first picture's early on, so
    # the blue line's pixels moved (the frontier's curve stays; its orange point moved)
    assert changed_pixels(load[HOLD], moved[HOLD]) > 500

    # the explorer's own Monte Carlo, for the moved lambda: a new figure that draws
    page.locator(".ts-ac-mc-button button, button.ts-ac-mc-button").first.click()
    page.locator(".ts-ac-mc").get_by_text("realised mean").wait_for(timeout=60_000)
    wait_drawn(page, NB, "monte-carlo", expect=[*figs, MC_EXPLORER], colours=COLOURS,
               min_colour=MIN_COLOUR)
    assert not page.js_errors, page.js_errors
