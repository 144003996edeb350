#!/usr/bin/env bash
# Installs the system packages Spillway's tests run for real: Redis, Prometheus and
# Alertmanager, openssl (certificates made at test time), the gRPC C-core xDS client from
# python3-grpcio and Chromium, the browser the console's tests drive (Debian packages). Tests start their own servers on free loopback ports and
# stop them; nothing here starts a daemon. Safe to run again: it installs only what is missing.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# promtool (rule checks and unit tests) comes with Debian's prometheus package.
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# Debian's own python3 (not a pyenv or venv one on PATH) is the one python3-grpcio installs into.
/usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || need+=(python3-grpcio)
# playwright-core drives Debian's build (/usr/bin/chromium); it never downloads a browser.
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "test-setup: please install ${need[*]} (no apt-get on this machine)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "test-setup: installing ${need[*]} with apt-get"
# Debian's packages start their daemons on install; tests never use those, so keep them off.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && created_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ -n "$created_policy" ] && $sudo rm -f "$policy"
echo "test-setup: done"
