#!/usr/bin/env bash
# Installs `brine`, `brine-coordinator` and `brine-agent` as commands for every user: one small
# wrapper per program in PREFIX/bin (default /usr/local/bin, on the PATH that `sh` falls back to
# when it has none) that runs this checkout's bin/*.js with this node by absolute path, so they
# work with an empty environment (no PATH, no HOME), as batch scheduler hooks run.
#   bash scripts/install.sh [PREFIX]        (builds first; run again after moving the checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
PREFIX=${1:-/usr/local}
NODE=$(command -v node) || { echo "install: node (>= 20) not found" >&2; exit 1; }
NODE=$(readlink -f "$NODE")

[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null
npm run --silent build

mkdir -p "$PREFIX/bin"
for prog in brine brine-coordinator brine-agent; do
  tmp=$(mktemp "$PREFIX/bin/.$prog.XXXXXX")
  printf '#!/bin/sh\n# installed by %s/scripts/install.sh\nexec %s %s "$@"\n' "$ROOT" "'$NODE'" "'$ROOT/bin/$prog.js'" >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$PREFIX/bin/$prog" # atomic: a hook running now sees the old or the new wrapper
done

# every user runs these: the checkout must be readable (and its dirs searchable) by all
if ! runuser -u nobody -- test -r "$ROOT/dist/src/cli/main.js" 2>/dev/null && [ "$(id -u)" -eq 0 ]; then
  echo "install: warning: $ROOT/dist is not readable by other users; Slurm's hooks (SlurmUser) cannot run brine" >&2
fi
echo "install: $PREFIX/bin/brine, brine-coordinator, brine-agent → $ROOT (node $NODE)"
