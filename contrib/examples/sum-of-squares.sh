#!/bin/sh
# brine's worked example (README, "A job that brings its output back"): the user-data of each VM
# of a 2-VM job. It finds its peer by name through the cluster's DNS, works for a minute (printing
# each step on its console), writes its result to its output disk (/output) and powers off; once
# both VMs are off, the job is COMPLETED. The job may be moved at any time meanwhile.
me=$(hostname)
case "$me" in *-0) peer="${me%-0}-1" ;; *) peer="${me%-1}-0" ;; esac
# brine's test guest mounts the output disk itself; elsewhere it is the volume labelled brine-output
mountpoint -q /output 2>/dev/null || { mkdir -p /output && mount /dev/disk/by-label/brine-output /output; }
steps=60
sum=0
i=0
while [ "$i" -lt "$steps" ]; do
  i=$((i + 1))
  sum=$((sum + i * i))
  ip=$(nslookup "$peer" 2>/dev/null | sed -n '/^Name:/,$ s/^Address[^:]*: *//p' | head -n1)
  echo "step $i/$steps: $peer is at ${ip:-unresolved}"
  sleep 1
done
echo "$me: sum of squares 1..$steps = $sum" | tee /output/result.txt
sync
umount /output
poweroff -f
