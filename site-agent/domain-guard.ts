// Never trust a domain XML that crossed the wire (issue 11, point 3). A restored VM's XML comes
// from a snapshot another site made; before it is defined (or written into a save image), every
// host-side reference in it is set from this agent's own config and the VM spec, and anything
// that could reach the host otherwise (passthrough devices, shared folders, raw QEMU arguments,
// files outside what this VM owns) is refused.
import { NotAllowedError } from '../src/shared/errors.js';
import type { ImageConfig } from './config.js';

export interface OwnedByVm {
  /** the brine metadata element the VM must carry (set by the restore) */
  metadata: string;
  /** files this VM may use: its overlay disk(s), its console */
  files: readonly string[];
  /** the image of the spec, from this site's config */
  image: ImageConfig;
  /** libvirt networks the VM's interfaces may be on (the cluster's; before a NIC swap, its old one) */
  networks: readonly string[];
}

/** Where distributions install QEMU: an `<emulator>` elsewhere would run any host binary. */
const EMULATOR = /^\/usr\/(?:bin\/qemu-system-[a-z0-9_]+|bin\/kvm|libexec\/qemu-kvm)$/;

const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/<hostdev\b/, 'a host device passthrough (<hostdev>)'],
  [/<filesystem\b/, 'a shared host directory (<filesystem>)'],
  [/<([A-Za-z_][\w.-]*:)?commandline\b/, 'raw QEMU arguments (<qemu:commandline>)'],
  [/<([A-Za-z_][\w.-]*:)?capabilities\b/, 'raw QEMU capabilities'],
  [/<redirdev\b/, 'a redirected USB device'],
  [/<smartcard\b/, 'a smartcard passthrough'],
  [/<shmem\b/, 'host shared memory'],
  [/<loader\b/, 'a firmware loader path'],
  [/<nvram\b/, 'an NVRAM path'],
  [/<dtb\b/, 'a device tree path'],
  [/<interface\b[^>]*type=["'](?!network["'])/, 'a network interface that is not on the cluster network'],
  [/<disk\b[^>]*type=["'](?!file["'])/, 'a disk that is not a file'],
];

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const xmlUnescape = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/**
 * Returns `xml` with kernel and initrd set from this site's image config; throws NOT_ALLOWED
 * (FAILED_PRECONDITION) naming what the snapshot's XML tried that this VM may not have.
 */
export function guardRestoredXml(xml: string, owned: OwnedByVm, what: string): string {
  const refuse = (why: string): never => {
    throw new NotAllowedError(`${what}: the snapshot's domain XML has ${why}; it is not restored (snapshots are only trusted for guest state)`);
  };
  if (!xml.includes(owned.metadata)) refuse('no brine metadata for this VM');
  for (const [re, why] of FORBIDDEN) if (re.test(xml)) refuse(why);
  let out = xml;
  if (owned.image.kind === 'kernel') {
    out = out.replace(/<kernel>[^<]*<\/kernel>/, `<kernel>${xmlEscape(owned.image.kernel)}</kernel>`);
    out = out.replace(/<initrd>[^<]*<\/initrd>/, `<initrd>${xmlEscape(owned.image.initrd)}</initrd>`);
  } else if (/<kernel>|<initrd>/.test(out)) {
    refuse('a kernel for an image that boots from its disk');
  }
  const allowed = new Set<string>(owned.files);
  if (owned.image.kind === 'kernel') {
    allowed.add(owned.image.kernel);
    allowed.add(owned.image.initrd);
  }
  if (owned.image.disk !== undefined) allowed.add(owned.image.disk); // an overlay's backing store
  const paths = [...out.matchAll(/<(kernel|initrd)>([^<]*)<\/\1>/g)].map((m) => m[2] ?? '');
  for (const tag of out.matchAll(/<source\b[^>]*>/g)) {
    for (const a of tag[0].matchAll(/\b(?:file|dev|dir|path|socket)=(["'])(.*?)\1/g)) paths.push(a[2] ?? '');
  }
  for (const raw of paths) {
    const path = xmlUnescape(raw);
    if (path && !allowed.has(path)) refuse(`a host path that is not this VM's: "${path.slice(0, 100)}"`);
  }
  for (const m of out.matchAll(/<emulator>([^<]*)<\/emulator>/g)) {
    const emulator = xmlUnescape(m[1] ?? '');
    if (!EMULATOR.test(emulator)) refuse(`an emulator outside the QEMU install: "${emulator.slice(0, 100)}"`);
  }
  for (const m of out.matchAll(/<source\b[^>]*\bnetwork=(["'])(.*?)\1/g)) {
    if (!owned.networks.includes(xmlUnescape(m[2] ?? ''))) refuse(`an interface on another network: "${(m[2] ?? '').slice(0, 100)}"`);
  }
  return out;
}
