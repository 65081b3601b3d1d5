#!/usr/bin/env bash
# Debian's chromium for the real-browser tier (scripts/test-dashboard.sh), only if missing.
# Exit 3: cannot be installed.
set -euo pipefail
exec bash "$(dirname "$0")/setup-apt.sh" chromium
