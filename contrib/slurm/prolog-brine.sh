#!/bin/sh
# brine's PrologSlurmctld (slurm.conf: PrologSlurmctld=/etc/slurm/prolog-brine.sh): before a
# Slurm job starts, the brine VMs on its nodes are checkpointed to disk and stopped (by the
# coordinator, or by the site's agent BRINE_AGENT when the coordinator is unreachable); nodes brine
# does not manage, or without brine VMs, are handed over at once. Exit 0 lets the job start.
# Runs as SlurmUser with no PATH and no HOME; settings are in CONF.
CONF=/etc/brine/slurm-hooks.conf
BRINE_GRACE=2m BRINE_POLICY=fail-closed BRINE_LOG=/var/log/slurm/brine-hooks.log BRINE_AGENT=
PATH=/usr/local/bin:/usr/bin:/bin
if ! . "$CONF"; then echo "brine prolog: cannot read $CONF" >&2; exit 1; fi
export PATH BRINE_COORDINATOR BRINE_CERT BRINE_KEY BRINE_CA SLURM_CONF

t0=$(date +%s%N)
nodes=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | paste -sd, -)
t1=$(date +%s%N)
out=$(brine site reclaim "$BRINE_SITE" --nodes "$nodes" --grace "$BRINE_GRACE" --ignore-unknown ${BRINE_AGENT:+--agent "$BRINE_AGENT"} 2>&1)
rc=$?
t2=$(date +%s%N)

if [ "$rc" -eq 0 ]; then
  code=0 verdict=ok
elif [ "$BRINE_POLICY" = fail-open ]; then
  code=0 verdict="fail-open: the job starts; brine VMs on these nodes were NOT saved"
else
  code=1 verdict="fail-closed: the job does not start (Slurm requeues it)"
fi
printf '%s prolog job=%s site=%s nodes=%s brine_exit=%s hook_exit=%s ms=%s (scontrol %s, brine %s) %s | %s\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SLURM_JOB_ID" "$BRINE_SITE" "$nodes" "$rc" "$code" \
  $(( (t2 - t0) / 1000000 )) $(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 )) \
  "$verdict" "$(printf '%s' "$out" | tr '\n' ' ')" >>"$BRINE_LOG"
exit "$code"
