#!/usr/bin/env bash
# Installs what a new machine lacks for building and running vsock-rpc: the npm packages
# (npm ci, which also builds the vsock addon with node-gyp). Idempotent and quiet when
# nothing is missing, so every README command can start with it.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "[setup] installing npm packages (npm ci: about a minute on a fresh clone, the vsock addon's C build included)…" >&2
  start=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "[setup] npm packages installed in $((SECONDS - start)) s" >&2
fi
