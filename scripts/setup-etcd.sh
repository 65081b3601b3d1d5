#!/usr/bin/env bash
# Debian's etcd (3.4) for the HA tier (scripts/test-ha.sh) and `store: etcd`, only if missing.
# Its service is never started: scripts/etcd-cluster.sh runs the members by hand. Exit 3: cannot be installed.
set -euo pipefail
exec bash "$(dirname "$0")/setup-apt.sh" etcd-server etcd-client
