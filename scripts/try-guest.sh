#!/usr/bin/env bash
# Smoke check of real VMs on qemu:///system with brine's test guest (scripts/build-test-guest.sh):
#  1. a libvirt network with DHCP (one static host) and a guest on it: the guest's console shows
#     `tick N eth0=MAC,IP/PREFIX` with the static IP; prints boot-to-first-tick time;
#  2. virsh save / virsh restore: the tick counter carries on (restored, not rebooted);
#  3. a second NIC attached live gets its address by DHCP; detaching the first one works, and a
#     NIC attached again afterwards (the swap brine does after a restore) gets its address too;
#  4. virsh reboot restarts the counter at 1; virsh shutdown (ACPI power button) stops the guest;
#  5. a guest booted with brine.poweroff=5 ends in `shut off` by itself.
# Everything it creates is named brine-smoke-* and removed on exit, also on failure.
# Run scripts/setup-qemu.sh first. Exits non-zero with a message on the first failed check.
set -euo pipefail
cd "$(dirname "$0")/.."

URI=${BRINE_SMOKE_URI:-qemu:///system}
NET=brine-smoke-net
BRIDGE=brine-smoke0      # at most 15 characters (kernel limit on interface names)
VM=brine-smoke-vm
VM_OFF=brine-smoke-off
MAC1=02:b1:5e:00:00:01   # locally administered, unicast
MAC2=02:b1:5e:00:00:02
IP1=10.250.0.2
IP2=10.250.0.3
PREFIX=29
TIMEOUT=${BRINE_SMOKE_TIMEOUT:-60}   # seconds allowed for each wait

guest=$(pwd)/.brine/guest
smoke=$(pwd)/.brine/smoke
console=$smoke/console.log
console_off=$smoke/console-off.log

virsh() { command virsh -q -c "$URI" "$@"; }
log() { echo "smoke: $*"; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2fs", ms / 1000 }'; }

failed=0
fail() {
  failed=1
  echo "smoke: FAILED: $*" >&2
  for f in "$console" "$console_off"; do
    if [ -s "$f" ]; then
      echo "smoke: last lines of $f:" >&2
      tail -n 15 "$f" | sed 's/^/  | /' >&2
    fi
  done
  exit 1
}

cleanup() {
  local d
  for d in "$VM" "$VM_OFF"; do
    if virsh dominfo "$d" >/dev/null 2>&1; then
      virsh destroy "$d" >/dev/null 2>&1 || true
      virsh undefine "$d" >/dev/null 2>&1 || true
    fi
  done
  if virsh net-info "$NET" >/dev/null 2>&1; then
    virsh net-destroy "$NET" >/dev/null 2>&1 || true
    virsh net-undefine "$NET" >/dev/null 2>&1 || true
  fi
  rm -rf "$smoke"
}
on_exit() {
  local rc=$?
  cleanup
  if virsh dominfo "$VM" >/dev/null 2>&1 || virsh dominfo "$VM_OFF" >/dev/null 2>&1 ||
     virsh net-info "$NET" >/dev/null 2>&1; then
    echo "smoke: warning: cleanup left brine-smoke-* objects in $URI" >&2
    rc=1
  fi
  [ "$rc" -eq 0 ] || [ "$failed" -eq 1 ] || echo "smoke: FAILED (exit $rc)" >&2
  exit "$rc"
}

# Waits until the console file, read from byte offset $2, has a line matching the ERE $3; prints it.
wait_line() {
  local file=$1 offset=$2 re=$3 what=$4 deadline line
  deadline=$(($(date +%s) + TIMEOUT))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ -f "$file" ]; then
      line=$(tail -c +"$((offset + 1))" "$file" | tr -d '\r' | grep -E -m1 "$re" || true)
      if [ -n "$line" ]; then echo "$line"; return 0; fi
    fi
    sleep 0.1
  done
  fail "no console line showing $what within ${TIMEOUT}s"
}
last_tick() { tr -d '\r' <"$1" | grep -E '^tick [0-9]+' | tail -n1 | awk '{print $2}'; }
size_of() { stat -c %s "$1"; }

nic_xml() {
  cat <<EOF
<interface type='network'>
  <source network='$NET'/>
  <mac address='$1'/>
  <model type='virtio'/>
</interface>
EOF
}

domain_xml() { # name cmdline console-file with-nic
  cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.img</initrd>
    <cmdline>$2</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    $( [ "$4" = yes ] && nic_xml "$MAC1" )
    <serial type='file'>
      <source path='$3' append='on'/>
      <target port='0'/>
    </serial>
    <!-- libvirt adds a USB controller by default; under TCG it costs about 1 s of boot. -->
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# --- preflight -----------------------------------------------------------------------------------
command -v virsh >/dev/null || { echo "smoke: virsh missing: run scripts/setup-qemu.sh" >&2; exit 1; }
virsh version >/dev/null 2>&1 ||
  { echo "smoke: libvirtd does not answer on $URI: run scripts/setup-qemu.sh" >&2; exit 1; }
for f in vmlinuz initrd.img cmdline; do
  [ -s "$guest/$f" ] || { echo "smoke: $guest/$f missing: run scripts/build-test-guest.sh" >&2; exit 1; }
done
cmdline=$(cat "$guest/cmdline")

trap on_exit EXIT
trap 'exit 130' INT TERM
cleanup   # leftovers of an interrupted earlier run
mkdir -p "$smoke"

# --- network and first boot ----------------------------------------------------------------------
cat >"$smoke/net.xml" <<EOF
<network>
  <name>$NET</name>
  <bridge name='$BRIDGE' stp='off' delay='0'/>
  <ip address='10.250.0.1' netmask='255.255.255.248'>
    <dhcp>
      <range start='10.250.0.4' end='10.250.0.6'/>
      <host mac='$MAC1' ip='$IP1'/>
      <host mac='$MAC2' ip='$IP2'/>
    </dhcp>
  </ip>
</network>
EOF
virsh net-define "$smoke/net.xml" >/dev/null || fail "net-define $NET"
virsh net-start "$NET" >/dev/null || fail "net-start $NET (is iptables installed, and libvirtd restarted since?)"
log "network $NET up (bridge $BRIDGE, 10.250.0.0/$PREFIX, static $MAC1 -> $IP1)"

domain_xml "$VM" "$cmdline" "$console" yes >"$smoke/vm.xml"
virsh define "$smoke/vm.xml" >/dev/null || fail "define $VM"
t0=$(now_ms)
virsh start "$VM" >/dev/null || fail "start $VM"
t_started=$(now_ms)
wait_line "$console" 0 '^tick [0-9]+' "a first tick" >/dev/null
t_tick=$(now_ms)
line=$(wait_line "$console" 0 "^tick [0-9]+ .*eth0=$MAC1,$IP1/$PREFIX( |\$)" "eth0 with $IP1/$PREFIX")
t_ip=$(now_ms)
log "boot: virsh start $(secs $((t_started - t0))), first tick after $(secs $((t_tick - t0))), static IP after $(secs $((t_ip - t0)))"
log "  $line"

# --- save / restore ------------------------------------------------------------------------------
sleep 2
t0=$(now_ms)
virsh save "$VM" "$smoke/vm.save" >/dev/null || fail "virsh save"
t_save=$(( $(now_ms) - t0 ))
before=$(last_tick "$console")
[ "$(virsh domstate "$VM")" = "shut off" ] || fail "$VM not shut off after save"
offset=$(size_of "$console")
save_mb=$(( $(size_of "$smoke/vm.save") / 1024 / 1024 ))
t0=$(now_ms)
virsh restore "$smoke/vm.save" >/dev/null || fail "virsh restore"
t_restore=$(( $(now_ms) - t0 ))
line=$(wait_line "$console" "$offset" '^tick [0-9]+' "a tick after restore")
after=$(echo "$line" | awk '{print $2}')
[ "$after" -gt "$before" ] ||
  fail "counter restarted after restore (last tick before save $before, first after restore $after)"
echo "$line" | grep -qE "eth0=$MAC1,$IP1/$PREFIX( |\$)" || fail "address lost after restore: $line"
log "save $(secs "$t_save") (${save_mb} MiB), restore $(secs "$t_restore"); counter $before -> $after (carried on)"

# --- NIC hot-plug and unplug ---------------------------------------------------------------------
nic_xml "$MAC2" >"$smoke/nic2.xml"
nic_xml "$MAC1" >"$smoke/nic1.xml"
offset=$(size_of "$console")
t0=$(now_ms)
virsh attach-device "$VM" "$smoke/nic2.xml" --live >/dev/null || fail "attach-device (second NIC)"
line=$(wait_line "$console" "$offset" "^tick [0-9]+ .*=$MAC2,$IP2/$PREFIX( |\$)" "the hot-plugged NIC with $IP2/$PREFIX")
log "hot-plug: second NIC got $IP2 by DHCP after $(secs $(( $(now_ms) - t0 )))"
log "  $line"
offset=$(size_of "$console")
t0=$(now_ms)
virsh detach-device "$VM" "$smoke/nic1.xml" --live >/dev/null || fail "detach-device (first NIC)"
line=$(wait_line "$console" "$offset" "^tick [0-9]+ [^ ]+=$MAC2,$IP2/$PREFIX\$" "only the second NIC after unplugging the first")
log "unplug: first NIC gone from the guest after $(secs $(( $(now_ms) - t0 )))"
log "  $line"
# What brine does after a restore with a new MAC: a NIC replaced under the same guest name (eth0).
offset=$(size_of "$console")
t0=$(now_ms)
virsh attach-device "$VM" "$smoke/nic1.xml" --live >/dev/null || fail "attach-device (first NIC again)"
line=$(wait_line "$console" "$offset" "^tick [0-9]+ .*=$MAC1,$IP1/$PREFIX( |\$)" "the re-plugged NIC with $IP1/$PREFIX")
log "re-plug: a new NIC with $MAC1 got $IP1 after $(secs $(( $(now_ms) - t0 )))"
log "  $line"

# --- ACPI reboot and shutdown --------------------------------------------------------------------
offset=$(size_of "$console")
t0=$(now_ms)
virsh reboot "$VM" >/dev/null || fail "virsh reboot"
wait_line "$console" "$offset" '^tick 1( |$)' "the counter starting again at 1 after virsh reboot" >/dev/null
log "reboot: counter back at 1 after $(secs $(( $(now_ms) - t0 )))"
t0=$(now_ms)
virsh shutdown "$VM" >/dev/null || fail "virsh shutdown"
deadline=$(($(date +%s) + TIMEOUT))
until [ "$(virsh domstate "$VM")" = "shut off" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "$VM still $(virsh domstate "$VM") ${TIMEOUT}s after virsh shutdown"
  sleep 0.2
done
log "shutdown: ACPI power button stopped the guest after $(secs $(( $(now_ms) - t0 )))"

# --- brine.poweroff ------------------------------------------------------------------------------
domain_xml "$VM_OFF" "$cmdline brine.poweroff=5" "$console_off" no >"$smoke/off.xml"
virsh define "$smoke/off.xml" >/dev/null || fail "define $VM_OFF"
t0=$(now_ms)
virsh start "$VM_OFF" >/dev/null || fail "start $VM_OFF"
deadline=$(($(date +%s) + TIMEOUT))
until [ "$(virsh domstate "$VM_OFF")" = "shut off" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "$VM_OFF (brine.poweroff=5) still $(virsh domstate "$VM_OFF") after ${TIMEOUT}s"
  sleep 0.2
done
ticks=$(last_tick "$console_off")
[ "${ticks:-0}" -ge 5 ] || fail "$VM_OFF shut off after only ${ticks:-0} ticks"
log "poweroff: brine.poweroff=5 guest shut off by itself after $(secs $(( $(now_ms) - t0 ))) ($ticks ticks)"

# libvirt keeps a per-domain QEMU log; keep it only when something failed.
rm -f "/var/log/libvirt/qemu/$VM.log" "/var/log/libvirt/qemu/$VM_OFF.log" 2>/dev/null || true
log "all checks passed"
