"""Features: online state (closed forms), row vs columnar agreement, labels from the real
Binance recording."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tradesim_nb.book import book_from_levels
from tradesim_nb.events import Trade
from tradesim_nb.features import (
    MAKER_FEATURES,
    MARKET_FEATURES,
    SLIPPAGE_FEATURES,
    FeatureState,
    maker_features,
    maker_matrix,
    slippage_features,
    slippage_matrix,
)
from tradesim_nb.training import DatasetConfig, load_binance_dataset, passive_fill_fraction

S = 1_000_000_000


def test_flow_decays_exponentially() -> None:
    st = FeatureState(flow_taus_s=(1.0, 10.0))
    st.on_trade(100.0, 2.0, "buy", 5 * S)
    st.on_trade(100.0, 1.0, "sell", 5 * S)
    f1, f10 = st.flows_usd(6 * S)
    assert_allclose(f1, 100.0 * math.exp(-1.0))
    assert_allclose(f10, 100.0 * math.exp(-0.1))
    st.on_trade(50.0, 1.0, "buy", 7 * S)
    f1, _ = st.flows_usd(7 * S)
    assert_allclose(f1, 100.0 * math.exp(-2.0) + 50.0)


def test_realised_vol_is_ewma_of_squared_log_returns() -> None:
    st = FeatureState(vol_tau_s=10.0)
    mids = [100.0, 100.1, 100.1, 99.9]
    for i, m in enumerate(mids):
        st.on_mid(m, i * S)
    r1, r3 = math.log(100.1 / 100.0), math.log(99.9 / 100.1)
    v = (r1 * r1 * math.exp(-0.1) + 0.0) * math.exp(-0.1) + r3 * r3
    assert_allclose(st.vol_bps(), 1e4 * math.sqrt(v / 10.0))
    st.on_mid(math.nan, 5 * S)  # ignored
    assert st.n_mid == 4


def test_market_row_by_hand() -> None:
    book = book_from_levels([(100.0, 2.0), (99.95, 3.0), (99.0, 50.0)],
                            [(100.1, 1.0), (100.2, 4.0), (101.0, 50.0)])
    st = FeatureState()
    st.update(book, [Trade("x", "", 100.1, 1.0, "buy", "1", 0, S)], S)
    row = st.market_row(book, S)
    assert len(row) == len(MARKET_FEATURES)
    mid = 100.05
    assert_allclose(row[0], mid)
    assert_allclose(row[1], 1e4 * 0.1 / mid)
    assert_allclose(row[2], 200.0)
    assert_allclose(row[3], 100.1)
    # 10 bps of 100.05 = 0.10005: bids >= 99.94995 -> 100.0 and 99.95; asks <= 100.15005
    assert_allclose(row[4], 5.0 * mid)
    assert_allclose(row[5], 1.0 * mid)
    assert_allclose(row[6], (55.0 - 55.0) / 110.0 + 0.0, atol=1e-12)
    assert_allclose(row[8], 100.1)
    assert st.daily_volume_base(S) != st.daily_volume_base(S)  # NaN: no time span yet


def test_row_and_columnar_features_agree() -> None:
    rng = np.random.default_rng(1)
    n = 50
    market = np.abs(rng.normal(size=(n, len(MARKET_FEATURES)))) * 1e5
    market[:, 6] = rng.uniform(-1, 1, n)
    market[:, 8:] = rng.normal(size=(n, 2)) * 1e5
    side = rng.choice([1.0, -1.0], n)
    notional = rng.uniform(1e3, 1e6, n)
    walk = rng.uniform(0, 3, n)
    S_ = slippage_matrix(market, side, notional, walk)
    M = maker_matrix(market, side, notional)
    assert S_.shape == (n, len(SLIPPAGE_FEATURES)) and M.shape == (n, len(MAKER_FEATURES))
    for i in range(n):
        sd = "buy" if side[i] > 0 else "sell"
        assert_allclose(slippage_features(list(market[i]), sd, notional[i], walk[i]), S_[i])
        assert_allclose(maker_features(list(market[i]), sd, notional[i]), M[i])
    with pytest.raises(ValueError, match="side"):
        slippage_matrix(market, side * 2, notional, walk)
    with pytest.raises(ValueError, match="side='up'"):
        maker_features(list(market[0]), "up", 1e3)


def test_passive_fill_fraction_rules() -> None:
    t = np.array([1, 2, 3, 4]) * S
    px = np.array([100.0, 100.0, 100.0, 100.5])
    q = np.array([1.0, 2.0, 1.5, 9.0])
    sg = np.array([-1.0, -1.0, 1.0, 1.0])  # two sells at the bid, then buys
    # buy at 100 behind 1.5 ahead: sells at 100 = 3.0 -> (3.0-1.5)/1.0 -> 1
    assert passive_fill_fraction(t, px, q, sg, 0, 10 * S, "buy", 100.0, 1.5, 1.0) == 1.0
    assert_allclose(passive_fill_fraction(t, px, q, sg, 0, 10 * S, "buy", 100.0, 2.5, 1.0), 0.5)
    assert passive_fill_fraction(t, px, q, sg, 0, 10 * S, "buy", 100.0, 5.0, 1.0) == 0.0
    # only the window counts: (1 s, 2 s] holds the 2.0 sell
    assert_allclose(passive_fill_fraction(t, px, q, sg, S, 2 * S, "buy", 100.0, 1.0, 2.0), 0.5)
    # sell at 100.4: the buy at 100.5 traded through -> filled
    assert passive_fill_fraction(t, px, q, sg, 0, 10 * S, "sell", 100.4, 50.0, 1.0) == 1.0
    # sell at 100.6: nothing reaches it
    assert passive_fill_fraction(t, px, q, sg, 0, 10 * S, "sell", 100.6, 0.0, 1.0) == 0.0
    with pytest.raises(ValueError, match="order_base"):
        passive_fill_fraction(t, px, q, sg, 0, S, "buy", 100.0, 0.0, 0.0)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="latency_ms=-1"):
        DatasetConfig(latency_ms=-1)
    with pytest.raises(ValueError, match="sizes_usd"):
        DatasetConfig(sizes_usd=(1e3, 0.0))
    with pytest.raises(ValueError, match="vol_tau_s=0"):
        FeatureState(vol_tau_s=0)


def test_real_binance_dataset_shapes_and_labels() -> None:
    ds = load_binance_dataset()
    k = len(ds.sizes_usd)
    assert ds.n > 2000  # ~11 minutes sampled every 250 ms
    assert ds.market.shape == (ds.n, len(MARKET_FEATURES))
    assert ds.walk_bps.shape == ds.realised_bps.shape == ds.passive_frac.shape == (ds.n, k, 2)
    assert np.all(np.diff(ds.t_ns) > 0)
    assert np.isfinite(ds.market).all()
    assert np.mean(np.isfinite(ds.realised_bps)) > 0.99
    # the walk cost of a market order grows with its size, on every book
    w = ds.walk_bps
    assert np.all(np.diff(w, axis=1)[np.isfinite(np.diff(w, axis=1))] >= -1e-9)
    pf = ds.passive_frac[np.isfinite(ds.passive_frac)]
    assert pf.min() >= 0.0 and pf.max() <= 1.0 and 0.2 < pf.mean() < 0.95
    # a bigger passive order never fills a larger share than a smaller one at the same time
    d = np.diff(ds.passive_frac, axis=1)
    assert np.all(d[np.isfinite(d)] <= 1e-12)
    assert ds.trades["t_ns"].size > 19_000
    end, start = ds.split_index(0.7, purge_s=10.0)
    assert end == round(0.7 * ds.n) and ds.t_ns[start] - ds.t_ns[end - 1] > 10 * S


def test_zero_latency_labels_equal_walk_on_the_same_book() -> None:
    ds = load_binance_dataset(DatasetConfig(latency_ms=0.0, sizes_usd=(1e4, 1e6)))
    ok = np.isfinite(ds.realised_bps)
    assert ok.mean() > 0.99
    assert_allclose(ds.realised_bps[ok], ds.walk_bps[ok], atol=1e-9)


def test_book_values_cache_follows_the_book() -> None:
    book = book_from_levels([(100.0, 2.0)], [(100.2, 1.0)])
    st = FeatureState()
    r1 = st.market_row(book, S)
    assert st.market_row(book, S)[:7] == r1[:7]
    book.apply_delta([("100.1", "3.0")], [])  # a better bid: everything moves
    r2 = st.market_row(book, 2 * S)
    assert_allclose(r2[0], 100.15) and r2[2] == pytest.approx(300.3)
    book.clear()  # does not bump book.updates: the cache must still notice
    r3 = st.market_row(book, 3 * S)
    assert math.isnan(r3[0])


def test_daily_volume_needs_a_minute_of_trades() -> None:
    st = FeatureState()
    st.on_trade(100.0, 2.0, "buy", S)
    st.on_trade(100.0, 2.0, "sell", 30 * S)
    assert math.isnan(st.daily_volume_base(30 * S))
    assert_allclose(st.daily_volume_base(61 * S), 4.0 / 60.0 * 86400.0)


# -- the data-set builder takes any recording, venue and symbol; named row indices ------------
def test_named_row_indices_match_the_feature_names() -> None:
    from tradesim_nb import features as f

    for name, idx in (("mid", f.MID), ("spread_bps", f.SPREAD_BPS),
                      ("bid_touch_usd", f.BID_TOUCH_USD), ("ask_touch_usd", f.ASK_TOUCH_USD),
                      ("bid_depth_10bps_usd", f.BID_DEPTH_USD),
                      ("ask_depth_10bps_usd", f.ASK_DEPTH_USD), ("imbalance_5", f.IMBALANCE_5),
                      ("vol_bps", f.VOL_BPS), ("flow_1s_usd", f.FLOW_1S_USD),
                      ("flow_10s_usd", f.FLOW_10S_USD)):
        assert MARKET_FEATURES[idx] == name
    # the moved data-set names still import from here, and are the same objects
    from tradesim_nb import training
    from tradesim_nb.features import dataset_from_recording as old

    assert old is training.dataset_from_recording
    with pytest.raises(AttributeError, match="no_such_name"):
        f.no_such_name  # noqa: B018


@pytest.mark.parametrize("symbol", ["BTC-USDT", "UNI-USD-SWAP"])
def test_dataset_from_an_okx_recording(symbol: str) -> None:
    """The same builder on another venue's real recording: spot and an inverse swap."""
    from tradesim_nb.datasets import okx_books_file
    from tradesim_nb.recording import read_frames
    from tradesim_nb.training import dataset_from_files, dataset_from_frames
    from tradesim_nb.venues import get_feed

    cfg = DatasetConfig(warmup_s=0.0, sample_every_ms=100.0, latency_ms=0.0,
                        sizes_usd=(1e3, 1e4))
    ds = dataset_from_files([okx_books_file()], "okx", symbol, cfg)
    assert ds.n > 50 and ds.frames == 410 and ds.source == okx_books_file().name
    assert np.isfinite(ds.market).all() and np.all(np.diff(ds.t_ns) > 0)
    # zero latency: the label is the walk on the same book
    ok = np.isfinite(ds.realised_bps)
    assert ok.mean() > 0.95
    assert_allclose(ds.realised_bps[ok], ds.walk_bps[ok], atol=1e-9)
    # a venue name or a feed object give the same data set
    again = dataset_from_frames(read_frames(okx_books_file()), get_feed("okx"), symbol, cfg)
    assert again.source == f"okx:{symbol}"
    np.testing.assert_array_equal(again.market, ds.market)
    np.testing.assert_array_equal(again.walk_bps, ds.walk_bps)


