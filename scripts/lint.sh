#!/usr/bin/env bash
# `npm run lint`: everything that reads the code without running it, on the whole tree, each step
# named as it starts (ESLint's type-aware pass takes ~30 s on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "[lint] type-check every package with its tests (tsc)" >&2
npx turbo run lint --output-logs=errors-only
echo "[lint] public API reports (api/*.api.md) match the code" >&2
node scripts/api-report.mjs --check
echo "[lint] typescript-eslint, type-aware (no-floating-promises, no-misused-promises, switch-exhaustiveness-check, …)" >&2
npx eslint . --max-warnings 0
echo "[lint] prettier --check" >&2
npx prettier --check . --log-level warn
echo "[lint] clean" >&2
