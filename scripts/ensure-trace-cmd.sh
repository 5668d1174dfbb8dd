#!/usr/bin/env bash
# Installs Debian's trace-cmd, the reference ftrace reader of the QEMU tier's ftrace test
# (test/vm/ftrace.vm.test.ts) and of the bench's trace-cmd comparison. The guest shares this
# machine's / read-only, so installing it here makes it available in the guest.
# Never runs trace-cmd on this machine. Skipped when already present; without root or apt-get
# it says why the trace-cmd comparison will be skipped.
set -uo pipefail
if command -v trace-cmd >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup] the ftrace comparison needs: apt-get install trace-cmd (as root); it will be skipped" >&2
  exit 0
fi
echo "[setup] installing trace-cmd…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends trace-cmd >&2 ||
  { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends trace-cmd >&2; } ||
  echo "[setup] apt-get failed: the trace-cmd comparison will be skipped" >&2
exit 0
