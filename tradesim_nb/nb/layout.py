"""The dashboards' page layout: a fixed inputs column beside outputs that take the rest.

Measured in Voila and JupyterLab (Chromium, 1,100 to 1,920 px wide): with ipywidgets' default
flex items (``flex: 1 1 auto`` and an explicit ``width``) the *content* width of the outputs
(a long line of text, a wide table) became their flex basis, so the outputs grew past the
window and the inputs column was shrunk below its width, clipping every input
("BTC-USDT-SW", "100,00"); the Bokeh plots, which stretch to their box, changed size whenever
a number's width changed. Here the inputs never shrink, the outputs start from a fixed basis
and take what is left (``min-width: 0`` lets them shrink below their content, so text wraps
and plots narrow), and below ``inputs + outputs`` px the outputs wrap under the inputs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["side_by_side"]


def side_by_side(inputs: Any, outputs: Any, *, inputs_px: int, outputs_min_px: int) -> Any:
    """An ``HBox`` of ``inputs`` (exactly ``inputs_px`` wide) and ``outputs`` (the rest).

    Parameters
    ----------
    inputs, outputs : ipywidgets.Box
        The two columns; their ``layout.width``/``flex`` are set here.
    inputs_px : int
        Width of the inputs column, in CSS px (> 0).
    outputs_min_px : int
        Below this width left for the outputs, they wrap under the inputs (> 0).
    """
    import ipywidgets as w

    for name, v in (("inputs_px", inputs_px), ("outputs_min_px", outputs_min_px)):
        if int(v) != v or v <= 0:
            raise ValueError(f"{name}={v!r} must be an integer > 0")
    inputs.layout.width = f"{int(inputs_px)}px"
    inputs.layout.flex = "0 0 auto"
    outputs.layout.width = None
    outputs.layout.flex = f"1 1 {int(outputs_min_px)}px"
    outputs.layout.min_width = "0"
    return w.HBox([inputs, outputs], layout=w.Layout(width="100%", flex_flow="row wrap"))
