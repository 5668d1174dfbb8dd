#!/usr/bin/env bash
# Installs Debian's socat, the baseline of the vsexec bench (packages/exec/bench: `vsexec run --
# cat bigfile` against `socat VSOCK-LISTEN … EXEC:"cat bigfile"` / `socat -u VSOCK-CONNECT:1:PORT -`
# in the same QEMU guest) and of the seed's setup that vsexec replaces. The guest shares this
# machine's / read-only, so installing it here makes it available in the guest.
# Never opens a vsock socket on this machine. Skipped when already present; without root or
# apt-get it says why the socat comparison will be skipped.
set -uo pipefail
if command -v socat >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup] the vsexec bench's socat baseline needs: apt-get install socat (as root); it will be skipped" >&2
  exit 0
fi
echo "[setup] installing socat…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends socat >&2 ||
  { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends socat >&2; } ||
  echo "[setup] apt-get failed: the socat baseline will be skipped" >&2
exit 0
