#!/usr/bin/env bash
# Builds brine's tiny test guest into .brine/guest/ from Debian packages only:
#   vmlinuz     the Debian cloud kernel (package that linux-image-cloud-amd64 depends on)
#   initrd.img  a busybox initramfs whose /init brings up every NIC by DHCP (also hot-plugged
#               ones) and prints once a second on ttyS0:
#                 tick N IFACE=MAC,IP/PREFIX IFACE=MAC,IP/PREFIX ...
#               powers off after N ticks when the kernel command line says brine.poweroff=N,
#               and on the ACPI power button (virsh shutdown; virsh reboot then boots it again);
#               reads a cloud-init NoCloud seed (a disk labelled cidata, see site-agent/seed.ts):
#               hostname from meta-data's local-hostname, runs a `#!` user-data once per boot
#               (its output on ttyS0), and takes the DNS server and domain from DHCP; mounts the
#               output disk (an ext4 volume labelled brine-output, site-agent/output-disk.ts) at
#               /output, and unmounts it before it powers off
#   cmdline     the kernel command line to boot it with
# Cached: a second run does nothing while the outputs exist and this script is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

out=.brine/guest
stamp="$out/.stamp"
self_hash=$(sha256sum "$0" | cut -d' ' -f1)

log() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] && [ -s "$out/cmdline" ] &&
   [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$self_hash" ]; then
  log "test guest cached in $out/ (nothing to do)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# (No `| grep -q` here: with pipefail, grep quitting early can fail the pipeline.)
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    apt_updated=1
  fi
}

# Build tools: busybox-static for the guest's userland, cpio to pack it.
missing=()
for p in busybox-static cpio; do installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt_update
  log "installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox missing although busybox-static is installed"
# A dynamically linked busybox (package busybox) would not run in the initramfs.
if ldd "$busybox" >/dev/null 2>&1; then die "$busybox is dynamically linked (install busybox-static)"; fi

start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The kernel: whatever linux-image-cloud-amd64 currently depends on. Fresh hosts have no apt lists.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ && !f {print $2; f = 1}' || true)
if [ -z "$kpkg" ]; then
  apt_update
  kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ && !f {print $2; f = 1}')
