#!/usr/bin/env bash
# Installs brine's Slurm hooks (contrib/slurm/) on the Slurm controller:
#   bash scripts/install-slurm-hooks.sh [--hooks-dir /etc/slurm] [--conf /etc/brine/slurm-hooks.conf]
# Copies prolog-brine.sh and epilog-brine.sh into the hooks dir (replacing them atomically: slurmctld
# runs the file anew for each job) and the settings file to --conf unless one is there already
# (yours is never overwritten). The `brine` command itself comes from scripts/install.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
HOOKS_DIR=/etc/slurm
CONF=/etc/brine/slurm-hooks.conf
while [ $# -gt 0 ]; do
  case "$1" in
    --hooks-dir) HOOKS_DIR=$2; shift 2 ;;
    --conf) CONF=$2; shift 2 ;;
    *) echo "install-slurm-hooks: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done

mkdir -p "$HOOKS_DIR" "$(dirname "$CONF")"
for hook in prolog-brine.sh epilog-brine.sh; do
  tmp=$(mktemp "$HOOKS_DIR/.$hook.XXXXXX")
  # the shipped scripts name the default settings file; point them at --conf
  sed "s|^CONF=.*|CONF=$CONF|" "contrib/slurm/$hook" >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$HOOKS_DIR/$hook"
done
if [ -e "$CONF" ]; then
  echo "install-slurm-hooks: kept your $CONF"
else
  install -m 644 contrib/slurm/brine-hooks.conf "$CONF"
  echo "install-slurm-hooks: wrote $CONF: set BRINE_SITE, BRINE_COORDINATOR and BRINE_AGENT there"
fi
command -v brine >/dev/null || echo "install-slurm-hooks: warning: no brine on PATH yet: run bash scripts/install.sh" >&2
echo "install-slurm-hooks: $HOOKS_DIR/prolog-brine.sh, $HOOKS_DIR/epilog-brine.sh; in slurm.conf (then restart slurmctld):"
echo "  PrologSlurmctld=$HOOKS_DIR/prolog-brine.sh"
echo "  EpilogSlurmctld=$HOOKS_DIR/epilog-brine.sh"
