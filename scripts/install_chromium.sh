#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
# Installs it with apt-get when it is missing and this shell may; otherwise says what to do.
set -euo pipefail
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium (Debian package, about a minute)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    exit 0
fi
echo "chromium is missing: install it (sudo apt-get install chromium) for the browser tests," \
     "or set MIXVIZ_SKIP_BROWSER=1 to skip them" >&2
exit 1
