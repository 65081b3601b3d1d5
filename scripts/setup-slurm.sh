#!/usr/bin/env bash
# Packages of the real-Slurm test tier (scripts/test-slurm.sh), only if missing: Debian's
# slurm-wlm (slurmctld + slurmd + scontrol/sbatch) and munge. Nothing is started here: the tier
# starts its own munged/slurmctld/slurmd without systemd. Exit 3 when they cannot be installed
# (no root, no apt-get): the tier then skips with a banner.
set -euo pipefail
exec bash "$(dirname "$0")/setup-apt.sh" slurm-wlm munge
