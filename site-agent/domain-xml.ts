// Pure builders and parsers for the libvirt domain XML of one VM, plus the naming rules and the
// brine metadata that ties a libvirt object back to its site, job, VM and node.
//
// Names: domains are `brine-<jobId>-<vm>` (no site: a VM keeps its name when its job moves, as
// QEMU restores a save image only under its own name) and networks `brine-<site>-<jobId>`; job ids
// are unique in the grid. A name alone is ambiguous once names contain '-', so ownership is always
// read from the metadata.

import { InvalidArgumentError } from '../src/shared/errors.js';

/** XML namespace of brine's `<metadata>` elements in domain and network XML. */
export const BRINE_XMLNS = 'urn:brine:libvirt:v1';
const PREFIX = 'brine';

export function xmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function xmlUnescape(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&amp;/g, '&');
}

/**
 * A domain's name: `brine-<job>-<vm>`, without the site. QEMU keeps the name inside a saved memory
 * image and refuses to restore it under another one, so a VM keeps its name when its job moves
 * between sites. Job ids are unique across the grid, and a job's domains are gone from its origin
 * (the final snapshot is a suspend) before its destination restores them, so two sites sharing one
 * libvirtd never hold the same name at once. Ownership is read from the metadata, never the name.
 */
export function domainName(jobId: string, vm: string): string {
  return `brine-${jobId}-${vm}`;
}

export function networkName(site: string, jobId: string): string {
  return `brine-${site}-${jobId}`;
}

/** Prefix of every libvirt object brine makes (of any site): a cheap filter before reading metadata. */
export const BRINE_PREFIX = 'brine-';

/** Prefix of a site's networks (domain names carry no site): a cheap filter before reading metadata. */
export function sitePrefix(site: string): string {
  return `brine-${site}-`;
}

/** `<brine:TAG xmlns:brine="…" k="v" …/>`: one empty element carrying attributes. */
export function metadataElement(tag: string, attrs: Record<string, string>): string {
  const body = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${xmlEscape(v)}"`)
    .join('');
  return `<${PREFIX}:${tag} xmlns:${PREFIX}="${BRINE_XMLNS}"${body}/>`;
}

/**
 * Finds brine's metadata element `tag` in a domain or network XML (as libvirt returns it) and
 * returns its attributes, or null. Matches on the namespace URI, whatever prefix libvirt kept.
 */
export function parseMetadataElement(xml: string, tag: string): Record<string, string> | null {
  const meta = /<metadata>([\s\S]*?)<\/metadata>/.exec(xml);
  if (!meta?.[1]) return null;
  const elementRe = /<([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)\b([^>]*?)\/?>/g;
  for (const m of meta[1].matchAll(elementRe)) {
    const [, prefix, name, attrText = ''] = m;
    if (name !== tag) continue;
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attrs[a[1] as string] = xmlUnescape(a[2] ?? a[3] ?? '');
    }
    if (attrs[`xmlns:${prefix}`] !== BRINE_XMLNS) continue;
    delete attrs[`xmlns:${prefix}`];
    return attrs;
  }
  return null;
}

/** What brine records in each domain, so an agent restarted from scratch knows what it runs. */
export interface VmMetadata {
  site: string;
  job: string;
  vm: string;
  node: string;
  mac: string;
  ip: string;
  image: string;
}

export function parseVmMetadata(domainXml: string): VmMetadata | null {
  const a = parseMetadataElement(domainXml, 'vm');
  if (!a || !a.site || !a.job || !a.vm || !a.node) return null;
  return { site: a.site, job: a.job, vm: a.vm, node: a.node, mac: a.mac ?? '', ip: a.ip ?? '', image: a.image ?? '' };
}

export type BootSpec =
  /** `overlay`: a root disk (the VM's own qcow2 file) besides the kernel, if the image has one */
  | { kind: 'kernel'; kernel: string; initrd: string; cmdline: string; overlay?: string | undefined }
  /** `overlay` is the VM's own qcow2 file, backed by the site's base image */
  | { kind: 'disk'; overlay: string };

export interface DomainSpec {
  /** libvirt domain type: `kvm` or `qemu` on QEMU hosts, `test` on the test driver (see pickGuest) */
  type: string;
  arch: string;
  name: string;
  memoryMiB: number;
  vcpus: number;
  boot: BootSpec;
  mac: string;
  network: string;
  consolePath: string;
  metadata: VmMetadata;
  /** the VM's cloud-init NoCloud seed image (./seed.ts), attached read-only as virtio disk `seedTarget` */
  seed?: { path: string; target: string } | undefined;
  /** the VM's output disk (./output-disk.ts): a writable qcow2 file, so snapshots capture it */
  output?: { path: string; target: string } | undefined;
}

