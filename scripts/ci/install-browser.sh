#!/usr/bin/env bash
# Debian's Chromium and its matching chromedriver for the browser test (tests_browser/).
# Idempotent: does nothing when both are already there. Nothing here downloads a browser build
# of its own (no Selenium Manager, no `playwright install`): only Debian packages through apt.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; then
    echo "install-browser: $(chromium --version 2>/dev/null || echo chromium) and chromedriver already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
echo "install-browser: $(chromium --version) and $(/usr/bin/chromedriver --version) installed"
