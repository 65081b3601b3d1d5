// What the real-VM tier's tests share: virsh on qemu:///system, the test guest's files, this run's
// domains told from anyone else's by their metadata, and the cleanup of one run's sites.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './grid.js';
import { hypervisorLogs } from '../../site-agent/host-files.js';
import { parseVmMetadata } from '../../site-agent/domain-xml.js';

export const URI = 'qemu:///system';
export const GUEST = join(REPO_ROOT, '.brine', 'guest');
export const GUEST_WAIT_MS = 120_000;
export const run = promisify(execFile);

export async function virsh(...args: string[]): Promise<string> {
  const { stdout } = await run('virsh', ['-q', '-c', URI, ...args], { timeout: 60_000 });
  return stdout;
}

export const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/** The last `n` lines of a console file, for a failure message. */
export function tail(file: string, n = 15): string {
  if (!existsSync(file)) return `(${file} does not exist)`;
  return readFileSync(file, 'utf8').replace(/\r/g, '').split('\n').slice(-n).join('\n');
}

/** The test guest's image, as a site config's `images.tiny`; throws naming what to run if it is not built. */
export function tinyGuest(): { tiny: { kernel: string; initrd: string; cmdline: string } } {
  for (const f of ['vmlinuz', 'initrd.img', 'cmdline']) {
    if (!existsSync(join(GUEST, f))) throw new Error(`${join(GUEST, f)} is missing: run scripts/setup-qemu.sh (it builds the test guest)`);
  }
  const cmdline = readFileSync(join(GUEST, 'cmdline'), 'utf8').trim();
  return { tiny: { kernel: join(GUEST, 'vmlinuz'), initrd: join(GUEST, 'initrd.img'), cmdline } };
}

/**
 * brine's domains of these sites, by their metadata: domain names carry no site (`brine-<job>-<vm>`),
 * so only the metadata tells this run's domains from anyone else's on this libvirtd.
 */
export async function domainsOf(sites: string[], job?: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of lines(await virsh('list', '--all', '--name')).filter((n) => n.startsWith('brine-'))) {
    const meta = parseVmMetadata(await virsh('dumpxml', d).catch(() => ''));
    if (meta && sites.includes(meta.site) && (job === undefined || meta.job === job)) out.push(d);
  }
  return out;
}

/** Removes what these sites left in libvirt (domains, their QEMU logs, networks), and only that. */
export async function removeLeftovers(sites: string[]): Promise<void> {
  for (const d of await domainsOf(sites)) {
    await virsh('destroy', d).catch(() => '');
    await virsh('undefine', d).catch(() => '');
    for (const f of hypervisorLogs(URI, d)) await run('rm', ['-f', f]).catch(() => undefined);
  }
  // networks carry the site (`brine-<site>-<job>`)
  const ours = (name: string): boolean => sites.some((s) => name.startsWith(`brine-${s}-`));
  for (const n of lines(await virsh('net-list', '--all', '--name')).filter(ours)) {
    await virsh('net-destroy', n).catch(() => '');
    await virsh('net-undefine', n).catch(() => '');
  }
}
