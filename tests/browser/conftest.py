"""Real-browser harness: a Voila server on a free loopback port and a headless Chromium.

Nothing here skips: if Chromium or Voila is missing the tests fail and say what is missing.
The browser is ``$TRADESIM_CHROMIUM``, else Debian's ``chromium`` on the PATH (or
``/usr/bin/chromium``), else Playwright's own Chromium if ``playwright install chromium`` has
put one in place. ``make test`` runs ``scripts/ensure_browser.sh`` first, which installs
Debian's chromium with apt-get when it can and Playwright's otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path(pw: Any = None) -> str | None:
    """The Chromium to drive: a path, or None for Playwright's own browser when that is the
    only one installed. Fails (never skips) when there is none."""
    path = os.environ.get("TRADESIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if Path(path).exists():
        return path
    if pw is not None and Path(pw.chromium.executable_path).exists():
        return None
    pytest.fail(f"Chromium not found at {path}, nor Playwright's own: run `make browser` "
                "(Debian: `apt-get install -y chromium`; elsewhere `playwright install "
                "chromium`). The browser tests never skip.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class VoilaServer:
    """``voila NB --no-browser --port P --Voila.ip=127.0.0.1``; stopped by :meth:`stop`."""

    def __init__(self, notebook: Path, env: dict[str, str] | None = None) -> None:
        voila = Path(sys.executable).parent / "voila"
        if not voila.exists():
            pytest.fail(f"voila not found at {voila}")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        full_env = os.environ.copy()
        full_env["TRADESIM_LIVE_SOURCE"] = "local"  # never the internet from a test
        full_env.update(env or {})
        self.log_path = REPO / "artifacts" / f"voila-{notebook.stem}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(voila), str(notebook), "--no-browser", f"--port={self.port}",
             "--Voila.ip=127.0.0.1"],
            cwd=str(NOTEBOOKS), env=full_env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait_up(self, timeout_s: float = 60.0) -> None:
        t_end = time.monotonic() + timeout_s
        while time.monotonic() < t_end:
            if self.proc.poll() is not None:
                pytest.fail(f"voila exited with {self.proc.returncode}; log: "
                            f"{self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "voila/static/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # any HTTP answer: the server is up (the page itself runs the notebook)
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"voila did not answer on {self.url} within {timeout_s} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # voila and the kernels it started
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()


@pytest.fixture
def voila() -> Iterator[Callable[..., VoilaServer]]:
    """Factory: ``voila("02_almgren_chriss_explorer.ipynb")`` -> a running server."""
    started: list[VoilaServer] = []

    def start(name: str, env: dict[str, str] | None = None) -> VoilaServer:
        srv = VoilaServer(NOTEBOOKS / name, env)
        started.append(srv)
        srv.wait_up()
        return srv

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    # Function scope: Playwright's sync API keeps an event loop running in this thread while
    # it is open, which would make every later test's asyncio.run() fail.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        exe = chromium_path(pw)
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.js_errors = errors  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        ctx.close()


def _screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """``screenshot(page, name)`` saves ``artifacts/screenshots/<name>.png`` (gitignored)."""
    return _screenshot
