"""``string_pairs``: the relay's levels checked and paired in one compiled call, as its
pure-Python twin does, errors and messages too."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesim_nb import _book_c, _book_py
from tradesim_nb.book import InvalidLevelError

FUNCS = [_book_c.string_pairs, _book_py.string_pairs]

item = st.one_of(st.sampled_from(["1", "0", "-1", "2.5", "nan", "inf", "abc", "", " 3 ",
                                  "1e3", "１"]), st.floats(allow_nan=True), st.integers(),
                 st.none())
level = st.one_of(st.lists(item, min_size=0, max_size=4), st.tuples(item, item), item)


def _run(f: Any, levels: list[Any]) -> Any:
    try:
        return ("ok", f(levels, "ask"))
    except InvalidLevelError as e:
        return ("error", str(e), e.reason, e.side)


@settings(max_examples=300, deadline=None)
@given(st.lists(level, max_size=6))
def test_the_twins_agree(levels: list[Any]) -> None:
    assert _run(FUNCS[0], levels) == _run(FUNCS[1], levels)


@pytest.mark.parametrize("f", FUNCS, ids=["compiled", "python"])
def test_pairs_and_refusals(f: Any) -> None:
    assert f([["103260", "601.05"], ["1", "0", "x"]]) == [("103260", "601.05"), ("1", "0")]
    assert f([]) == []
    for bad, reason in ((["x", "1"], "bad_price"), (["1", "-1"], "bad_size"),
                        ([1.0, "1"], "bad_level"), (("1", "1"), "bad_level"),
                        (["1"], "bad_level"), (["0", "1"], "bad_price")):
        with pytest.raises(InvalidLevelError) as ei:
            f([["2", "1"], bad], "bid")
        assert ei.value.reason == reason and str(ei.value).startswith("bid level 1 ")
    with pytest.raises(TypeError, match="levels must be a list"):
        f((["1", "1"],))
