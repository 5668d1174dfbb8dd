#!/usr/bin/env bash
# Installs what the QEMU tier's legacy-wire test (test/vm/legacy.vm.test.ts) needs to build its C++
# peer: g++ and Debian's libcereal-dev (the serialisation library the original C++ envtest used).
# Skipped when they are already present. Without root or apt-get it says why that test will skip.
set -uo pipefail
have() {
  command -v g++ >/dev/null 2>&1 && [ -f /usr/include/cereal/archives/binary.hpp ]
}
if have; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup] the legacy-wire VM test needs: apt-get install g++ libcereal-dev (as root); it will be skipped" >&2
  exit 0
fi
echo "[setup] installing g++ libcereal-dev (the legacy-wire VM test's C++ peer)…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends g++ libcereal-dev >&2 ||
  echo "[setup] apt-get failed: the legacy-wire VM test will be skipped" >&2
exit 0
