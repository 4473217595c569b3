#!/usr/bin/env bash
# Debian packages the deployment test starts its own instances of: PostgreSQL (the metadata
# database) and redis-server (the Celery broker). Idempotent: installs only what is missing.
# The packages' own system services are not used; the test runs private instances on free ports.
set -euo pipefail

packages=(postgresql redis-server)
missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-services: ${packages[*]} already installed"
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "install-services: installing ${missing[*]}"
$sudo apt-get update -qq
# policy-rc.d-free: the packages' services may try to start; the test never relies on them.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
