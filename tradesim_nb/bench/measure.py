"""Measure the trade-cost dashboard in a real browser: kernel CPU, UI cost, browser memory.

Starts a synthetic OKX-protocol venue (``tradesim venue --rate 100``) in its own process, as a
live exchange would be, and Voila on ``notebooks/01_trade_cost_simulator.ipynb`` pointed at it
(``TRADESIM_LIVE_SOURCE=ws://127.0.0.1:P/ws/v5/public``; ``--in-kernel-venue`` uses the
dashboard's own in-kernel local venue instead), opens it in headless Debian Chromium through
Playwright, and samples every ``--every`` seconds for ``--duration`` seconds:

* the kernel's CPU share: :math:`\\Delta(\\text{user} + \\text{sys}) / \\Delta t` of the kernel
  process (psutil), in % of one core; it includes everything that runs in the kernel: the
  client parsing and applying frames, the per-tick cost estimate, the UI updates (and with
  ``--in-kernel-venue`` the venue publishing too);
* the kernel-side time per UI update, as the dashboard measures it around its flush
  (``UiThrottle.flush_ns_total / flushes``, shown on screen and read from the page);
* the browser's JS heap (``JSHeapUsedSize`` of the Chrome DevTools ``Performance`` domain),
  without forcing a GC, plus once after a forced GC at the start and at the end;
* the kernel's resident memory.

Run (about ``duration + 15`` seconds)::

    .venv/bin/python -m tradesim_nb.bench.measure --duration 300 --json artifacts/measure_01.json

This is a script, not a test; it writes nothing but the optional JSON file and logs progress.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

log = logging.getLogger("tradesim_nb.bench.measure")

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _num(text: str) -> float:
    m = re.search(r"-?[\d,]+(?:\.\d+)?", text or "")
    return float(m.group(0).replace(",", "")) if m else float("nan")


def _kernel_process(voila_pid: int, timeout_s: float = 60.0) -> Any:
    import psutil

    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        for ch in psutil.Process(voila_pid).children(recursive=True):
            try:
                if "ipykernel_launcher" in " ".join(ch.cmdline()):
                    return ch
            except psutil.Error:
                continue
        time.sleep(0.5)
    raise RuntimeError("no kernel process found under voila")


def _start_venue(rate_hz: float) -> tuple[subprocess.Popen[bytes], str]:
    """``tradesim venue`` (synthetic OKX BTC-USDT-SWAP) in its own process; returns its URL."""
    tradesim = Path(sys.executable).parent / "tradesim"
    port = _free_port()
    proc = subprocess.Popen([str(tradesim), "venue", "--port", str(port), "--rate", str(rate_hz),
                             "--seed", "7"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    t_end = time.monotonic() + 30
    while time.monotonic() < t_end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"ws://127.0.0.1:{port}/ws/v5/public"
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    _stop(proc)
    raise RuntimeError("tradesim venue did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def run(notebook: Path, duration_s: float, every_s: float, chromium: str,
        venue_process: bool = True, rate_hz: float = 100.0) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    if not Path(chromium).exists():
        raise FileNotFoundError(f"chromium={chromium!r} not found (apt-get install chromium)")
    voila = Path(sys.executable).parent / "voila"
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = os.environ.copy()
    venue_proc = None
    if venue_process:  # the venue outside the kernel, as a live exchange would be
        venue_proc, venue_url = _start_venue(rate_hz)
        env["TRADESIM_LIVE_SOURCE"] = venue_url
    else:  # the dashboard's own in-kernel local venue (100 updates/s)
        env["TRADESIM_LIVE_SOURCE"] = "local"
    proc = subprocess.Popen([str(voila), str(notebook), "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1"], cwd=str(notebook.parent), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    samples: list[dict[str, Any]] = []
    out: dict[str, Any] = {"notebook": notebook.name, "duration_s": duration_s,
                           "every_s": every_s, "venue_process": venue_process,
                           "source": env["TRADESIM_LIVE_SOURCE"], "samples": samples}
    try:
        t_end = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "voila/static/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > t_end or proc.poll() is not None:
                    raise RuntimeError("voila did not start") from None
                time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 2800})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")

            def heap_mb(gc: bool = False) -> float:
                if gc:
                    cdp.send("HeapProfiler.collectGarbage")
                m = {d["name"]: d["value"] for d in cdp.send("Performance.getMetrics")["metrics"]}
                return float(m["JSHeapUsedSize"]) / 2**20

            t_load = time.monotonic()
            page.goto(url, timeout=120_000)
            page.locator(".ts-tc-numbers .ts-tc-net-usd").wait_for(state="visible",
                                                                   timeout=120_000)
            out["first_numbers_s"] = time.monotonic() - t_load
            kern = _kernel_process(proc.pid)
            time.sleep(3.0)
            out["heap_after_gc_start_mb"] = heap_mb(gc=True)
            t0 = time.monotonic()
            cpu_prev = kern.cpu_times()
            t_prev = t0
            while time.monotonic() - t0 < duration_s:
                time.sleep(every_s)
                now = time.monotonic()
                cpu = kern.cpu_times()
                share = ((cpu.user + cpu.system) - (cpu_prev.user + cpu_prev.system)) \
                    / (now - t_prev) * 100
                cpu_prev, t_prev = cpu, now
                s = {
                    "t_s": round(now - t0, 2),
                    "kernel_cpu_pct": round(share, 2),
                    "kernel_rss_mb": round(kern.memory_info().rss / 2**20, 1),
                    "js_heap_mb": round(heap_mb(), 2),
                    "frames": _num(page.locator(".ts-tc-frames").inner_text()),
                    "ui_updates": _num(page.locator(".ts-tc-ui").inner_text()),
                    "flush_ms_mean": _num(page.locator(".ts-tc-flush-ms").inner_text()),
                }
                samples.append(s)
                log.info("%s", s)
            out["heap_after_gc_end_mb"] = heap_mb(gc=True)
            browser.close()
    finally:
        _stop(proc)
        if venue_proc is not None:
            _stop(venue_proc)
    out["summary"] = summarize(out)
    return out


def summarize(out: dict[str, Any]) -> dict[str, Any]:
    """Means and growth over the run (the first sample is warm-up and left out of means)."""
    import numpy as np

    s = out["samples"]
    if len(s) < 2:
        return {}
    body = s[1:]
    t = np.array([x["t_s"] for x in s])
    frames = np.array([x["frames"] for x in s])
    ui = np.array([x["ui_updates"] for x in s])
    dt = t[-1] - t[0]
    heap = np.array([x["js_heap_mb"] for x in s])
    slope = float(np.polyfit(t / 60.0, heap, 1)[0]) if len(s) >= 3 else float("nan")
    return {
        "feed_frames_per_s": float((frames[-1] - frames[0]) / dt),
        "ui_updates_per_s": float((ui[-1] - ui[0]) / dt),
        "kernel_cpu_pct_mean": float(np.mean([x["kernel_cpu_pct"] for x in body])),
        "kernel_cpu_pct_max": float(np.max([x["kernel_cpu_pct"] for x in body])),
        "kernel_ms_per_ui_update": float(s[-1]["flush_ms_mean"]),
        "kernel_rss_mb_start_end": [s[0]["kernel_rss_mb"], s[-1]["kernel_rss_mb"]],
        "js_heap_mb_min_max": [float(heap.min()), float(heap.max())],
        "js_heap_mb_per_min_trend": slope,
        "js_heap_after_gc_mb_start_end": [out.get("heap_after_gc_start_mb"),
                                          out.get("heap_after_gc_end_mb")],
    }


def format_summary(out: dict[str, Any]) -> str:
    s = out["summary"]
    where = "a separate `tradesim venue` process" if out["venue_process"] else "the kernel"
    lines = [f"{out['notebook']}: {out['duration_s']:.0f} s in headless Chromium (Voila); local "
             f"venue in {where} ({out['source']}); first numbers on screen after "
             f"{out.get('first_numbers_s', float('nan')):.1f} s"]
    for k, v in s.items():
        lines.append(f"  {k:32s} {v}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tradesim_nb.bench.measure", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notebook", default=str(REPO / "notebooks" / "01_trade_cost_simulator.ipynb"))
    ap.add_argument("--duration", type=float, default=300.0, help="seconds (default 300)")
    ap.add_argument("--every", type=float, default=10.0, help="sampling period, seconds")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--json", help="write every sample and the summary to this file")
    ap.add_argument("--in-kernel-venue", action="store_true",
                    help="let the dashboard start its local venue inside the kernel (its CPU "
                         "then counts as the kernel's) instead of `tradesim venue` in its own "
                         "process")
    ap.add_argument("--rate", type=float, default=100.0,
                    help="book updates a second of the separate venue (default 100)")
    a = ap.parse_args(argv)
    if not (a.duration > 0 and a.every > 0):
        raise SystemExit(f"--duration={a.duration} and --every={a.every} must be > 0")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = run(Path(a.notebook).resolve(), a.duration, a.every, a.chromium,
              venue_process=not a.in_kernel_venue, rate_hz=a.rate)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(out, indent=1))
    sys.stdout.write(format_summary(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
