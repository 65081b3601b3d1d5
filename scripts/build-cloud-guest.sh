#!/usr/bin/env bash
# Builds a minimal Debian 12 guest that runs Debian's own cloud-init package, into .brine/cloud-guest/,
# from Debian packages only (debootstrap), so that brine's NoCloud seed is proven against the real
# consumer (issue 12). The QEMU tier boots it through brine (test/qemu/cloud-init.test.ts).
#   vmlinuz, initrd.img  the Debian cloud kernel and its initramfs-tools initrd, from the chroot
#   rootfs.qcow2         an ext4 root file system (the whole disk, no partition table) as qcow2
#   cmdline              the kernel command line (root=/dev/vda)
# The image is booted by direct kernel boot with a root disk (a site image with kernel, initrd,
# cmdline and disk), so no boot loader and no loop device are needed to build it.
# Cached: a second run does nothing while the outputs exist and this script is unchanged. Needs
# root (debootstrap's chroot). Takes a few minutes (downloads ~100 MB of packages).
set -euo pipefail
cd "$(dirname "$0")/.."

out=.brine/cloud-guest
stamp="$out/.stamp"
self_hash=$(sha256sum "$0" | cut -d' ' -f1)

log() { echo "cloud-guest: $*"; }
die() { echo "cloud-guest: error: $*" >&2; exit 1; }

if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] && [ -s "$out/rootfs.qcow2" ] && [ -s "$out/cmdline" ] &&
   [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$self_hash" ]; then
  log "cached in $out/ (nothing to do)"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap builds a chroot)"

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
missing=()
for p in debootstrap e2fsprogs qemu-utils; do installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

start=$(date +%s)
work=$(mktemp -d /var/tmp/brine-cloud-guest.XXXXXX)
cleanup() {
  # debootstrap may leave proc/sys mounted inside the chroot if it was interrupted
  for m in proc sys dev/pts dev; do umount -l "$work/root/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
root="$work/root"

# Debian's own packages only, from debootstrap's default mirror: a minbase system first, then the
# rest by apt inside the chroot (which orders the configuration of cloud-init's Python
# dependencies; debootstrap's --include did not). iproute2: cloud-init's networkd renderer needs
# `ip`; no ifupdown, so cloud-init renders the seed's network-config for systemd-networkd.
pkgs="systemd-sysv udev iproute2 cloud-init linux-image-cloud-amd64 initramfs-tools"
log "debootstrap bookworm (minbase)"
debootstrap --variant=minbase bookworm "$root" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  [ -f "$root/debootstrap/debootstrap.log" ] && tail -40 "$root/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (log above)"
}
log "debootstrap done in $(($(date +%s) - start))s; installing $pkgs"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
# no daemon starts inside the chroot
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
{ chroot "$root" apt-get -qq update &&
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o APT::Install-Recommends=false install -y $pkgs; } >"$work/apt.log" 2>&1 || {
  tail -40 "$work/apt.log" >&2
  die "installing $pkgs in the chroot failed (log above)"
}
rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
log "packages installed at $(($(date +%s) - start))s"

# Only the NoCloud datasource (no probing of clouds that are not there), and the root disk.
cat >"$root/etc/cloud/cloud.cfg.d/90-brine.cfg" <<'EOF'
# brine: the seed is a NoCloud `cidata` volume built by the site agent (docs/design-notes.md)
datasource_list: [ NoCloud, None ]
EOF
echo '/dev/vda / ext4 rw,relatime 0 1' >"$root/etc/fstab"
echo 'brine-cloud' >"$root/etc/hostname"
# cloud-init's networkd renderer writes /etc/systemd/network; networkd must run to apply it.
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1 || die "cannot enable systemd-networkd"
# Nothing of these helps a test guest, and each costs seconds under TCG.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer systemd-networkd-wait-online.service; do
  chroot "$root" systemctl mask "$u" >/dev/null 2>&1 || true
done
rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*

kver=$(ls "$root/lib/modules" | head -n1)
[ -f "$root/boot/vmlinuz-$kver" ] && [ -f "$root/boot/initrd.img-$kver" ] || die "no kernel/initrd for $kver in the chroot"
mkdir -p "$out"
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
cp "$root/boot/initrd.img-$kver" "$out/initrd.img.tmp"
for m in proc sys dev/pts dev; do umount -l "$root/$m" 2>/dev/null || true; done

# The root file system straight from the directory (mkfs.ext4 -d: no loop device, no mount).
size_mib=$(( $(du -sm "$root" | cut -f1) + 512 ))
mkfs.ext4 -q -F -L brine-root -d "$root" "$work/rootfs.raw" "${size_mib}M"
qemu-img convert -q -f raw -O qcow2 "$work/rootfs.raw" "$out/rootfs.qcow2.tmp"
echo "console=ttyS0 root=/dev/vda rw quiet loglevel=3 i8042.noaux i8042.nokbd i8042.nopnp" >"$out/cmdline.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
mv "$out/rootfs.qcow2.tmp" "$out/rootfs.qcow2"
mv "$out/cmdline.tmp" "$out/cmdline"
chroot "$root" dpkg-query -W -f='${Version}' cloud-init >"$out/cloud-init-version" 2>/dev/null || true
echo "$self_hash" >"$stamp"
log "built in $(($(date +%s) - start))s: kernel $kver, rootfs $(du -h "$out/rootfs.qcow2" | cut -f1), cloud-init $(cat "$out/cloud-init-version")"
