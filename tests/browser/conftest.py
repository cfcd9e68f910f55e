"""Real-browser harness: a Voila server on a free loopback port and a headless Chromium.

Nothing here skips: if Chromium or Voila is missing the tests fail and say what is missing.
The browser is ``$TRADESIM_CHROMIUM``, else Debian's ``chromium`` on the PATH (or
``/usr/bin/chromium``), else Playwright's own Chromium if ``playwright install chromium`` has
put one in place. ``make test`` runs ``scripts/ensure_browser.sh`` first, which installs
Debian's chromium with apt-get when it can and Playwright's otherwise.

One Voila server per notebook test, several checks on one page. Whether each Bokeh figure
drew (glyph pixels in its frame, tick labels by its axes, on load and after an input moves)
is checked by ``bokeh_figures.wait_drawn``; whether an inputs column shows every value whole
by ``clipping.clipped_inputs``.
"""

from __future__ import annotations

import os
import secrets
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
SCREENSHOTS = REPO / "artifacts" / "figures"
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


class NotebookServer:
    """A Jupyter front-end server on a free loopback port, in its own process group (it and
    the kernels it starts), logging to ``artifacts/<name>.log``; stopped by :meth:`stop`."""

    #: a path under the server that answers once it is up
    probe = ""

    def __init__(self, name: str, argv: list[str], cwd: Path,
                 env: dict[str, str] | None = None) -> None:
        exe = Path(sys.executable).parent / argv[0]
        if not exe.exists():
            pytest.fail(f"{argv[0]} not found at {exe}")
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        full_env = os.environ.copy()
        full_env["TRADESIM_LIVE_SOURCE"] = "local"  # never the internet from a test
        full_env.update(env or {})
        self.log_path = REPO / "artifacts" / f"{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(exe), *argv[1:], f"--port={self.port}"], cwd=str(cwd), env=full_env,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_up(self, timeout_s: float = 60.0) -> None:
        t_end = time.monotonic() + timeout_s
        while time.monotonic() < t_end:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.proc.returncode}; log: "
                            f"{self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + self.probe, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # any HTTP answer: the server is up (a Voila page runs the notebook)
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"{self.name} did not answer on {self.url} within {timeout_s} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()


class VoilaServer(NotebookServer):
    """``voila NB --no-browser --port P --Voila.ip=127.0.0.1``."""

    probe = "voila/static/"

    def __init__(self, notebook: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(f"voila-{notebook.stem}",
                         ["voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1"],
                         NOTEBOOKS, env)


class LabServer(NotebookServer):
    """``jupyter lab`` on ``root`` (a copy of the notebooks: Lab autosaves what it runs),
    with a random token, without news or update checks; its workspaces and settings under
    ``root`` too. Open pages with :meth:`page_url`."""

    probe = "api/status"

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.token = secrets.token_hex(16)
        argv = ["jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
                f"--LabApp.workspaces_dir={root / '.workspaces'}", "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if os.geteuid() == 0:
            argv.append("--allow-root")
        env = {"JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"), **(env or {})}
        super().__init__("lab", argv, root, env)

    def page_url(self, notebook: str) -> str:
        return f"{self.url}lab/tree/{notebook}?token={self.token}"


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
def lab(tmp_path: Path) -> Iterator[Callable[..., LabServer]]:
    """Factory: ``lab("02_almgren_chriss_explorer.ipynb")`` -> JupyterLab serving a copy of
    that notebook (``/lab/tree/<name>``); stopped after the test."""
    started: list[LabServer] = []

    def start(name: str, env: dict[str, str] | None = None) -> LabServer:
        shutil.copy(NOTEBOOKS / name, tmp_path / name)
        srv = LabServer(tmp_path, env)
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


def _screenshot(page: Any, name: str, top: str | None = None) -> Path:
    # Voila scrolls an inner panel (#rendered_cells), not the document: a "full page"
    # screenshot is the viewport. Scroll ``top`` (a selector) to the top first, if given.
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if top is not None:
        page.locator(top).first.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """``screenshot(page, "01_trade_cost_simulator/page-1400px", top=".ts-tc-source")`` saves
    the window as ``artifacts/figures/<name>.png`` (gitignored); each figure's own screenshots
    are saved there by ``bokeh_figures.wait_drawn``."""
    return _screenshot
