"""Notebook 03 in Voila, in headless Chromium: the calibration explorer's plot draws (points,
intervals, axes) and redraws with the new fit when the sample size moves."""

from __future__ import annotations

import time

import pytest
from bokeh_figures import wait_drawn

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NB = "03_calibrate_eta_gamma"
FIT = "estimate-truth-with-95-interval-1-exact"
#: the estimates and their intervals are blue, the truth (ratio 1) a red dashed line
COLOURS = {FIT: {"estimates": ("#1f77b4", 1.0), "truth": ("#d62728", 1.0)}}
MIN_COLOUR = {FIT: {"estimates": 400, "truth": 60}}  # the truth: a 1-px dashed line


def test_calibration_explorer_draws_and_refits(voila, page):
    srv = voila(f"{NB}.ipynb")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(srv.url, timeout=120_000)
    eta = page.locator(".ts-cal-table .ts-cal-eta")
    eta.wait_for(state="visible", timeout=120_000)
    load = wait_drawn(page, NB, "load", expect=[FIT], colours=COLOURS, min_colour=MIN_COLOUR,
                      min_ink=800)
    # the categorical axis names the three parameters
    assert sorted(load[FIT].tick_labels["y"]) == ["epsilon", "eta", "gamma"]
    eta0 = eta.inner_text()

    handle = page.locator(".ts-cal-n .noUi-handle")
    handle.focus()
    for _ in range(5):
        handle.press("ArrowLeft")  # 500 -> 400 parent orders: another sample, another fit
    text = page.locator(".ts-cal-text")
    t_end = time.monotonic() + 30
    while "400 TWAP parent orders" not in text.inner_text() and time.monotonic() < t_end:
        time.sleep(0.25)
    assert "400 TWAP parent orders" in text.inner_text()
    assert eta.inner_text() != eta0, eta0
    wait_drawn(page, NB, "moved", expect=[FIT], colours=COLOURS, min_colour=MIN_COLOUR,
               min_ink=800, changed_from=load, must_change=[FIT])
    assert not page.js_errors, page.js_errors
