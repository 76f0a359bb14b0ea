#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the browser tests, only when it is missing.
# Idempotent and quiet: when a Chromium is already there it exits at once.
# Playwright's own browser download does not work offline, so the tests drive this binary.
set -euo pipefail

for candidate in "${VIZLAB_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        exit 0
    fi
done

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser.sh: no Chromium and no apt-get here; install Chromium yourself" \
         "and set VIZLAB_CHROMIUM=/path/to/chromium" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser.sh: installing Chromium needs root; run as root:" \
             "apt-get update && apt-get install -y chromium" >&2
        exit 1
    fi
fi

echo "install_browser.sh: installing Debian's chromium (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "install_browser.sh: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')" >&2
