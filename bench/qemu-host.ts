// What the real-QEMU benchmarks share: the host's libvirtd, the project's test guest, and the check
// that both are there (a benchmark that cannot run says so loudly and exits 0).
import { execFile } from 'node:child_process';
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
