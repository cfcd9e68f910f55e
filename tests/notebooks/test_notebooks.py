"""Every notebook runs top to bottom in a real kernel (the .venv's python3), offline.

Each is executed with nbclient; a cell error fails the test, and the printed outputs must show
the numbers the notebook is about (checked by a pattern per notebook).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

NB_DIR = Path(__file__).resolve().parents[2] / "notebooks"

#: notebook -> patterns that must appear in its text outputs
EXPECT: dict[str, list[str]] = {
    "00_order_book.ipynb": [
        r"checksums verified: (\d+) of \1, gaps: 0",  # every OKX checksum reproduced
        r"depth diffs applied: [\d,]+",
        r"final top of book: bid [\d.]+ / ask [\d.]+, valid=True",
    ],
    "01_trade_cost_simulator.ipynb": [
        r"source: LOCAL VENUE \(synthetic\) \(local:ws://127\.0\.0\.1:\d+",  # said, not hidden
        r"feed status: live, frames: \d+",
        r"net -?[\d.]+ bps = \$[\d,.]+",
        r"\d+ estimates so far",
    ],
    "02_almgren_chriss_explorer.ipynb": [
        r"optimal \(lambda=1\.0e-06\): E = \$[\d,]+, sqrt V = \$[\d,]+, half-life = [\d.]+ days",
        r"immediate: E = \$[\d,]+, sqrt V = \$0",
        r"along the frontier: E rises",
        r"Monte Carlo, 200 runs: realised mean \$[\d,]+ ± \$[\d,]+ vs model E",
    ],
    "03_calibrate_eta_gamma.ipynb": [
        r"ac-records fit: n_obs=500",
        r"covering the truth over 100 seeds: eta (8[5-9]|9\d|100)/100, gamma (8[5-9]|9\d|100)/100",
        r"market-data fit: n_obs=\d+",
    ],
    "04_slippage_and_maker_taker_models.ipynb": [
        r"SlippageModel \(latency 100 ms, trained on spot_btcusdt",
        r"maker share model: AUC 0\.\d+",
        r"replayed 99,574 frames; [\d,]+ simulator ticks",  # the whole real recording
        r"at \$100,000: market \d+\.\d+ bps vs passive-then-cross \d+\.\d+ bps",
    ],
    "05_reproducible_session.ipynb": [
        r"recorded \d+ frames from local:ws://127\.0\.0\.1",
        r"replayed \d+ estimates; identical to the live session: True",
        r"second replay identical to the first: True",
        r"largest difference of any field: 0\.0",
    ],
    "07_your_own_data.ipynb": [
        r"btcusdt-part0\d\.gz: lines \('<recv_ns> <frame>' lines \(gzip\)\)",
        r"kraken_ws_v1_book\.log: cryptofeed",
        r"slippage hold-out R2 0\.8\d{3} \(walk-only 0\.8\d{3}\)",  # a real fit, not a fixed number
        r"impact eta \d+\.\d+ \[\d+\.\d+, \d+\.\d+\] price\*s/base, gamma \d+\.\d+ \[",
        r"3 files in 3 segments, 2,\d{3} decisions",
        r"maker/taker AUC 0\.\d{4}, log-loss 0\.\d{4} vs 0\.\d{4}",
        r"refused: too little data for a fit: XBT/CHF .* at least 480",
        r"before [\d.]+ bps \(impact [\d.]+ bps, source trades\); after [\d.]+ bps "
        r"\(impact [\d.]+ bps, source model_file\)",
    ],
    "06_beyond_almgren_chriss.ipynb": [
        r"tape: 1,30\d book samples every 0\.5 s over 65\d s, [\d,]+ market orders",
        r"resilience rho = \d+\.\d+ /s \[\d+\.\d+, \d+\.\d+\]",  # fitted, with its interval
        r"kernel exponent = \d+\.\d+ \[\d+\.\d+, \d+\.\d+\]",
        r"exp\(-[\d.]+ t\): ok=True\s+\(no price manipulation",
        r"1\[t < [\d.]+\]: ok=False\s+\(price manipulation",
        r"exp\(-\(t/[\d.]+\)\^2\): ok=False\s+\(transaction-triggered",
        r"OW optimal: E_OW = [\d.]+ bps, E_AC = [\d.]+ bps, sqrt V = [\d.]+ bps, 13 children",
        r"cheapest in expectation under OW: OW optimal",
        r"TWAP: realised mean -?[\d.]+ ± [\d.]+ bps over 2\d starts vs model E [\d.]+ bps",
        r"TWAP 6 s: impact [\d.]+ bps with impact-aware books, [\d.]+ bps untouched",
        r"OW optimum realised mean [\d.]+ ± [\d.]+ vs OW E [\d.]+ \(z = [+-][01]\.\d\d\)",
    ],
}


def _text_outputs(nb: nbformat.NotebookNode) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o.get("text", ""))
            elif "data" in o:
                out.append(o["data"].get("text/plain", ""))
    return "\n".join(out)


def _execute(name: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NB_DIR / name, as_version=4)
    # kernelspec argv "python" is resolved by jupyter_client to sys.executable (this .venv)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NB_DIR)}})
    client.execute()
    return nb


def test_every_notebook_is_listed():
    assert sorted(p.name for p in NB_DIR.glob("*.ipynb")) == sorted(EXPECT)


def test_notebooks_are_saved_without_outputs():
    for p in NB_DIR.glob("*.ipynb"):
        nb = nbformat.read(p, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, p.name


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_notebook_runs_offline(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # the kernel inherits the environment: never try the exchange from a test
    monkeypatch.setenv("TRADESIM_LIVE_SOURCE", "local")
    monkeypatch.setenv("TRADESIM_SESSION_DIR", str(tmp_path))
    nb = _execute(name)
    text = _text_outputs(nb)
    for pat in EXPECT[name]:
        assert re.search(pat, text), f"{name}: no output matches {pat!r}:\n{text[-3000:]}"


def test_notebooks_04_and_05_take_a_model_file(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path):
    """``TRADESIM_MODELS=<model file>``: both notebooks run on it (04 prints its summary and
    prices with its impact fit; 05's replay still equals the live session)."""
    import dataclasses

    from tradesim_nb.datasets import binance_spot_files
    from tradesim_nb.impact import fit_market_data, market_series_from_recording
    from tradesim_nb.models import save_models
    from tradesim_nb.simulator import default_model_file

    fit = fit_market_data(market_series_from_recording(binance_spot_files()), bootstrap=20)
    path = save_models(dataclasses.replace(default_model_file(), impact=fit),
                       tmp_path / "mine.json")
    monkeypatch.setenv("TRADESIM_LIVE_SOURCE", "local")
    monkeypatch.setenv("TRADESIM_SESSION_DIR", str(tmp_path))
    monkeypatch.setenv("TRADESIM_MODELS", str(path))
    text = _text_outputs(_execute("04_slippage_and_maker_taker_models.ipynb"))
    assert re.search(r"model file mine\.json: binance:BTCUSDT, 2 file\(s\)", text), text[-2000:]
    assert re.search(r"impact eta \d+\.\d+ \[", text) and "maker share model: AUC 0." in text
    text = _text_outputs(_execute("05_reproducible_session.ipynb"))
    assert "identical to the live session: True" in text, text[-2000:]
