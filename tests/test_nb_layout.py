"""The dashboards' two-column layout (its effect in a browser is checked by tests/browser)."""

from __future__ import annotations

import ipywidgets as w
import pytest

from tradesim_nb.nb.layout import side_by_side


def test_inputs_keep_their_width_and_outputs_take_the_rest():
    left, right = w.VBox([w.IntSlider()], layout=w.Layout(width="10px")), w.VBox([])
    box = side_by_side(left, right, inputs_px=380, outputs_min_px=600)
    assert list(box.children) == [left, right]
    assert (left.layout.width, left.layout.flex) == ("380px", "0 0 auto")  # never shrunk
    assert (right.layout.flex, right.layout.min_width) == ("1 1 600px", "0")
    assert right.layout.width is None  # no width of its own: its content cannot widen it
    assert box.layout.flex_flow == "row wrap"  # narrow windows: outputs under the inputs


@pytest.mark.parametrize("kw", [{"inputs_px": 0, "outputs_min_px": 600},
                                {"inputs_px": 380, "outputs_min_px": 12.5}])
def test_bad_widths_are_refused_by_name(kw):
    name = next(k for k, v in kw.items() if not (int(v) == v and v > 0))
    with pytest.raises(ValueError, match=name):
        side_by_side(w.VBox([]), w.VBox([]), **kw)
