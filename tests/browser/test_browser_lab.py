"""Notebook 02 in JupyterLab, in headless Chromium: run all cells, and the explorer's plots
draw there too (they were blank in Lab as in Voila: the widgets' first view got an empty
document). Lab's widget manager is not Voila's, so the fix is checked in both."""

from __future__ import annotations

import time

import pytest
from bokeh_figures import FIGURES, wait_drawn
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NB = "02_almgren_chriss_explorer"
FIGS = ["holdings-x-t", "trade-list-n-k", "efficient-frontier-e-against-sqrt-v",
        "realised-cost-of-the-starting-schedule"]


def test_ac_explorer_draws_in_jupyterlab(lab, page):
    srv = lab(f"{NB}.ipynb")
    page.set_viewport_size({"width": 1600, "height": 1100})
    page.goto(srv.page_url(f"{NB}.ipynb"), timeout=120_000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)
    # Driving Lab has three races, each seen here: a "Select Kernel" dialog that may come a
    # few seconds after the page (answered with the notebook's own kernel), a click lost
    # while Lab connects, and a kernel that Lab replaces just after the cells were sent to
    # it (they never finish). So: let Lab settle on its kernel first (idle for 3 s in a row,
    # no dialog open), then Run > Run All Cells, again if the last printed line is not there.
    done = page.get_by_text("Monte Carlo, 200 runs: realised mean")
    select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    t_end, since = time.monotonic() + 60, None
    while time.monotonic() < t_end:
        if select.count():
            select.first.click()
            since = None
        elif idle.count():
            since = since or time.monotonic()
            if time.monotonic() - since > 3:
                break
        else:
            since = None
        time.sleep(0.25)
    for attempt in range(4):
        if select.count():
            select.first.click()
            page.locator(".jp-Dialog").wait_for(state="detached", timeout=10_000)
        try:
            page.get_by_role("menuitem", name="Run", exact=True).click(timeout=5_000)
            page.get_by_text("Run All Cells", exact=True).click(timeout=5_000)
            done.wait_for(state="attached", timeout=40_000)
            break
        except PlaywrightTimeout:
            page.screenshot(path=str(FIGURES / f"lab-{NB}" / f"page-not-run-{attempt}.png"))
            if not select.count():  # Escape would dismiss the kernel dialog: "no kernel"
                page.keyboard.press("Escape")  # close a menu left open
    else:
        pytest.fail(f"the notebook did not run in Lab; see {FIGURES / f'lab-{NB}'}")
    wait_drawn(page, f"lab-{NB}", "load", expect=FIGS)
    assert not page.js_errors, page.js_errors
