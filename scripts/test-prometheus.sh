#!/usr/bin/env bash
# The real-Prometheus tier of `npm test` (issue 14): installs Debian's prometheus if missing
# (scripts/setup-prometheus.sh; its service is never started), then runs test/prometheus/ (built
# into dist/): the test starts a grid on loopback (libvirt's test driver) with `metrics.listen`
# on every program, runs the prometheus binary by hand on a free loopback port with a temp storage
# dir and a generated scrape config, and checks through its HTTP query API. The test stops and
# removes everything it started, also on failure.
#
# Skipped, with a loud banner and exit 0, only where prometheus is missing and cannot be installed
# (not Linux, no root and no password-less sudo, no apt-get). Anywhere else a failure fails the command.
set -euo pipefail
exec bash "$(dirname "$0")/run-apt-tier.sh" REAL-PROMETHEUS scripts/setup-prometheus.sh 'Nothing was tested against Prometheus.' BRINE_PROMETHEUS=/usr/bin/prometheus 'dist/test/prometheus/**/*.test.js'