fi
[ -n "$kpkg" ] || die "cannot tell which kernel linux-image-cloud-amd64 depends on"
log "downloading $kpkg"
# _apt cannot write into a root-owned mktemp dir; let it (avoids apt's 'unsandboxed' warning).
chmod 777 "$work"
(cd "$work" && apt-get download -qq "$kpkg" >/dev/null 2>&1) || {
  apt_update
  (cd "$work" && apt-get download -qq "$kpkg" >/dev/null)
}
deb=$(ls "$work"/*.deb)
dpkg-deb -x "$deb" "$work/k"
kver=$(ls "$work/k/lib/modules")
[ -f "$work/k/boot/vmlinuz-$kver" ] || die "no vmlinuz in $deb"

# The initramfs tree.
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,lib/modules}
cp "$busybox" "$root/bin/busybox"
# /init's interpreter must exist before /init installs the other applets.
ln -s busybox "$root/bin/sh"

# virtio NIC drivers, in load order (virtio needs a symbol from virtio_ring; see notes/real-vms.md).
# virtio_blk, cdrom and isofs (isofs needs cdrom): the cloud-init seed is a read-only virtio disk
# holding an ISO 9660 image.
mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk cdrom isofs"
order=""
for m in $mods; do
  f=$(find "$work/k/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" | head -n1)
  if [ -z "$f" ]; then
    # Built into this kernel: nothing to load.
    grep -q "/$m.ko\$" "$work/k/lib/modules/$kver/modules.builtin" ||
      die "module $m neither in $kpkg nor built in"
    continue
  fi
  case "$f" in
    *.xz) "$busybox" xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
    *) cp "$f" "$root/lib/modules/$m.ko" ;;
  esac
  order="$order $m"
done
# ACPI power button (virsh shutdown, and virsh reboot's ACPI method) reaches busybox acpid through
# evdev. Optional: without them the guest only stops by destroy or brine.poweroff.
for m in evdev button; do
  f=$(find "$work/k/lib/modules/$kver" -name "$m.ko" | head -n1)
  if [ -n "$f" ]; then cp "$f" "$root/lib/modules/$m.ko"; order="$order $m"; fi
done
# busybox acpid maps the power button to /etc/acpi/PWRF/00000080 by default (no config needed).
mkdir -p "$root/etc/acpi/PWRF"
cat >"$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
echo "brine-guest: ACPI power button, powering off" >/dev/ttyS0
sync
umount /output 2>/dev/null
poweroff -f
EOF
chmod 755 "$root/etc/acpi/PWRF/00000080"

# udhcpc calls this with $1 = deconfig|bound|renew|leasefail|nak and the lease in the environment.
cat >"$root/etc/udhcpc.script" <<'EOF'
#!/bin/sh
# Applies a DHCP lease to $interface. Default routes get a metric per NIC so several can coexist.
[ -n "$interface" ] || exit 0
metric=$((100 + $(cat "/sys/class/net/$interface/ifindex" 2>/dev/null || echo 0)))
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    prefix="${mask:-}"
    if [ -z "$prefix" ]; then
      prefix=0
      for o in $(echo "$subnet" | tr . ' '); do
        while [ "$o" -gt 0 ]; do prefix=$((prefix + (o & 1))); o=$((o >> 1)); done
      done
    fi
    # A renew that hands out another address replaces the old one.
    if ! ip -4 -o addr show dev "$interface" | grep -q " $ip/$prefix "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$prefix" ${broadcast:+broadcast "$broadcast"} dev "$interface"
    fi
    for r in $router; do
      ip route replace default via "$r" dev "$interface" metric "$metric"
      break
    done
    # the cluster network's DNS (libvirt's dnsmasq on the gateway) answers the VMs' names
    if [ -n "${dns:-}" ]; then
      { [ -n "${domain:-}" ] && echo "search $domain"; for d in $dns; do echo "nameserver $d"; done; } >/etc/resolv.conf
    fi
    ;;
esac
exit 0
EOF

cat >"$root/init" <<EOF
#!/bin/sh
# brine test guest (built by scripts/build-test-guest.sh from $kpkg)
MODULES="$order"
EOF
cat >>"$root/init" <<'EOF'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /run/nic
exec </dev/console >/dev/console 2>&1
for m in $MODULES; do insmod "/lib/modules/$m.ko" || echo "brine-guest: insmod $m failed"; done
ip link set lo up
hostname brine-guest
[ -e /dev/input ] && acpid -l /dev/null

# The cloud-init NoCloud seed (site-agent/seed.ts): an ISO 9660 volume labelled cidata on a virtio
# disk. Its meta-data names the VM (local-hostname); a user-data that starts with #! is run below.
mkdir -p /run/seed
seed=""
for b in /sys/block/vd*; do
  [ -e "$b" ] || continue
  dev=/dev/${b##*/}
  # the ISO 9660 volume id: 32 bytes at offset 40 of the primary volume descriptor (sector 16)
  label=$(dd if="$dev" bs=1 skip=32808 count=32 2>/dev/null | tr -d ' ')
  [ "$label" = cidata ] || continue
  if mount -t iso9660 -o ro "$dev" /run/seed; then seed=$dev; break; fi
done
if [ -n "$seed" ]; then
  h=$(sed -n 's/^local-hostname: *//p' /run/seed/meta-data | tr -d "\"'" | head -n1)
  [ -n "$h" ] && hostname "$h"
  echo "brine-guest: cloud-init seed on $seed, hostname $(hostname)" >/dev/ttyS0
else
  echo "brine-guest: no cloud-init seed" >/dev/ttyS0
fi

