#!/usr/bin/env bash
# Installs the Debian packages of the QEMU guest tier (test/vm, VM-TESTING in the README):
# qemu-system-x86, a Debian kernel with its vsock modules, and a static busybox for the initramfs.
# Skipped when they are already present. Without root or apt-get it says why the VM tier will skip.
set -uo pipefail
have() {
  command -v qemu-system-x86_64 >/dev/null 2>&1 &&
    [ -x /bin/busybox ] &&
    ls /boot/vmlinuz-* >/dev/null 2>&1
}
if have; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup] QEMU tier needs: apt-get install qemu-system-x86 linux-image-amd64 busybox-static (as root); it will be skipped" >&2
  exit 0
fi
echo "[setup] installing qemu-system-x86 linux-image-amd64 busybox-static (about 2 minutes)…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static >&2 ||
  echo "[setup] apt-get failed: the QEMU tier will be skipped" >&2
exit 0
