#!/usr/bin/env bash
# Make sure the browser tests have a Chromium, and say which one they will use.
# Order: $TRADESIM_CHROMIUM; Debian's chromium already on PATH; Debian's chromium installed
# with apt-get (as root, or with password-less sudo); else Playwright's own Chromium
# (`playwright install chromium`, the usual way on a machine without apt).
# Usage: scripts/ensure_browser.sh PATH/TO/VENV/bin
set -u
bin="${1:-.venv/bin}"
if [ -n "${TRADESIM_CHROMIUM:-}" ] && [ -x "$TRADESIM_CHROMIUM" ]; then
    echo "browser: $TRADESIM_CHROMIUM (from TRADESIM_CHROMIUM)"; exit 0
fi
if command -v chromium >/dev/null 2>&1; then
    echo "browser: $(command -v chromium) (Debian's chromium, already installed)"; exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && sudo="sudo -n"; }
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; }; then
    echo "browser: chromium missing; installing Debian's chromium with apt-get (about 20 s)"
    if $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        && command -v chromium >/dev/null 2>&1; then
        echo "browser: $(command -v chromium) (Debian's chromium, just installed)"; exit 0
    fi
    echo "browser: apt-get could not install chromium"
fi
echo "browser: installing Playwright's own Chromium (playwright install chromium)"
if "$bin/playwright" install chromium; then
    echo "browser: Playwright's Chromium (the browser tests find it through Playwright)"; exit 0
fi
echo "browser: no Chromium could be installed; the browser tests will fail and say so" >&2
exit 1
