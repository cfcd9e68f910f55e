"""The package's set-up: dependency lists agree, the core imports stay light, the CLI exists."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(req: str) -> str:
    name = re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def _pyproject_names() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs.extend(extra)
    out: dict[str, str] = {}
    for r in reqs:
        n = _name(r)
        if n == "dask" and "distributed" in r:
            out["distributed"] = r
        out[n] = r
    return out


def _conda_names() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for r in dep.get("pip", []):
                if not r.startswith("-e"):
                    out[_name(r)] = r
        elif not dep.startswith(("python", "pip")) or dep.startswith("python-"):
            out[_name(dep)] = dep
    return out


def test_environment_yml_lists_the_same_packages_as_pyproject() -> None:
    py = _pyproject_names()
    conda = _conda_names()
    assert set(py) == set(conda), (
        f"only in pyproject: {sorted(set(py) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(py))}"
    )
    # and the same lower bounds
    for n in py:
        lo_py = re.search(r">=([\w.]+)", py[n])
        lo_conda = re.search(r">=([\w.]+)", conda[n])
        assert (lo_py and lo_py.group(1)) == (lo_conda and lo_conda.group(1)), n


def test_core_import_does_not_load_ui_or_network_stacks() -> None:
    code = (
        "import sys, tradesim_nb, tradesim_nb.book, tradesim_nb.feed, tradesim_nb.venues;"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('bokeh','ipywidgets','websockets','jupyter_bokeh','dask','distributed')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_console_script_is_declared_and_runs() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["scripts"]["tradesim"] == "tradesim_nb.cli:main"
    out = subprocess.run([sys.executable, "-m", "tradesim_nb.cli", "--help"],
                         capture_output=True, text=True, check=True)
    assert "replay" in out.stdout


def test_readme_quick_start_is_two_make_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_every_public_name_resolves() -> None:
    import tradesim_nb

    missing = [n for n in tradesim_nb.__all__ if not hasattr(tradesim_nb, n)]
    assert missing == []
    assert tradesim_nb.TradeSimulator.__module__ == "tradesim_nb.simulator"
