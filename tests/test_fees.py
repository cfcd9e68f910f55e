"""Fee schedules: the built-in tables, the fee formula, overrides and error messages."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tradesim_nb.costs.fees import (
    SCHEDULES,
    FeeSchedule,
    FeeTier,
    available_schedules,
    fee_usd,
    get_fee_schedule,
)


def test_every_table_has_provenance_and_sane_rates():
    assert {v for v, _ in available_schedules()} == {"okx", "binance", "bybit", "kraken"}
    for (venue, product), s in SCHEDULES.items():
        assert s.venue == venue and s.product == product
        assert s.source_url.startswith("https://")
        assert dt.date.fromisoformat(s.as_of) <= dt.date.today()
        assert s.notes  # every table says what could and could not be verified
        top = 26.0 if venue == "kraken" else 10.0  # Kraken's base taker rate is 0.26 %
        for t in s.tiers:
            assert -1.0 < t.maker_bps <= t.taker_bps <= top


@pytest.mark.parametrize(
    ("venue", "product", "tier", "maker_bps", "taker_bps"),
    [("okx", "spot", "Lv1", 8.0, 10.0), ("okx", "spot", "VIP 8", -0.5, 2.0),
     ("okx", "perpetual", "Lv1", 2.0, 5.0), ("binance", "spot", "VIP 0", 10.0, 10.0),
     ("binance", "perpetual", "VIP 9", 0.0, 1.7), ("bybit", "spot", "Supreme VIP", 3.0, 4.5),
     ("bybit", "perpetual", "VIP 0", 2.0, 5.5)])
def test_published_figures_in_bps(venue, product, tier, maker_bps, taker_bps):
    t = get_fee_schedule(venue, product).tier(tier)
    assert_allclose([t.maker_bps, t.taker_bps], [maker_bps, taker_bps], rtol=0, atol=1e-12)


def test_taker_rates_fall_with_tier():
    for s in SCHEDULES.values():
        vip = [t for t in s.tiers if t.name.lower().startswith(("vip", "supreme"))]
        takers = [t.taker_bps for t in vip]
        assert takers == sorted(takers, reverse=True)


def test_fee_formula_and_rebate():
    s = get_fee_schedule("okx", "spot")
    lv1 = s.tier("lv1")
    assert fee_usd(1e6, lv1) == pytest.approx(1e6 * 10.0e-4)
    assert fee_usd(1e6, "Lv1", maker_share=1.0, schedule=s) == pytest.approx(800.0)
    assert fee_usd(1e6, "Lv1", maker_share=0.25, schedule=s) == pytest.approx(
        1e6 * (0.25 * 8.0 + 0.75 * 10.0) * 1e-4)
    # VIP 7 maker is a rebate: negative fee
    assert s.fee_usd(1e6, "vip7", maker_share=1.0) == pytest.approx(-50.0)
    # vectorised over notional and maker share (broadcasting)
    n = np.array([1e3, 1e4, 1e5])
    share = np.array([[0.0], [1.0]])
    out = fee_usd(n, lv1, share)
    assert out.shape == (2, 3)
    assert_allclose(out[0], n * 1e-3)
    assert_allclose(out[1], n * 8e-4)
    assert_allclose(lv1.rate_bps([0.0, 0.5, 1.0]), [10.0, 9.0, 8.0])


def test_tier_lookup_ignores_case_and_spaces():
    s = get_fee_schedule("binance", "spot")
    assert s.tier("vip_3") is s.tier("VIP 3") is s.tier(" vip-3 ")
    assert get_fee_schedule("OKX", "swap") is get_fee_schedule("okx", "perpetual")
    assert get_fee_schedule("binance-futures", "swap") is get_fee_schedule("binance", "perpetual")


def test_unknown_names_list_what_exists():
    with pytest.raises(ValueError, match=r"venue='nope'.*binance, bybit, kraken, okx"):
        get_fee_schedule("nope")
    with pytest.raises(ValueError, match=r"product='options'.*perpetual, spot"):
        get_fee_schedule("okx", "options")
    with pytest.raises(ValueError, match=r"tier='VIP 12'.*VIP 0, VIP 1"):
        get_fee_schedule("binance", "spot").tier("VIP 12")
    with pytest.raises(ValueError, match="schedule"):
        fee_usd(1.0, "Lv1")


def test_user_overrides():
    s = get_fee_schedule("okx", "perpetual")
    s2 = s.with_tier(FeeTier("VIP 5", -0.5, 2.5))
    assert s2.tier_names == ["Lv1", "VIP 5"] and s.tier_names == ["Lv1"]
    assert s2.tier("VIP 5").maker_bps == -0.5
    s3 = s2.with_tier("Lv1", taker_bps=4.0)
    assert s3.tier("Lv1").taker_bps == 4.0 and s3.tier("Lv1").maker_bps == 2.0
    assert "user override" in s3.notes
    own = FeeSchedule("myvenue", "spot", (FeeTier("flat", 1.0, 2.0),),
                      source_url="https://example.invalid/fees", as_of="2026-01-01")
    assert fee_usd(2e4, "flat", maker_share=0.5, schedule=own) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="maker_bps/taker_bps"):
        s.with_tier(FeeTier("x", 1.0, 2.0), taker_bps=3.0)


@pytest.mark.parametrize(
    ("call", "name"),
    [(lambda: FeeTier("t", float("nan"), 1.0), "maker_bps"),
     (lambda: FeeTier("t", 1.0, 5000.0), "taker_bps"),
     (lambda: FeeTier("", 1.0, 1.0), "name"),
     (lambda: FeeSchedule("v", "spot", (), "https://x", "2026-01-01"), "tiers"),
     (lambda: FeeSchedule("v", "spot", (FeeTier("a", 1, 2), FeeTier("A", 1, 2)), "https://x",
                          "2026-01-01"), "duplicate"),
     (lambda: FeeSchedule("v", "spot", (FeeTier("a", 1, 2),), "https://x", "yesterday"),
      "as_of"),
     (lambda: fee_usd(-1.0, FeeTier("a", 1, 2)), "notional_usd"),
     (lambda: fee_usd(1.0, FeeTier("a", 1, 2), maker_share=1.5), "maker_share"),
     (lambda: fee_usd(1.0, FeeTier("a", 1, 2), maker_share=[0.5, -0.1]), "maker_share")])
def test_validation(call, name):
    with pytest.raises(ValueError, match=name):
        call()
