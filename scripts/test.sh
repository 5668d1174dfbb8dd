#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, builds every package,
# type-checks every package with its tests, then runs every vitest test, the QEMU guest tier
# included when QEMU is present.
set -uo pipefail
cd "$(dirname "$0")/.."
rm -f test-results/vitest.json   # a stale report must never be summarised as this run's
bash scripts/ensure-setup.sh || exit 1
bash scripts/ensure-qemu.sh
bash scripts/ensure-legacy-peer.sh
bash scripts/ensure-prometheus.sh
bash scripts/ensure-trace-cmd.sh
bash scripts/ensure-socat.sh
npx turbo run build --output-logs=errors-only || exit 1
# Type-check the tests too: the compile-time typing tests (@ts-expect-error) only bite here.
npm run lint --silent || exit 1
mkdir -p test-results
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@"
status=$?
node scripts/summarize-results.mjs test-results/vitest.json || true
exit $status
