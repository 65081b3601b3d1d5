#!/usr/bin/env bash
# Prepares this host to run brine's real-VM tier on qemu:///system, then builds the test guest.
#  - installs (only if missing) libvirtd, the QEMU driver, QEMU, dnsmasq and iptables;
#  - with systemd: enables and starts libvirtd/virtlogd the normal way;
#  - without systemd (containers, CI): creates the user/group the QEMU driver insists on, writes the
#    qemu.conf settings that work there (QEMU as root, no security driver, no cgroups), and starts
#    virtlogd and libvirtd as daemons;
#  - waits until `virsh -c qemu:///system version` answers.
# Idempotent: a second run changes nothing and says so. See ../shared/notes/real-vms.md (facts).
set -euo pipefail
cd "$(dirname "$0")/.."

URI=qemu:///system
MARKER="# brine: settings for libvirtd without systemd (scripts/setup-qemu.sh)"
QEMU_CONF=/etc/libvirt/qemu.conf
WAIT_SECONDS=${BRINE_LIBVIRTD_WAIT:-30}

log() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo"
  SUDO="sudo"
fi

changed=0            # anything done on this run
restart_libvirtd=0   # libvirtd (if already running) must re-read its config / re-probe the firewall
has_systemd=0
[ -d /run/systemd/system ] && has_systemd=1

# (No `| grep -q` here: with pipefail, grep quitting early can fail the pipeline.)
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# --- packages ---------------------------------------------------------------------------------
# busybox-static and cpio are for the test guest (build-test-guest.sh): one apt round for all.
pkgs=(libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils
      dnsmasq-base iptables iproute2 busybox-static cpio)
# With systemd, the Debian service units (and their users/groups) come with libvirt-daemon-system.
[ "$has_systemd" -eq 1 ] && pkgs+=(libvirt-daemon-system)
missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} (apt-get update first)"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  changed=1
  # libvirtd probes the firewall once, at start: networks fail until it restarts with iptables.
  for p in "${missing[@]}"; do [ "$p" = iptables ] && restart_libvirtd=1; done
fi

wait_for_libvirtd() {
  local i
  for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
    if $SUDO virsh -c "$URI" version >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  $SUDO virsh -c "$URI" version >&2 || true
  die "libvirtd did not answer on $URI within ${WAIT_SECONDS}s (log: /var/log/libvirt/libvirtd.log)"
}

if [ "$has_systemd" -eq 1 ]; then
  # --- systemd: the normal services --------------------------------------------------------------
  # Debian's units are socket-activated and libvirtd exits when idle: an inactive service whose
  # socket listens is fine (virsh below wakes it up).
  for unit in virtlogd libvirtd; do
    if ! systemctl is-enabled --quiet "$unit" 2>/dev/null; then
      log "systemctl enable --now $unit"
      $SUDO systemctl enable --now "$unit"
      changed=1
    elif ! systemctl is-active --quiet "$unit.service" && ! systemctl is-active --quiet "$unit.socket"; then
      log "systemctl start $unit"
      $SUDO systemctl start "$unit"
      changed=1
    fi
  done
  if [ "$restart_libvirtd" -eq 1 ]; then
    log "restarting libvirtd (iptables was just installed)"
    $SUDO systemctl restart libvirtd
  fi
else
  # --- no systemd --------------------------------------------------------------------------------
  # The QEMU driver resolves its built-in default user/group (libvirt-qemu) and kvm at start and
  # refuses to load if they are missing, even when qemu.conf says QEMU runs as root.
  for g in kvm libvirt-qemu; do
    if ! getent group "$g" >/dev/null; then
      log "creating group $g"; $SUDO groupadd -r "$g"; changed=1
    fi
  done
  if ! getent passwd libvirt-qemu >/dev/null; then
    log "creating user libvirt-qemu"
    $SUDO useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
    changed=1
  fi

  # qemu.conf: set each key only if the file does not set it already (an operator's value wins).
  settings=(
    'user = "root"'
    'group = "root"'
    'security_driver = "none"'
    'stdio_handler = "file"'
    'cgroup_controllers = [ ]'
    # No private mount namespace per QEMU: it needs / to be a mount point (fails in a chroot).
    'namespaces = [ ]'
  )
  $SUDO mkdir -p "$(dirname "$QEMU_CONF")"
  [ -f "$QEMU_CONF" ] || $SUDO touch "$QEMU_CONF"
  to_add=()
  for s in "${settings[@]}"; do
    key=${s%% =*}
    if current=$(grep -E "^[[:space:]]*${key}[[:space:]]*=" "$QEMU_CONF"); then
      [ "$(echo "$current" | tr -d ' ')" = "$(echo "$s" | tr -d ' ')" ] ||
        log "warning: $QEMU_CONF keeps '$current' (brine expects '$s')"
    else
      to_add+=("$s")
    fi
  done
  if [ "${#to_add[@]}" -gt 0 ]; then
    log "writing ${#to_add[@]} setting(s) to $QEMU_CONF"
    {
      grep -qxF "$MARKER" "$QEMU_CONF" || printf '\n%s\n' "$MARKER"
      printf '%s\n' "${to_add[@]}"
    } | $SUDO tee -a "$QEMU_CONF" >/dev/null
    changed=1
    restart_libvirtd=1
  fi

  for d in /var/log/libvirt/qemu /var/run/libvirt /var/lib/libvirt/qemu /var/cache/libvirt/qemu; do
    [ -d "$d" ] || { $SUDO mkdir -p "$d"; changed=1; }
  done

  # pid of a running daemon, from the pidfile it writes with -d (empty if not running). A dead one
  # may linger as a zombie where PID 1 does not reap (containers): that is not running.
  daemon_pid() {
    local pid
    pid=$(cat "/run/$1.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] &&
       ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; then
      echo "$pid"
    fi
  }
  start_daemon() {
    log "starting $1 (log: /var/log/libvirt/$1.log)"
    $SUDO env LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/$1.log" "$1" -d
  }

  [ -n "$(daemon_pid virtlogd)" ] || { start_daemon virtlogd; changed=1; }

  pid=$(daemon_pid libvirtd)
  if [ -n "$pid" ] && [ "$restart_libvirtd" -eq 1 ]; then
    log "restarting libvirtd (pid $pid) to apply the new configuration"
    $SUDO kill "$pid"
    for ((i = 0; i < 100; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ ! -d "/proc/$pid" ] || die "libvirtd (pid $pid) did not stop"
    pid=""
  fi
  if [ -z "$pid" ]; then start_daemon libvirtd; changed=1; fi
fi

wait_for_libvirtd
ver=$($SUDO virsh -c "$URI" version 2>/dev/null | awk '/Running hypervisor/ {print $3, $4}')
if [ "$changed" -eq 1 ]; then
  log "libvirtd answers on $URI ($ver)"
  if [ ! -e /dev/kvm ]; then
    log "no /dev/kvm: guests run under TCG (domain type 'qemu')"
  elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
    # e.g. a paravirtual KVM (PVM, module kvm_pvm) inside a VM: it boots only kernels built for it.
    log "/dev/kvm exists but the CPU shows no vmx/svm: brine's agents (accel: auto) run guests under TCG"
  fi
else
  log "host already set up: libvirtd answers on $URI ($ver); nothing changed"
fi

bash scripts/build-test-guest.sh
