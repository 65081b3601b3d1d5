#!/usr/bin/env bash
# The real-VM tier of `npm test`: prepares the host (scripts/setup-qemu.sh: libvirtd, QEMU, the test
# guest), then runs test/qemu/ (built into dist/) with mocha against qemu:///system.
#
# Skipped, with a loud banner and exit 0, only where QEMU cannot run at all: not Linux, no root and
# no passwordless sudo, no apt/dpkg to install it (and no libvirtd+QEMU already there), or a CPU the
# test guest (an amd64 Debian kernel) cannot boot on. Anywhere else a failure of the setup or of a
# test fails the command. Needs `npm run build` first (setup-host.sh does it).
set -euo pipefail
cd "$(dirname "$0")/.."

banner() {
  local line='!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
  {
    echo
    echo "$line"
    echo "!!  REAL-VM TIER SKIPPED: QEMU cannot run on this host."
    echo "!!  $1"
    echo "!!  Nothing was tested on real VMs. The tier runs on Debian/Ubuntu as root (or with sudo)."
    echo "$line"
    echo
  } >&2
}

# --- can QEMU run here at all? -------------------------------------------------------------------
if [ "$(uname -s)" != Linux ]; then
  banner "not Linux ($(uname -s)): libvirtd and QEMU with the test guest need a Linux host."
  exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
  banner "CPU $(uname -m): the test guest is an amd64 Debian kernel (scripts/build-test-guest.sh)."
  exit 0
fi
if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
  banner "not root and no passwordless sudo: cannot install or start libvirtd (scripts/setup-qemu.sh)."
  exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  if ! command -v libvirtd >/dev/null || ! command -v qemu-system-x86_64 >/dev/null; then
    banner "no apt-get/dpkg to install libvirtd and QEMU, and they are not installed."
    exit 0
  fi
fi

# --- from here on, every failure is a failure ----------------------------------------------------
start=$(date +%s)
echo "test-qemu: preparing the host (scripts/setup-qemu.sh)"
bash scripts/setup-qemu.sh
# The Debian guest with Debian's own cloud-init (test/qemu/cloud-init.test.ts): built once, cached
# in .brine/cloud-guest/ (a few minutes: debootstrap and ~100 MB of packages).
cg_start=$(date +%s)
bash scripts/build-cloud-guest.sh
echo "test-qemu: cloud-init guest ready in $(( $(date +%s) - cg_start )) s"
[ -f dist/test/qemu/real-vms.test.js ] || { echo "test-qemu: dist/ is not built (run npm run build)" >&2; exit 1; }

echo "test-qemu: real-VM tier on qemu:///system"
set +e
npx --no-install mocha --no-config --reporter spec --timeout 300000 --exit 'dist/test/qemu/**/*.test.js'
rc=$?
set -e
echo "test-qemu: real-VM tier $([ "$rc" -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s (setup included)"
exit "$rc"
