#!/usr/bin/env bash
# Installs Debian's `prometheus` for the test that scrapes `envtest server --metrics` with a real
# Prometheus (envtest/test/prometheus.test.ts). Like ensure-qemu.sh: apt-get only when it is
# missing, and never fatal: without it that test shows as skipped, never as passed.
set -uo pipefail
if command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup] prometheus is missing and cannot be installed here (needs root and apt-get): its test will be skipped" >&2
  exit 0
fi
echo "[setup] installing Debian's prometheus (apt-get, about a minute) for the Prometheus scrape test…" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1 || true
  apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 ||
    echo "[setup] could not install prometheus: its test will be skipped" >&2
fi
# The package starts a service where an init system runs; the test starts its own instance.
exit 0
