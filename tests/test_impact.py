"""Impact laws: closed forms, scaling laws, vectorisation and validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from tradesim_nb.impact.laws import (
    ATHL_2005,
    ATHLParams,
    PowerLawImpact,
    athl_cost,
    athl_permanent,
    athl_temporary,
    permanent_impact,
    sqrt_impact,
    temporary_impact,
)


def test_power_laws_closed_form_and_sign():
    v = np.array([-4.0, -1.0, 0.0, 1.0, 4.0])
    assert_allclose(temporary_impact(v, 2.0, 0.5), [-4.0, -2.0, 0.0, 2.0, 4.0])
    assert_allclose(permanent_impact(v, 0.5, 2.0), [-8.0, -0.5, 0.0, 0.5, 8.0])
    # linear AC case
    assert_allclose(temporary_impact(v, 3.0), 3.0 * v)
    assert isinstance(temporary_impact(2.0, 1.0, 0.6), float)
    m = PowerLawImpact(eta=2.0, beta=0.5, gamma=0.5, alpha=2.0)
    assert_allclose(m.temporary(v), temporary_impact(v, 2.0, 0.5))
    assert_allclose(m.permanent(v), permanent_impact(v, 0.5, 2.0))


@settings(max_examples=100, deadline=None)
@given(st.floats(1e-6, 1e6), st.floats(0.05, 2.0), st.floats(1.01, 50.0))
def test_power_law_scaling(v, beta, c):
    """h(c v) = c^beta h(v): the defining homogeneity, and odd symmetry."""
    assert_allclose(temporary_impact(c * v, 0.7, beta), c**beta * temporary_impact(v, 0.7, beta),
                    rtol=1e-12)
    assert temporary_impact(-v, 0.7, beta) == -temporary_impact(v, 0.7, beta)


def test_athl_worked_numbers():
    """A 10%-of-ADV order over half a day, sigma = 2%/day, published coefficients."""
    X, V, T, s = 1e5, 1e6, 0.5, 0.02
    i = athl_permanent(X, V, s, 0.314)
    k = athl_temporary(X, V, T, s, 0.142)
    assert_allclose(i, 0.314 * 0.02 * 0.1, rtol=1e-15)
    assert_allclose(k, 0.142 * 0.02 * 0.2**0.6, rtol=1e-15)
    assert_allclose(athl_cost(X, V, T, s), i / 2 + k, rtol=1e-15)
    assert_allclose(ATHL_2005.cost(X, V, T, s), i / 2 + k, rtol=1e-15)
    # the turnover factor (Theta/V)^(1/4)
    theta = 1.6e8
    assert_allclose(athl_permanent(X, V, s, 0.314, shares_outstanding=theta),
                    i * (160.0) ** 0.25, rtol=1e-14)
    assert_allclose(ATHL_2005.permanent(X, V, s, theta), i * 160.0**0.25, rtol=1e-14)
    # sells are mirror images
    assert_allclose(athl_cost(-X, V, T, s), -athl_cost(X, V, T, s), rtol=1e-15)


def test_athl_vectorised_broadcasting():
    X = np.array([1e3, 1e4, 1e5])
    T = np.array([[0.1], [1.0]])
    J = athl_cost(X, 1e6, T, 0.02)
    assert J.shape == (2, 3)
    for r in range(2):
        for c in range(3):
            assert_allclose(J[r, c], athl_cost(float(X[c]), 1e6, float(T[r, 0]), 0.02),
                            rtol=1e-15)
    # faster execution costs more; larger orders cost more
    assert np.all(J[0] > J[1]) and np.all(np.diff(J, axis=1) > 0)


def test_sqrt_law():
    assert_allclose(sqrt_impact(1e4, 1e6, 0.02), 0.02 * 0.1, rtol=1e-15)
    assert_allclose(sqrt_impact(4e4, 1e6, 0.02) / sqrt_impact(1e4, 1e6, 0.02), 2.0,
                    rtol=1e-14)
    assert_allclose(sqrt_impact(1e4, 1e6, 0.02, Y=0.7, exponent=0.4),
                    0.7 * 0.02 * 0.01**0.4, rtol=1e-15)
    q = np.linspace(-1e5, 1e5, 11)
    out = sqrt_impact(q, 1e6, 0.02)
    assert out.shape == (11,) and out[5] == 0.0
    assert_allclose(out, -out[::-1], rtol=1e-15)


@pytest.mark.parametrize(
    ("call", "name"),
    [(lambda: athl_permanent(1.0, 0.0, 0.02, 0.3), "adv"),
     (lambda: athl_permanent(1.0, 1.0, -0.02, 0.3), "sigma"),
     (lambda: athl_permanent(1.0, 1.0, 0.02, 0.3, alpha=0.0), "alpha"),
     (lambda: athl_permanent(1.0, 1.0, 0.02, 0.3, shares_outstanding=-5.0), "shares_outstanding"),
     (lambda: athl_temporary(1.0, 1.0, 0.0, 0.02, 0.1), "duration"),
     (lambda: athl_temporary(1.0, 1.0, 1.0, 0.02, -0.1), "eta"),
     (lambda: athl_temporary(np.array([1.0, np.nan]), 1.0, 1.0, 0.02, 0.1), "size"),
     (lambda: sqrt_impact(1.0, 1.0, 0.02, Y=-1.0), "Y"),
     (lambda: sqrt_impact(1.0, 1.0, 0.02, exponent=0.0), "exponent"),
     (lambda: temporary_impact(1.0, 1.0, beta=-1.0), "beta"),
     (lambda: permanent_impact(1.0, -1.0), "gamma"),
     (lambda: PowerLawImpact(eta=-1.0), "eta"),
     (lambda: ATHLParams(beta=0.0), "beta"),
     (lambda: dataclasses.replace(ATHL_2005, gamma=float("inf")), "gamma")])
def test_validation(call, name):
    with pytest.raises(ValueError, match=name) as ei:
        call()
    assert "allowed range" in str(ei.value)


def test_array_validation_reports_first_bad_value():
    with pytest.raises(ValueError, match=r"adv=-2\.0"):
        sqrt_impact([1.0, 2.0, 3.0], [1.0, -2.0, -3.0], 0.02)
