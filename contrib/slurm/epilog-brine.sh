#!/bin/sh
# brine's EpilogSlurmctld (slurm.conf: EpilogSlurmctld=/etc/slurm/epilog-brine.sh): once a Slurm
# job has ended, its nodes take best-effort brine VMs again. Always exits 0 (an epilog cannot
# undo the job); if the release fails the nodes stay closed to brine and the log line says so:
# run `brine site release SITE --nodes …` by hand once the coordinator is back. With the
# coordinator unreachable, the site's agent (BRINE_AGENT) opens the nodes and tells it later.
CONF=/etc/brine/slurm-hooks.conf
BRINE_LOG=/var/log/slurm/brine-hooks.log BRINE_AGENT=
PATH=/usr/local/bin:/usr/bin:/bin
if ! . "$CONF"; then echo "brine epilog: cannot read $CONF" >&2; exit 0; fi
export PATH BRINE_COORDINATOR BRINE_CERT BRINE_KEY BRINE_CA SLURM_CONF

t0=$(date +%s%N)
nodes=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | paste -sd, -)
out=$(brine site release "$BRINE_SITE" --nodes "$nodes" --ignore-unknown ${BRINE_AGENT:+--agent "$BRINE_AGENT"} 2>&1)
rc=$?
t1=$(date +%s%N)

if [ "$rc" -eq 0 ]; then verdict=ok; else verdict="NOT released: the nodes stay closed to brine VMs"; fi
printf '%s epilog job=%s site=%s nodes=%s brine_exit=%s hook_exit=0 ms=%s %s | %s\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SLURM_JOB_ID" "$BRINE_SITE" "$nodes" "$rc" \
  $(( (t1 - t0) / 1000000 )) "$verdict" "$(printf '%s' "$out" | tr '\n' ' ')" >>"$BRINE_LOG"
exit 0
