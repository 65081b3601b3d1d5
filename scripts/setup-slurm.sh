#!/usr/bin/env bash
# Packages of the real-Slurm test tier (scripts/test-slurm.sh), only if missing: Debian's
# slurm-wlm (slurmctld + slurmd + scontrol/sbatch) and munge. Nothing is started here: the tier
# starts its own munged/slurmctld/slurmd without systemd. Exit 3 when they cannot be installed
# (no root, no apt-get): the tier then skips with a banner.
set -euo pipefail

log() { echo "setup-slurm: $*"; }

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

missing=()
for p in slurm-wlm munge; do installed "$p" || missing+=("$p"); done
[ "${#missing[@]}" -eq 0 ] && { log "slurm-wlm and munge present"; exit 0; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    log "cannot install ${missing[*]}: not root and no password-less sudo"; exit 3
  fi
fi
command -v apt-get >/dev/null || { log "cannot install ${missing[*]}: no apt-get"; exit 3; }
log "installing ${missing[*]}"
$SUDO apt-get update -qq || { log "apt-get update failed"; exit 3; }
# policy-rc.d 101: the packages' postinst must not start daemons (no systemd here; the tier starts its own)
$SUDO sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d.brine && chmod +x /usr/sbin/policy-rc.d.brine'
if [ ! -e /usr/sbin/policy-rc.d ]; then $SUDO ln -s policy-rc.d.brine /usr/sbin/policy-rc.d; created=1; else created=0; fi
status=0
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
[ "$created" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
$SUDO rm -f /usr/sbin/policy-rc.d.brine
[ "$status" -eq 0 ] || { log "apt-get install ${missing[*]} failed ($status)"; exit 3; }
log "installed ${missing[*]}"
