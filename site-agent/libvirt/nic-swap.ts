// Restoring a saved VM with new addresses (DESIGN.md, "Virtual clusters and addresses").
// QEMU restores a saved image only with the MACs it was saved with, though it accepts a new
// host-side network source. So on QEMU: restore onto the new networks, then swap each NIC (detach
// the old, attach one with the new MAC; the guest needs ACPI). The test driver cannot hotplug but
// can rewrite the XML inside the save image, so there: rewrite the image, then restore.
//
// The XML edits are string edits on libvirt-formatted XML, confined to <interface> elements outside
// <metadata>, comments and CDATA: everything else in the XML is kept byte for byte.
import { BrineError, InvalidArgumentError } from '../../src/shared/errors.js';
import type { LibvirtConnection } from './types.js';

export interface NicChange {
  /** The MAC the VM was saved with. */
  oldMac: string;
  /** Its leased MAC at the new place. */
  newMac: string;
  /** The libvirt network (at the new place) the NIC must be on. */
  network: string;
}

export interface RestoreWithNewNicsOptions {
  /** How long a guest may take to release a detached NIC (QEMU only). Default 30 s. */
  detachTimeoutMs?: number;
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

export async function restoreWithNewNics(
  conn: LibvirtConnection,
  savePath: string,
  nics: NicChange[],
  options: RestoreWithNewNicsOptions = {},
): Promise<void> {
  const changes = normalize(nics);
  const imageXml = await conn.saveImageXml(savePath);
  const name = domainNameOf(imageXml);

  // A retry after a failure past the restore finds the domain running: finish the swap only.
  const before = await conn.lookupDomain(name);
  const restored = before !== null && before.state !== 'shutoff';

  if (conn.uri.startsWith('test:')) {
    if (restored) return updateConfig(conn, name, changes);
    const rewritten = rewriteInterfaces(imageXml, changes, { macs: true, requireAll: true });
    if (rewritten !== imageXml) await conn.saveImageDefineXml(savePath, rewritten);
    await conn.restoreDomain(savePath);
  } else {
    // MACs stay as saved (QEMU checks them); only the network sources move to the new networks.
    if (!restored) {
      const restoreXml = rewriteInterfaces(imageXml, changes, { macs: false, requireAll: true });
      // Running, whatever the image says: a snapshot's image is taken from a paused domain (so it
      // would come back paused), and a paused guest never acknowledges the NIC unplug below.
      await conn.restoreDomain(savePath, restoreXml === imageXml ? { paused: false } : { xml: restoreXml, paused: false });
    }
    for (const nic of changes) {
      if (nic.oldMac !== nic.newMac) await swapNic(conn, name, nic, options.detachTimeoutMs ?? 30_000);
    }
  }

  await updateConfig(conn, name, changes);
}

/** A persistent definition still names the old MACs and networks: the next cold boot would use them. */
async function updateConfig(conn: LibvirtConnection, name: string, changes: NicChange[]): Promise<void> {
  const info = await conn.lookupDomain(name);
  if (info?.persistent) {
    const config = await conn.domainXml(name, { inactive: true, secure: true });
    const updated = rewriteInterfaces(config, changes, { macs: true, requireAll: false });
    if (updated !== config) await conn.defineDomain(updated);
  }
}

/** Detaches the NIC with the old MAC from the running domain, waits until it is gone, attaches the new one. */
async function swapNic(conn: LibvirtConnection, domain: string, nic: NicChange, timeoutMs: number): Promise<void> {
  let live = await conn.domainXml(domain);
  const old = findInterfaces(live).find((i) => macOf(i.text) === nic.oldMac);
  const model = (old && modelOf(old.text)) ?? 'virtio';
  if (old) {
    // The live element itself identifies the device exactly (MAC, alias, PCI address), as virsh does.
    await conn.detachDevice(domain, old.text);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      live = await conn.domainXml(domain);
      if (!findInterfaces(live).some((i) => macOf(i.text) === nic.oldMac)) break;
      // QEMU returns before the guest has acknowledged the unplug; the device goes when it does.
      if (Date.now() > deadline) {
        throw new BrineError(
          'INTERNAL',
          `domain ${domain} did not release NIC ${nic.oldMac} within ${timeoutMs} ms (does it have <features><acpi/></features>?)`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  if (!findInterfaces(live).some((i) => macOf(i.text) === nic.newMac)) {
    await conn.attachDevice(
      domain,
      `<interface type='network'><mac address='${nic.newMac}'/><source network='${escapeAttr(nic.network)}'/>` +
        `<model type='${escapeAttr(model)}'/></interface>`,
    );
  }
}

function normalize(nics: NicChange[]): NicChange[] {
  const out = nics.map((n, i) => {
    for (const key of ['oldMac', 'newMac'] as const) {
      if (!MAC.test(n[key])) throw new InvalidArgumentError(`nics[${i}].${key}`, `"${n[key]}" is not a MAC address (xx:xx:xx:xx:xx:xx)`);
    }
    if (n.network.length === 0) throw new InvalidArgumentError(`nics[${i}].network`, 'must name a libvirt network');
    return { oldMac: n.oldMac.toLowerCase(), newMac: n.newMac.toLowerCase(), network: n.network };
  });
  for (const key of ['oldMac', 'newMac'] as const) {
    const seen = new Set<string>();
    for (const [i, n] of out.entries()) {
      if (seen.has(n[key])) throw new InvalidArgumentError(`nics[${i}].${key}`, `${n[key]} appears twice`);
      seen.add(n[key]);
    }
  }
  return out;
}

// ---- XML string editing -------------------------------------------------------------------

interface Element {
  start: number;
  end: number;
  text: string;
}

/** Spans whose content is not domain markup: comments, CDATA, processing instructions, <metadata>. */
function opaqueSpans(xml: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<metadata\b[^>]*>/g;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    let end = m.index + m[0].length;
    if (m[0].startsWith('<metadata') && !m[0].endsWith('/>')) {
      // Free-form XML of any namespace inside: skip to the matching close tag.
      const tags = /<metadata\b[^>]*?(\/?)>|<\/metadata\s*>/g;
      tags.lastIndex = end;
      let depth = 1;
      for (let t = tags.exec(xml); t !== null && depth > 0; t = tags.exec(xml)) {
        if (t[0].startsWith('</')) depth--;
        else if (t[1] !== '/') depth++;
        end = t.index + t[0].length;
      }
      if (depth > 0) end = xml.length;
    }
    spans.push([m.index, end]);
    re.lastIndex = end;
  }
  return spans;
}

/** Every <interface> element of the XML, outside opaque spans. */
export function findInterfaces(xml: string): Element[] {
  const spans = opaqueSpans(xml);
  const out: Element[] = [];
  const open = /<interface\b[^>]*>/g;
  for (let m = open.exec(xml); m !== null; m = open.exec(xml)) {
    const at = m.index;
    const span = spans.find(([s, e]) => at >= s && at < e);
    if (span) {
      open.lastIndex = span[1];
      continue;
    }
    let end = at + m[0].length;
    if (!m[0].endsWith('/>')) {
      const close = /<\/interface\s*>/g;
      close.lastIndex = end;
      const c = close.exec(xml);
      if (!c) throw new BrineError('INVALID_ARGUMENT', 'domain XML: <interface> without </interface>');
      end = c.index + c[0].length;
    }
    out.push({ start: at, end, text: xml.slice(at, end) });
    open.lastIndex = end;
  }
  return out;
}

function attrOf(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(["'])([^]*?)\\1`).exec(tag);
  return m?.[2] === undefined ? undefined : unescapeXml(m[2]);
}

function withAttr(tag: string, name: string, value: string): string {
  const re = new RegExp(`(\\s${name}\\s*=\\s*)(["'])[^]*?\\2`);
  if (re.test(tag)) return tag.replace(re, (_all, lead: string) => `${lead}'${escapeAttr(value)}'`);
  return tag.replace(/\s*(\/?)>$/, (_all, slash: string) => ` ${name}='${escapeAttr(value)}'${slash}>`);
}

/** The MAC of an <interface> element, lower-case, if it has one. */
export function macOf(iface: string): string | undefined {
  const tag = /<mac\b[^>]*>/.exec(iface)?.[0];
  return tag === undefined ? undefined : attrOf(tag, 'address')?.toLowerCase();
}

function modelOf(iface: string): string | undefined {
  const tag = /<model\b[^>]*>/.exec(iface)?.[0];
  return tag === undefined ? undefined : attrOf(tag, 'type');
}

/** The interface on `network`, with `mac` if given; other children (model, address, …) kept. */
function rewriteInterface(iface: string, change: { mac?: string; network: string }): string {
  let out = iface.replace(/^<interface\b[^>]*>/, (tag) => withAttr(tag, 'type', 'network'));
  if (change.mac !== undefined) {
    const mac = change.mac;
    out = out.replace(/<mac\b[^>]*>/, (tag) => withAttr(tag, 'address', mac));
  }
  // A live <source> also carries portid/bridge of the old network's port: drop the whole element.
  const source = `<source network='${escapeAttr(change.network)}'/>`;
  const existing = /<source\b[^>]*\/>|<source\b[^>]*>[\s\S]*?<\/source\s*>/;
  if (existing.test(out)) return out.replace(existing, () => source);
  const mac = /<mac\b[^>]*>/.exec(out);
  const at = mac ? mac.index + mac[0].length : out.indexOf('>') + 1;
  return out.slice(0, at) + source + out.slice(at);
}

/**
 * Moves each NIC (found by its old MAC, or by its new MAC if already rewritten) to its new network,
 * and gives it the new MAC if `macs`. With `requireAll`, a NIC found under neither MAC is an error.
 */
export function rewriteInterfaces(
  xml: string,
  nics: NicChange[],
  opts: { macs: boolean; requireAll: boolean },
): string {
  const found = new Set<NicChange>();
  let out = '';
  let from = 0;
  for (const iface of findInterfaces(xml)) {
    const mac = macOf(iface.text);
    const nic = nics.find((n) => n.oldMac === mac) ?? nics.find((n) => n.newMac === mac);
    if (!nic || mac === undefined) continue;
    found.add(nic);
    const newMac = opts.macs && mac === nic.oldMac ? nic.newMac : undefined;
    out += xml.slice(from, iface.start) + rewriteInterface(iface.text, { network: nic.network, ...(newMac ? { mac: newMac } : {}) });
    from = iface.end;
  }
  out += xml.slice(from);
  if (opts.requireAll) {
    const missing = nics.filter((n) => !found.has(n));
    if (missing.length > 0) {
      throw new InvalidArgumentError('nics', `no interface with MAC ${missing.map((n) => n.oldMac).join(', ')} in the saved domain`);
    }
  }
  return out;
}

/** The domain's name: libvirt formats <name> as the first child of <domain>. */
export function domainNameOf(xml: string): string {
  const m = /<domain\b[^>]*>\s*<name>([^<]*)<\/name>/.exec(xml);
  if (!m?.[1]) throw new InvalidArgumentError('xml', 'no <name> in the domain XML');
  return unescapeXml(m[1].trim());
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (all, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return named[lower] ?? all;
  });
}