def test_dataset_builder_errors_name_the_problem(tmp_path) -> None:
    from tradesim_nb.datasets import okx_books_file
    from tradesim_nb.training import dataset_from_files

    with pytest.raises(ValueError, match="symbol='NOPE'"):
        dataset_from_files([okx_books_file()], "okx", "NOPE")
    with pytest.raises(FileNotFoundError, match=r"missing\.gz"):
        dataset_from_files([tmp_path / "missing.gz"], "okx", "BTC-USDT")
    with pytest.raises(ValueError, match="paths"):
        dataset_from_files([], "okx", "BTC-USDT")


def test_order_features_read_the_right_side_of_the_row() -> None:
    """A buy walks the asks and rests on the bid; a sell the reverse (by column name)."""
    row = [100.0, 2.0, 3000.0, 5000.0, 40_000.0, 80_000.0, 0.25, 1.5, 2e5, -4e5]
    col = dict(zip(MARKET_FEATURES, row, strict=True))
    for side, s in (("buy", 1.0), ("sell", -1.0)):
        own_depth = col["ask_depth_10bps_usd"] if s > 0 else col["bid_depth_10bps_usd"]
        own_touch = col["bid_touch_usd"] if s > 0 else col["ask_touch_usd"]
        opp_touch = col["ask_touch_usd"] if s > 0 else col["bid_touch_usd"]
        xs = dict(zip(SLIPPAGE_FEATURES, slippage_features(row, side, 1e4, 1.0), strict=True))
        xm = dict(zip(MAKER_FEATURES, maker_features(row, side, 1e4), strict=True))
        assert xs["size_over_depth"] == pytest.approx(1e4 / own_depth)
        assert xs["flow_signed_1s"] == pytest.approx(s * col["flow_1s_usd"] / 1e5)
        assert xs["imbalance_signed"] == pytest.approx(s * col["imbalance_5"])
        assert xs["vol_bps"] == xm["vol_bps"] == col["vol_bps"]
        assert xm["log_queue_ahead_usd"] == pytest.approx(math.log(own_touch))
        assert xm["log_opposite_touch_usd"] == pytest.approx(math.log(opp_touch))
        assert xm["flow_signed_10s"] == pytest.approx(s * col["flow_10s_usd"] / 1e5)
