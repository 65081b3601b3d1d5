// Output disks (`submit --output-disk SIZE`, issue 12): each VM's own ext4 volume labelled
// `brine-output`, which the guest mounts and writes (the test guest at /output). It is a qcow2
// file like the root disk overlay, so every snapshot captures it and every move carries it
// (snapshot-capture.ts takes each writable qcow2 disk). After the job ends the agent keeps it for
// `brine output` (./outputs.ts), which reads its files on the host without mounting anything.
// The tools are Debian's: mkfs.ext4, e2fsck and debugfs (e2fsprogs), qemu-img (qemu-utils).
import { execFile } from 'node:child_process';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage, InternalError } from '../src/shared/errors.js';

/** The output disk's virtio target: after the root disk (vda); the guest finds it by its label. */
export const OUTPUT_TARGET = 'vdb';
export const OUTPUT_LABEL = 'brine-output';

/** The host-side tools an output disk needs (a unit test may pass its own). */
export interface OutputDiskTool {
  /** Writes a new qcow2 output disk of `sizeMiB` at `path`, atomically. */
  create(path: string, sizeMiB: number): Promise<void>;
  /** Copies the files of the output disk `disk` into the empty directory `into`, via `scratch`. */
  extract(disk: string, into: string, scratch: string): Promise<void>;
}

const run = promisify(execFile);

async function tool(cmd: string, args: string[], what: string, okCodes: readonly number[] = [0]): Promise<void> {
  try {
    // e2fsprogs lives in /usr/sbin, which a non-root agent's PATH may lack
    await run(cmd, args, { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin` } });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number' && okCodes.includes(code)) return;
    if (code === 'ENOENT') {
      throw new InternalError(`${what}: ${cmd} is not installed (apt-get install ${cmd === 'qemu-img' ? 'qemu-utils' : 'e2fsprogs'}; scripts/setup-host.sh does)`);
    }
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim().split('\n').slice(-3).join(' ');
    throw new InternalError(`${what}: ${cmd} failed: ${stderr || errorMessage(err)}`, err);
  }
}

/**
 * The real tools. `create`: a sparse raw file formatted by mkfs.ext4 (root-owned root directory
 * writable by the guest's root; no reserved blocks), converted to qcow2 so snapshots copy only
 * what is used. `extract`: the qcow2 back to a sparse raw file, its journal replayed (a VM cut off
 * mid-write leaves committed transactions only in the journal, which debugfs does not read), and
 * debugfs's `rdump` of the root directory, which writes files with their modes.
 */
export const e2fsOutputDisks: OutputDiskTool = {
  async create(path, sizeMiB) {
    await mkdir(dirname(path), { recursive: true });
    const raw = `${path}.raw.tmp`;
    const tmp = `${path}.tmp`;
    try {
      await tool('mkfs.ext4', ['-q', '-F', '-L', OUTPUT_LABEL, '-m', '0', '-E', 'root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0', raw, `${sizeMiB}M`], 'creating an output disk');
      await tool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, tmp], 'creating an output disk');
      await rename(tmp, path);
    } finally {
      await rm(raw, { force: true });
      await rm(tmp, { force: true });
    }
  },
  async extract(disk, into, scratch) {
    await mkdir(scratch, { recursive: true });
    const raw = `${scratch}/disk.raw`;
    try {
      await tool('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', disk, raw], 'reading an output disk');
      // 0: clean, 1: the journal was replayed; both leave a readable file system
      await tool('e2fsck', ['-p', '-E', 'journal_only', raw], 'reading an output disk', [0, 1]);
      await mkdir(into, { recursive: true });
      await tool('debugfs', ['-R', `rdump / "${into}"`, raw], 'reading an output disk');
    } finally {
      await rm(raw, { force: true });
    }
  },
};
