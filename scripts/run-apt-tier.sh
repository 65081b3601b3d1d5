#!/usr/bin/env bash
# One test tier backed by a Debian package (the monitoring tiers: test-prometheus.sh,
# test-dashboard.sh): its setup script installs the package if missing; exit 3 from it means it
# cannot be installed here (not root, no apt-get) and the tier is skipped with a loud banner and
# exit 0. Anywhere else a failure fails the command. Then the tier's mocha files run from dist/.
#   run-apt-tier.sh NAME SETUP-SCRIPT WHAT-IS-UNTESTED ENV=VALUE SPEC
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 setup=$2 untested=$3 env=$4 spec=$5

banner() {
  local line='!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
  { echo; echo "$line"; echo "!!  $name TIER SKIPPED: $1"; echo "!!  $untested The tier runs on Debian/Ubuntu as root (or with sudo)."; echo "$line"; echo; } >&2
}

[ "$(uname -s)" = Linux ] || { banner "not Linux ($(uname -s))."; exit 0; }
set +e; bash "$setup"; rc=$?; set -e
[ "$rc" -eq 3 ] && { banner "its package cannot be installed here (see setup-apt's line above)."; exit 0; }
[ "$rc" -eq 0 ] || exit "$rc"
[ -d "${spec%%/\*\**}" ] || npm run build
exec env "$env" npx mocha --no-config --timeout 60000 --exit "$spec"
