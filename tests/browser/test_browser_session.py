"""Notebook 05 in Voila, in headless Chromium: a session recorded from the local venue and
its replay draw on one plot (the replay's points on the live line), which pans."""

from __future__ import annotations

import pytest
from bokeh_figures import pan, wait_drawn

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NB = "05_reproducible_session"
NET = "net-cost-per-estimate-the-live-session-and-its-replay"
COLOURS = {NET: {"live": ("#1f77b4", 1.0), "replay": ("#ff7f0e", 1.0)}}
MIN_COLOUR = {NET: {"live": 150, "replay": 1000}}


def test_session_and_replay_draw_on_one_plot(voila, page, tmp_path):
    srv = voila(f"{NB}.ipynb", env={"TRADESIM_SESSION_DIR": str(tmp_path)})
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(srv.url, timeout=180_000)
    page.get_by_text("identical to the live session: True").wait_for(timeout=180_000)
    assert (tmp_path / "btc_usdt_swap_session.jsonl.gz").stat().st_size > 1000
    load = wait_drawn(page, NB, "load", expect=[NET], colours=COLOURS, min_colour=MIN_COLOUR)
    pan(page, NET, -200, 0)
    wait_drawn(page, NB, "panned", expect=[NET], colours=COLOURS, min_colour=MIN_COLOUR,
               changed_from=load, must_change=[NET])
    assert not page.js_errors, page.js_errors
