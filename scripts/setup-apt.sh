#!/usr/bin/env bash
# Installs the Debian packages named on the command line, only those missing, without starting
# any daemon (policy-rc.d 101: no systemd here). Shared by the package-backed
# tiers (setup-slurm.sh, setup-prometheus.sh, setup-chromium.sh). Exit 3 when they cannot be installed (no root and no
# password-less sudo, no apt-get): the tier then skips with a banner.
set -euo pipefail

log() { echo "setup-apt: $*"; }
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

missing=()
for p in "$@"; do installed "$p" || missing+=("$p"); done
[ "${#missing[@]}" -eq 0 ] && { log "$* present"; exit 0; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    log "cannot install ${missing[*]}: not root and no password-less sudo"; exit 3
  fi
fi
command -v apt-get >/dev/null || { log "cannot install ${missing[*]}: no apt-get"; exit 3; }
log "installing ${missing[*]}"
$SUDO apt-get update -qq || { log "apt-get update failed"; exit 3; }
# policy-rc.d 101: postinst scripts (prometheus's) must not start daemons; the tiers start their own
$SUDO sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d.brine-apt && chmod +x /usr/sbin/policy-rc.d.brine-apt'
if [ ! -e /usr/sbin/policy-rc.d ]; then $SUDO ln -s policy-rc.d.brine-apt /usr/sbin/policy-rc.d; created=1; else created=0; fi
status=0
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
[ "$created" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
$SUDO rm -f /usr/sbin/policy-rc.d.brine-apt
[ "$status" -eq 0 ] || { log "apt-get install ${missing[*]} failed ($status)"; exit 3; }
log "installed ${missing[*]}"