/** A file-backed virtio disk of a domain, as XML lines. */
function diskElement(path: string, target: string, format: 'qcow2' | 'raw', readonly: boolean): string[] {
  const e = xmlEscape;
  return [
    `    <disk type='file' device='disk'>`,
    `      <driver name='qemu' type='${format}'/>`,
    `      <source file='${e(path)}'/>`,
    `      <target dev='${e(target)}' bus='virtio'/>`,
    ...(readonly ? [`      <readonly/>`] : []),
    `    </disk>`,
  ];
}

export function buildDomainXml(s: DomainSpec): string {
  const e = xmlEscape;
  const os =
    s.boot.kind === 'kernel'
      ? [
          `    <kernel>${e(s.boot.kernel)}</kernel>`,
          `    <initrd>${e(s.boot.initrd)}</initrd>`,
          `    <cmdline>${e(s.boot.cmdline)}</cmdline>`,
        ]
      : [`    <boot dev='hd'/>`];
  const overlay = s.boot.overlay;
  const disk = overlay !== undefined ? diskElement(overlay, 'vda', 'qcow2', false) : [];
  // Read-only, raw, after the root disk (which keeps vda and the lowest PCI slot, so the BIOS boots it).
  const seed = s.seed ? diskElement(s.seed.path, s.seed.target, 'raw', true) : [];
  const output = s.output ? diskElement(s.output.path, s.output.target, 'qcow2', false) : [];
  const { site, job, vm, node, mac, ip, image } = s.metadata;
  // QEMU/KVM on x86: the i440fx machine `pc` (with ACPI, below: PCI hot-plug of the NIC works on it).
  const qemu = s.type === 'qemu' || s.type === 'kvm';
  const machine = qemu && (s.arch === 'x86_64' || s.arch === 'i686') ? ` machine='pc'` : '';
  return [
    `<domain type='${e(s.type)}'>`,
    `  <name>${e(s.name)}</name>`,
    `  <metadata>`,
    `    ${metadataElement('vm', { site, job, vm, node, mac, ip, image })}`,
    `  </metadata>`,
    `  <memory unit='MiB'>${s.memoryMiB}</memory>`,
    `  <vcpu>${s.vcpus}</vcpu>`,
    `  <os>`,
    `    <type arch='${e(s.arch)}'${machine}>hvm</type>`,
    ...os,
    `  </os>`,
    // ACPI: without it QEMU refuses NIC hotplug, which the MAC swap after a restore needs.
    `  <features><acpi/></features>`,
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <on_reboot>restart</on_reboot>`,
    `  <on_crash>destroy</on_crash>`,
    `  <devices>`,
    ...disk,
    ...output,
    ...seed,
    `    <interface type='network'>`,
    `      <mac address='${e(s.mac)}'/>`,
    `      <source network='${e(s.network)}'/>`,
    `      <model type='virtio'/>`,
    `    </interface>`,
    // append='on': QEMU otherwise truncates the file when it (re)opens it, e.g. on a restore, and
    // the console would lose everything the guest printed before.
    `    <serial type='file'>`,
    `      <source path='${e(s.consolePath)}' append='on'/>`,
    `      <target port='0'/>`,
    `    </serial>`,
    `    <console type='file'>`,
    `      <source path='${e(s.consolePath)}' append='on'/>`,
    `      <target type='serial' port='0'/>`,
    `    </console>`,
    // libvirt adds a USB controller (and a tablet's bus) by default: nothing uses it, and under
    // TCG it costs about a second of boot. No balloon either: brine never resizes guests.
    `    <controller type='usb' model='none'/>`,
    `    <memballoon model='none'/>`,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}

/** The guest type to define domains with on one host, read from its capabilities XML. */
export interface GuestChoice {
  type: string;
  arch: string;
  /** why this type (logged by the agent, so an operator sees why a node runs TCG) */
  why: string;
}

/** What a node offers, as the agent registers it: what new VMs get, and what a restore can use. */
export interface NodeGuest extends GuestChoice {
  /** every domain type this node runs (a saved VM restores only under its own type) */
  types: string[];
  /** the host CPU model libvirt reports, e.g. "Broadwell-noTSX-IBRS" ('' if none) */
  cpuModel: string;
}

/** `pickGuest` plus the types the node can run: those of the chosen arch, minus a kvm that `auto` judged unusable. */
export function nodeGuest(capabilitiesXml: string, accel: Accel = 'auto'): NodeGuest {
  const choice = pickGuest(capabilitiesXml, accel);
  const caps = parseCapabilities(capabilitiesXml);
  const offered = new Set(caps.guests.filter((g) => g.arch === choice.arch).flatMap((g) => g.types));
  // kvm counts only where new VMs get it too (auto turned it down: a paravirtual /dev/kvm; tcg: not wanted)
  if (choice.type !== 'kvm') offered.delete('kvm');
  offered.add(choice.type);
  return { ...choice, types: [...offered].sort(), cpuModel: /<model>([^<]*)<\/model>/.exec(caps.hostCpu)?.[1]?.trim() ?? '' };
}

/** The parts of a host's capabilities XML the guest choice reads: its CPU, and the hvm guests offered. */
function parseCapabilities(xml: string): { hostCpu: string; hostArch: string | undefined; guests: Array<{ arch: string; types: string[] }> } {
  const hostCpu = /<host>[\s\S]*?<cpu>([\s\S]*?)<\/cpu>/.exec(xml)?.[1] ?? '';
  const guests: Array<{ arch: string; types: string[] }> = [];
  for (const g of xml.matchAll(/<guest>([\s\S]*?)<\/guest>/g)) {
    const body = g[1] ?? '';
    if (!/<os_type>\s*hvm\s*<\/os_type>/.test(body)) continue;
    for (const a of body.matchAll(/<arch name=['"]([^'"]+)['"]>([\s\S]*?)<\/arch>/g)) {
      const types = [...(a[2] ?? '').matchAll(/<domain type=['"]([^'"]+)['"]/g)].map((d) => d[1] as string);
      guests.push({ arch: a[1] as string, types });
    }
  }
  return { hostCpu, hostArch: /<arch>([^<]+)<\/arch>/.exec(hostCpu)?.[1]?.trim(), guests };
}

/** A node's `accel` setting: `auto` picks KVM only where it can really run a guest. */
export type Accel = 'auto' | 'kvm' | 'tcg';
export const ACCELS: readonly Accel[] = ['auto', 'kvm', 'tcg'];

/**
 * Picks the hvm guest of the host's own architecture (any hvm guest otherwise) and its domain type.
 *
 * - `test:///default` offers only its own `test` type (an i686 guest).
 * - `tcg`: `qemu` (software emulation). `kvm`: `kvm`, or an error if libvirt offers none.
 * - `auto`: `kvm` where libvirt offers it and, on x86, the host CPU shows hardware virtualization
 *   (`vmx`/`svm`, or a bare-metal AMD CPU whose model may hold `svm` itself); else `qemu`. libvirt offers
 *   `kvm` wherever /dev/kvm exists, which is not proof: inside some VMs /dev/kvm is a paravirtual
 *   KVM (e.g. PVM, `kvm_pvm`) that boots only kernels built for it, and a stock guest hangs before
 *   its first console line (seen on this project's CI machines).
 */
export function pickGuest(capabilitiesXml: string, accel: Accel = 'auto'): GuestChoice {
  const { hostCpu, hostArch, guests } = parseCapabilities(capabilitiesXml);
  const own = guests.filter((g) => g.arch === hostArch);
  const pool = own.length > 0 ? own : guests;
  const offered = (type: string): GuestChoice | null => {
    const g = pool.find((x) => x.types.includes(type));
    return g ? { type, arch: g.arch, why: '' } : null;
  };
  const test = offered('test');
  if (test && !offered('qemu') && !offered('kvm')) return { ...test, why: "libvirt's test driver" };
  const kvm = offered('kvm');
  const tcg = offered('qemu');
  if (accel === 'kvm') {
    if (!kvm) throw new InvalidArgumentError('accel', 'kvm, but libvirt offers no kvm guest on this host (no /dev/kvm?); use auto or tcg');
    return { ...kvm, why: 'accel: kvm' };
  }
  if (accel === 'auto' && kvm) {
    const x86 = hostArch === 'x86_64' || hostArch === 'i686';
    const features = new Set([...hostCpu.matchAll(/<feature name=['"]([^'"]+)['"]/g)].map((m) => m[1]));
    // An AMD model may hold `svm` without listing it, but not on a host that is itself a guest
    // (`hypervisor`): there /dev/kvm may be paravirtual (seen: an AMD EPYC VM, model kvm64, no svm).
    const amd = /<vendor>\s*AMD\s*<\/vendor>/.test(hostCpu) && !features.has('hypervisor');
    if (!x86 || features.has('vmx') || features.has('svm') || amd) return { ...kvm, why: 'KVM (hardware virtualization)' };
    if (tcg) return { ...tcg, why: 'TCG: libvirt offers kvm, but the host CPU shows no vmx/svm (a paravirtual /dev/kvm cannot boot a stock guest); set accel: kvm to force it' };
  }
  if (tcg) return { ...tcg, why: accel === 'tcg' ? 'accel: tcg' : 'TCG (no KVM on this host)' };
  if (kvm) return { ...kvm, why: 'KVM (libvirt offers no TCG guest)' };
  if (test) return { ...test, why: "libvirt's test driver" };
  // A host that lists no hvm guest cannot run brine's VMs; fall back to the common case and let
  // libvirt's own error at define time say why.
  return { type: 'qemu', arch: hostArch ?? 'x86_64', why: 'no hvm guest listed in the capabilities' };
}

// ---------------------------------------------------------------------------------------------
// Snapshot-related reads and rewrites of domain XML (captures and restores, site-agent/snapshot-*.ts).

/** The file-backed disks of a domain XML (target, source, format), outside <metadata>. */
export function fileDisks(xml: string): Array<{ target: string; source: string; format: string; readonly: boolean }> {
  const body = xml.replace(/<metadata>[\s\S]*?<\/metadata>/, '');
  const out: Array<{ target: string; source: string; format: string; readonly: boolean }> = [];
  for (const m of body.matchAll(/<disk\b([^>]*)>([\s\S]*?)<\/disk>/g)) {
    const attrs = m[1] ?? '';
    const inner = m[2] ?? '';
    const target = /<target\b[^>]*\bdev=['"]([^'"]+)['"]/.exec(inner)?.[1];
    const source = /<source\b[^>]*\bfile=['"]([^'"]+)['"]/.exec(inner)?.[1];
    if (!target) continue;
    out.push({
      target,
      source: source ?? '',
      format: /<driver\b[^>]*\btype=['"]([^'"]+)['"]/.exec(inner)?.[1] ?? '',
      readonly: /<readonly\s*\/>|<shareable\s*\/>/.test(inner) || !/\btype=['"]file['"]/.test(attrs) || !/\bdevice=['"]disk['"]/.test(attrs),
    });
  }
  return out;
}

/** The `<domainsnapshot>` of a memory-only external snapshot: every disk left out. */
export function memorySnapshotXml(file: string, disks: readonly string[]): string {
  const d = disks.map((t) => `<disk name='${xmlEscape(t)}' snapshot='no'/>`).join('');
  return `<domainsnapshot><memory snapshot='external' file='${xmlEscape(file)}'/><disks>${d}</disks></domainsnapshot>`;
}

/** The source path of the domain's serial console file, if any. */
export function consoleSourceOf(xml: string): string | undefined {
  return /<serial\b[^>]*type=['"]file['"][^>]*>[\s\S]*?<source\b[^>]*\bpath=['"]([^'"]+)['"]/.exec(xml)?.[1];
}

// Host-side rewrites of a snapshot's domain XML for where the VM runs now. On the same site with
// the same spec, nothing changes (and the XML is returned as it was).

export interface RetargetTo {
  domain: string;
  /** the brine `<…:vm …/>` metadata element for the new place */
  metadata: string;
  fromConsole: string;
  toConsole: string;
  disks: Array<{ from: string; to: string }>;
  /** the cloud-init seed image (./seed.ts): `from` '' when the snapshot has none */
  seed?: { from: string; to: string } | undefined;
}

export function retarget(xml: string, t: RetargetTo): string {
  let out = xml.replace(/(<domain\b[^>]*>\s*<name>)([^<]*)(<\/name>)/, (all, a: string, name: string, b: string) =>
    name === xmlEscape(t.domain) ? all : `${a}${xmlEscape(t.domain)}${b}`,
  );
  // brine's metadata element, whatever prefix libvirt kept for its namespace; only if it differs.
  const nsRe = new RegExp(`<([A-Za-z_][\\w.-]*):vm\\b[^>]*xmlns:\\1=["']${BRINE_XMLNS.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["'][^>]*/>`);
  const current = nsRe.exec(out)?.[0];
  if (current) {
    const now = parseVmMetadata(`<domain><metadata>${current}</metadata></domain>`);
    const want = parseVmMetadata(`<domain><metadata>${t.metadata}</metadata></domain>`);
    if (JSON.stringify(now) !== JSON.stringify(want)) out = out.replace(current, t.metadata);
  }
  const swapPath = (s: string, from: string, to: string): string =>
    from === to || from === '' ? s : s.split(`'${xmlEscape(from)}'`).join(`'${xmlEscape(to)}'`).split(`"${xmlEscape(from)}"`).join(`"${xmlEscape(to)}"`);
  out = swapPath(out, t.fromConsole, t.toConsole);
  for (const d of t.disks) out = swapPath(out, d.from, d.to);
  if (t.seed) out = swapPath(out, t.seed.from, t.seed.to);
  return out;
}
