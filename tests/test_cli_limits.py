"""The command refuses what it cannot compute and exits quietly when its reader goes away."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from tradesim_nb.cli import main
from tradesim_nb.costs.almgren_chriss import MAX_PERIODS, ACParams, optimal_execution

BASE = ["ac", "--sigma", "0.95", "--eta", "2.5e-6", "--gamma", "2.5e-7", "--risk-aversion", "1e-6"]


@pytest.mark.parametrize(("args", "says"), [
    (["--size", "1e6", "--horizon", "1e-300", "--periods", "5"], "underflows"),
    (["--size", "1e300", "--horizon", "5", "--periods", "5"], "overflow"),
    (["--size", "1e6", "--horizon", "5", "--periods", str(10 * MAX_PERIODS)], "periods"),
])
def test_ac_refuses_parameters_whose_results_overflow(args: list[str], says: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, *args]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_ac_results_are_finite_up_to_the_limits() -> None:
    s = optimal_execution(ACParams(size=1e12, horizon=1e-6, periods=5, sigma=0.95, epsilon=0,
                                   eta=2.5e-6, gamma=2.5e-7, risk_aversion=1e-9))
    # large but representable: solved, not refused
    assert math.isfinite(s.expected_cost) and math.isfinite(s.variance) and s.expected_cost > 0


def test_output_into_a_closed_pipe_is_a_quiet_exit() -> None:
    cmd = [sys.executable, "-m", "tradesim_nb.cli", *BASE, "--size", "1e6", "--horizon", "5",
           "--periods", "200000", "--json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None
    assert p.stdout.read(20).startswith(b'{"params"')
    p.stdout.close()  # like `| head -c 20`
    _, err = p.communicate(timeout=60)
    assert p.returncode == 141, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err
