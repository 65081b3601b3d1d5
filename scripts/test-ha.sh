#!/usr/bin/env bash
# The HA tier of `npm test` (issue 10.4): installs Debian's etcd if missing (scripts/setup-etcd.sh;
# its service is never started), then runs test/ha/ (built into dist/): each run starts a real
# 3-member etcd cluster on free loopback ports (scripts/etcd-cluster.sh), three coordinators with
# `store: etcd` and two agents on libvirt's test driver, kills the leader with -9 during submits
# and during a move, and checks the takeover. Everything started is stopped, also on failure.
#
# Skipped, with a loud banner and exit 0, only where etcd is missing and cannot be installed
# (not Linux, no root and no password-less sudo, no apt-get). Anywhere else a failure fails the command.
set -euo pipefail
exec bash "$(dirname "$0")/run-apt-tier.sh" HA-ETCD scripts/setup-etcd.sh 'Nothing was tested against etcd.' BRINE_ETCD=/usr/bin/etcd 'dist/test/ha/**/*.test.js'
