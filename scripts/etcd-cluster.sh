#!/usr/bin/env bash
# A real N-member etcd cluster on loopback, for the HA tier and for trying `store: etcd` by hand.
#   etcd-cluster.sh start DIR [N]   start N members (default 3) on free loopback ports, data under
#                                   DIR; waits until every member is healthy; prints the client
#                                   endpoints (comma-separated), also written to DIR/endpoints
#   etcd-cluster.sh stop DIR        kill the members started in DIR (their pids: DIR/member-*.pid)
# Needs Debian's etcd-server and etcd-client (scripts/setup-etcd.sh installs them).
set -euo pipefail
cmd=${1:?usage: etcd-cluster.sh start|stop DIR [N]} dir=${2:?usage: etcd-cluster.sh start|stop DIR [N]}

stop() {
  shopt -s nullglob
  for f in "$dir"/member-*.pid; do
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "etcd-cluster.sh: unknown command $cmd (start or stop)" >&2; exit 2; }
n=${3:-3}
command -v etcd >/dev/null || { echo "etcd-cluster.sh: etcd is not installed (bash scripts/setup-etcd.sh)" >&2; exit 3; }
mkdir -p "$dir"
# 2N free loopback ports, asked of the kernel at once so that none repeats
read -r -a ports <<<"$(node -e '
  const net = require("node:net");
  const n = Number(process.argv[1]);
  const servers = Array.from({ length: n }, () => net.createServer());
  Promise.all(servers.map((s) => new Promise((r) => s.listen(0, "127.0.0.1", () => r(s.address().port)))))
    .then((ps) => { console.log(ps.join(" ")); servers.forEach((s) => s.close()); });
' $((2 * n)))"
cluster="" endpoints=""
for i in $(seq 0 $((n - 1))); do
  cluster+="${cluster:+,}m$i=http://127.0.0.1:${ports[$((2 * i + 1))]}"
  endpoints+="${endpoints:+,}http://127.0.0.1:${ports[$((2 * i))]}"
done
trap 'stop' ERR
for i in $(seq 0 $((n - 1))); do
  # a short election timeout: the tier measures how fast a coordinator takes over, not etcd
  etcd --name "m$i" --data-dir "$dir/m$i" \
    --listen-client-urls "http://127.0.0.1:${ports[$((2 * i))]}" --advertise-client-urls "http://127.0.0.1:${ports[$((2 * i))]}" \
    --listen-peer-urls "http://127.0.0.1:${ports[$((2 * i + 1))]}" --initial-advertise-peer-urls "http://127.0.0.1:${ports[$((2 * i + 1))]}" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "brine-$$" \
    --heartbeat-interval 100 --election-timeout 1000 --max-request-bytes 8388608 --max-txn-ops 1024 \
    >"$dir/m$i.log" 2>&1 &
  echo $! >"$dir/member-$i.pid"
done
for _ in $(seq 100); do
  if ETCDCTL_API=3 etcdctl --endpoints "$endpoints" endpoint health >/dev/null 2>&1; then
    echo "$endpoints" >"$dir/endpoints"
    echo "$endpoints"
    exit 0
  fi
  sleep 0.2
done
echo "etcd-cluster.sh: the members did not become healthy within 20 s; their logs: $dir/m*.log" >&2
stop
exit 1
