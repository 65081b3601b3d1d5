// What the real-QEMU benchmarks share: the host's libvirtd, the project's test guest, and the check
// that both are there (a benchmark that cannot run says so loudly and exits 0).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** the test guest (scripts/build-test-guest.sh): vmlinuz, initrd.img, cmdline */
export const GUEST = join(REPO, '.brine', 'guest');
export const URI = 'qemu:///system';

export async function virsh(...args: string[]): Promise<string> {
  return (await run('virsh', ['-q', '-c', URI, ...args], { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
}

/** Non-empty trimmed lines. */
export const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** Why the QEMU benchmarks cannot run here, or undefined. */
export async function qemuUnavailable(): Promise<string | undefined> {
  for (const f of ['vmlinuz', 'initrd.img', 'cmdline']) {
    if (!existsSync(join(GUEST, f))) return `${join(GUEST, f)} is missing (npm run build:guest / npm run setup:qemu)`;
  }
  try {
    const caps = await virsh('capabilities');
    if (!/<domain type='(qemu|kvm)'/.test(caps)) return `libvirt at ${URI} offers no qemu/kvm domain`;
  } catch (err) {
    return `no libvirt QEMU driver at ${URI} (${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)})`;
  }
  return undefined;
}

/**
 * A second octet O for 10.O.0.0/… networks that no host interface uses (other runs may hold some),
 * from 10.100–159: below the QEMU tests' 160–249.
 */
export async function freeOctet(taken: ReadonlySet<number>): Promise<number> {
  const used = new Set<number>(taken);
  const addrs = (await run('ip', ['-4', '-o', 'addr']).catch(() => ({ stdout: '' }))).stdout;
  for (const m of addrs.matchAll(/inet 10\.(\d+)\./g)) used.add(Number(m[1]));
  for (let i = 0; i < 200; i++) {
    const o = 100 + ((randomBytes(1)[0] as number) % 60);
    if (!used.has(o)) return o;
  }
  throw new Error('no free 10.x.0.0/16 in 10.100–159 for the benchmark');
}
