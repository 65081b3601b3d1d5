// Writes files into an output disk (site-agent/output-disk.ts) as a guest would, for tests on the
// test driver (whose guests write nothing): the qcow2 to raw, debugfs's `write`, back to qcow2.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Puts `files` (path under the disk's root → content) into the qcow2 output disk `disk`. */
export async function writeIntoOutputDisk(disk: string, files: Record<string, string | Buffer>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'brine-outdisk-'));
  try {
    const raw = join(dir, 'disk.raw');
    await run('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', disk, raw]);
    const cmds: string[] = [];
    const made = new Set<string>();
    for (const [i, [path, content]] of Object.entries(files).entries()) {
      const parts = path.split('/');
      for (let d = 1; d < parts.length; d++) {
        const sub = parts.slice(0, d).join('/');
        if (!made.has(sub)) cmds.push(`mkdir ${sub}`);
        made.add(sub);
      }
      const src = join(dir, `f${i}`);
      await writeFile(src, content);
      cmds.push(`write ${src} ${path}`);
    }
    await writeFile(join(dir, 'cmds'), cmds.join('\n') + '\n');
    await run('debugfs', ['-w', '-f', join(dir, 'cmds'), raw]);
    await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, join(dir, 'disk.qcow2')]);
    await copyFile(join(dir, 'disk.qcow2'), disk);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