# The output disk (site-agent/output-disk.ts): ext4 labelled brine-output (the label is 16 bytes at
# offset 1144: superblock at 1024, s_volume_name at 120). ext4 is built into the cloud kernel.
mkdir -p /output
for b in /sys/block/vd*; do
  [ -e "$b" ] || continue
  dev=/dev/${b##*/}
  label=$(dd if="$dev" bs=1 skip=1144 count=16 2>/dev/null | tr -d '\000')
  [ "$label" = brine-output ] || continue
  if mount -t ext4 "$dev" /output; then echo "brine-guest: output disk $dev on /output" >/dev/ttyS0; break; fi
done

# Tick lines end in \n only (not \r\n), so readers of the console file get clean fields.
tty=/dev/ttyS0
stty -F "$tty" -onlcr 2>/dev/null || true

poweroff_after=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in brine.poweroff=*) poweroff_after="${arg#brine.poweroff=}" ;; esac
done
case "$poweroff_after" in ''|*[!0-9]*) poweroff_after=0 ;; esac

# Each NIC is handled by one udhcpc; /run/nic/IFACE remembers "ifindex mac pid". A NIC that is new,
# replaced (other ifindex), re-addressed (other MAC) or whose udhcpc died gets a fresh one.
alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
watch_nics() {
  for st in /run/nic/*; do
    [ -f "$st" ] || continue
    i=${st##*/}
    if [ ! -e "/sys/class/net/$i" ]; then
      read -r _ _ pid <"$st"; kill "$pid" 2>/dev/null; rm -f "$st"
    fi
  done
  for d in /sys/class/net/eth*; do
    [ -e "$d" ] || continue
    i=${d##*/}
    idx=$(cat "$d/ifindex"); mac=$(cat "$d/address")
    pid=""; oidx=""; omac=""
    [ -f "/run/nic/$i" ] && read -r oidx omac pid <"/run/nic/$i"
    if [ "$idx" = "$oidx" ] && [ "$mac" = "$omac" ] && alive "$pid"; then continue; fi
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    ip -4 addr flush dev "$i" 2>/dev/null
    ip link set "$i" up
    # -t 3 -T 1 -A 2: ask quickly and keep asking for ever (no -n), as the network may come later.
    udhcpc -f -i "$i" -s /etc/udhcpc.script -t 3 -T 1 -A 2 >/dev/null 2>&1 &
    echo "$idx $mac $!" >"/run/nic/$i"
  done
}

if [ -n "$seed" ] && [ "$(head -c 2 /run/seed/user-data 2>/dev/null)" = '#!' ]; then
  cp /run/seed/user-data /run/user-data
  chmod 755 /run/user-data
  echo "brine-guest: running user-data" >/dev/ttyS0
  (/run/user-data </dev/null >/dev/ttyS0 2>&1; echo "brine-guest: user-data exited $?" >/dev/ttyS0) &
fi

n=0
while :; do
  watch_nics
  n=$((n + 1))
  line="tick $n"
  for d in /sys/class/net/eth*; do
    [ -e "$d" ] || continue
    i=${d##*/}
    a=$(ip -4 -o addr show dev "$i" 2>/dev/null | awk '{print $4; exit}')
    line="$line $i=$(cat "$d/address"),$a"
  done
  echo "$line" >"$tty"
  if [ "$poweroff_after" -gt 0 ] && [ "$n" -ge "$poweroff_after" ]; then
    echo "brine-guest: powering off after $n ticks (brine.poweroff=$poweroff_after)" >"$tty"
    sync
    umount /output 2>/dev/null
    poweroff -f
  fi
  sleep 1
done
EOF
chmod 755 "$root/init" "$root/etc/udhcpc.script"

mkdir -p "$out"
cp "$work/k/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9n) >"$out/initrd.img.tmp"
# quiet + loglevel=3: the console shows little besides the tick lines; the i8042 probe costs time
# under TCG and there is no keyboard.
echo "console=ttyS0 quiet loglevel=3 i8042.noaux i8042.nokbd i8042.nopnp" >"$out/cmdline.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
mv "$out/cmdline.tmp" "$out/cmdline"
echo "$kpkg" >"$out/kernel-package"
echo "$self_hash" >"$stamp"

abs=$(pwd)/$out
log "built test guest in $(($(date +%s) - start))s (kernel $kver, initrd $(du -k "$out/initrd.img" | cut -f1) KiB)"
echo "setup: kernel  $abs/vmlinuz"
echo "setup: initrd  $abs/initrd.img"
echo "setup: cmdline $abs/cmdline ($(cat "$out/cmdline"))"
