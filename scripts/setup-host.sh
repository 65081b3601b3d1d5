#!/usr/bin/env bash
# Base setup that the README's demo and test commands run first:
#  - Debian packages the embedded default needs, only if missing: libvirt0 (libvirt.so.0, loaded
#    through koffi), libvirt-clients (virsh) and genisoimage (the agent builds each VM's
#    cloud-init NoCloud seed with it; isoinfo, from the same package, reads them in tests),
#    qemu-utils (qemu-img) and e2fsprogs (mkfs.ext4, e2fsck, debugfs): the agent makes and reads
#    output disks (`submit --output-disk`, site-agent/output-disk.ts) with them;
#  - npm ci when node_modules is missing or older than package-lock.json;
#  - npm run build.
# A second run installs nothing and prints one line.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo to install packages"
  SUDO="sudo"
fi

# (No `| grep -q` here: with pipefail, grep quitting early can fail the pipeline.)
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

done_what=()
missing=()
libs=$(ldconfig -p 2>/dev/null || true)
[[ "$libs" == *"libvirt.so.0 "* ]] || missing+=(libvirt0)
{ command -v virsh >/dev/null && installed libvirt-clients; } || missing+=(libvirt-clients)
command -v genisoimage >/dev/null || missing+=(genisoimage)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
{ PATH="$PATH:/usr/sbin:/sbin" command -v mkfs.ext4 >/dev/null && PATH="$PATH:/usr/sbin:/sbin" command -v debugfs >/dev/null; } || missing+=(e2fsprogs)
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install them by hand"
  log "installing ${missing[*]} (apt-get update first)"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  done_what+=("installed ${missing[*]}")
fi

command -v node >/dev/null || die "node (>= 20) not found"
command -v npm >/dev/null || die "npm not found"

# npm writes node_modules/.package-lock.json on every install: older than the lock = stale.
if [ ! -f node_modules/.package-lock.json ] || [ node_modules/.package-lock.json -ot package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  done_what+=("npm ci")
fi

# zstd-napi's own install script is not allowed (package.json allowScripts): it would try a
# prebuilt-binary download first. Its bundled libzstd is built here from source, offline: Node's
# headers come from the Node install (--nodedir), never from the network.
if [ ! -f node_modules/zstd-napi/build/Release/binding.node ]; then
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$gyp" ] || die "node-gyp (bundled with npm) not found: needed to build zstd-napi"
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  [ -d "$nodedir/include/node" ] || die "Node headers not found in $nodedir/include/node: install them (Debian: nodejs headers; or the Node tarball)"
  command -v make >/dev/null && command -v g++ >/dev/null || die "make and g++ are needed to build zstd-napi (apt-get install build-essential)"
  log "building zstd-napi (libzstd) from source"
  (cd node_modules/zstd-napi && node "$gyp" rebuild --nodedir="$nodedir" --loglevel=error >/dev/null)
  done_what+=("built zstd-napi")
fi

npm run --silent build
done_what+=("built")

summary=$(printf '%s, ' "${done_what[@]}")
log "host ready: libvirt0, virsh, genisoimage, qemu-img, e2fsprogs and node_modules present; ${summary%, }"
