"""The wheel works alone: built from the checkout, installed into a new virtual environment
outside it, it trains the default models from its packaged data and answers ``tradesim cost``.

The new environment gets the wheel with its declared core dependencies from the package
index (or pip's cache), nothing from the checkout or from ``.venv``; the run happens in a
folder with nothing beside it, with ``TRADESIM_DATA`` unset and an empty model cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
MAX_WHEEL_BYTES = 6 * 1024 * 1024


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def test_wheel_installs_and_runs_alone(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TRADESIM_DATA", "VIRTUAL_ENV", "PYTHONHOME")}
    env["TRADESIM_CACHE"] = str(tmp_path / "cache")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    # 1. build the wheel as pip does for a user (an isolated build environment from the index)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
          "-w", str(dist), str(ROOT)], cwd=tmp_path, env=env)
    wheels = list(dist.glob("tradesim_nb-*.whl"))
    assert len(wheels) == 1, wheels
    whl = wheels[0]
    assert whl.stat().st_size <= MAX_WHEEL_BYTES, f"wheel is {whl.stat().st_size:,} bytes"
    names = set(zipfile.ZipFile(whl).namelist())
    for f in ("tradesim_nb/data/binance-btcusdt-spot-20240808/spot_btcusdt_20240808.gz",
              "tradesim_nb/data/binance-btcusdt-spot-20240808/LICENSE",
              "tradesim_nb/data/okx-v5-public-20220513/okx_ws_v5_public.log",
              "tradesim_nb/data/kraken-ws-v1-20210417/kraken_ws_v1_book.log",
              "tradesim_nb/data/goquant-relay-samples/NOTICE",
              "tradesim_nb/py.typed"):
        assert f in names, f"{f} missing from the wheel"
    assert not any(n.startswith("tests/") for n in names)

    # 2. a new virtual environment outside the checkout, the wheel and its core dependencies
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", str(whl)], cwd=tmp_path, env=env)

    # 3. there: the package comes from the venv, trains its default models from packaged data
    run_dir = tmp_path / "alone"
    run_dir.mkdir()
    out = _run([str(py), "-c", (
        "import json, tradesim_nb, tradesim_nb.datasets as d\n"
        "from tradesim_nb.simulator import TradeSimulator\n"
        "m = TradeSimulator.default_models()\n"
        "print(json.dumps({'file': tradesim_nb.__file__, 'data': str(d.packaged_dir()),\n"
        "  'r2': m.slippage.metrics['r2'], 'auc': m.maker.metrics['auc'],\n"
        "  'binance': [str(p) for p in d.binance_spot_files()]}))")],
        cwd=run_dir, env=env)
    info = json.loads(out.strip().splitlines()[-1])
    assert info["file"].startswith(str(venv)), info["file"]
    assert info["data"].startswith(str(venv))
    assert str(ROOT) not in info["file"]
    assert info["r2"] > 0.8 and info["auc"] > 0.65
    assert list((tmp_path / "cache").glob("models-*.json")), "the trained models were not cached"

    # 4. one `tradesim cost` on a packaged recording, from the venv's own console script
    out = _run([str(venv / "bin" / "tradesim"), "cost", "--source", info["binance"][0],
                "--usd", "10000", "--json"], cwd=run_dir, env=env)
    res = json.loads(out)
    est = res["estimate"]
    assert est["valid"] is True
    assert est["net_usd"] > 0 and est["fee_usd"] > 0 and res["frames"] > 50_000
