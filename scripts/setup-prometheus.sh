#!/usr/bin/env bash
# Debian's prometheus for the real-Prometheus tier (scripts/test-prometheus.sh), only if missing.
# Its service is never started: the tier runs the binary by hand. Exit 3: cannot be installed.
set -euo pipefail
exec bash "$(dirname "$0")/setup-apt.sh" prometheus
