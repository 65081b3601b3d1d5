#!/usr/bin/env bash
# The real-browser tier of `npm test` (issue 14): installs Debian's chromium if missing
# (scripts/setup-chromium.sh), then runs test/browser/ (built into dist/): a grid on loopback
# (libvirt's test driver) with the coordinator's dashboard on, loaded in headless Chromium through
# playwright-core; a job is submitted and migrated with the CLI and the page must show it moving,
# then running at the destination. Screenshots go to the test's temp dir (kept on failure;
# BRINE_SCREENSHOTS=DIR keeps copies).
#
# Skipped, with a loud banner and exit 0, only where chromium is missing and cannot be installed
# (not Linux, no root and no password-less sudo, no apt-get). Anywhere else a failure fails the command.
set -euo pipefail
exec bash "$(dirname "$0")/run-apt-tier.sh" REAL-BROWSER scripts/setup-chromium.sh 'The dashboard was not tested in a browser.' BRINE_CHROMIUM=/usr/bin/chromium 'dist/test/browser/**/*.test.js'
