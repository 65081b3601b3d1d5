// Output disks after their job ended, for `brine output`: kept aside at the destroy
// (`DestroyCluster.keepOutputForMs`) for a while, then deleted; read file by file on request.
// A VM whose disk is not on this site's hosts any more (the job was suspended here when it ended)
// gets the copy in its latest snapshot here.

import { link, mkdir, mkdtemp, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { sweepExpired, writeExpiry } from './kept-files.js';
import { join, relative, sep } from 'node:path';
import { errorMessage, NotAllowedError, InvalidArgumentError, NotFoundError } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';
import type { ClusterManager } from './clusters.js';
import { domainName } from './domain-xml.js';
import { OUTPUT_TARGET, type OutputDiskTool } from './output-disk.js';
import { diskFile } from './snapshot-format.js';
import type { SnapshotStore } from './snapshot-store/index.js';

export interface OutputPiece {
  vm: string;
  /** '/'-separated, relative to the disk's root */
  path: string;
  mode: number;
  size: number;
  offset: number;
  data: Buffer;
}

export interface OutputsOptions {
  clusters: Pick<ClusterManager, 'clusterStatus' | 'outputPath'>;
  store: Pick<SnapshotStore, 'list' | 'restoreFile'>;
  tool: OutputDiskTool;
  dataDir: string;
  log: Logger;
  now?: () => number;
}

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const CHUNK = 256 * 1024;

export class Outputs {
  private readonly now: () => number;
  private seq = 0;

  constructor(private readonly o: OutputsOptions) {
    this.now = o.now ?? Date.now;
  }

  private get keptDir(): string {
    return join(this.o.dataDir, 'kept-outputs');
  }

  /**
   * Before an ended job's cluster is destroyed: each VM's output disk is kept until now + `forMs`.
   * A hard link, not a copy: the destroy then only removes the VM's name for it. VMs not on this
   * site's hosts (the job was suspended here) are taken from the latest snapshot here, unless a
   * copy is kept already (a fence got there first, `ClusterManager.setFenceHook`): that one is newer.
   */
  async keep(jobId: string, forMs: number): Promise<string[]> {
    checkIds(jobId);
    const dir = join(this.keptDir, jobId);
    const kept: string[] = [];
    const snaps = (await this.o.store.list(jobId)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const suffix = diskFile('', OUTPUT_TARGET); // '/disk-vdb.qcow2'
    const vms = new Set((await this.o.clusters.clusterStatus(jobId))?.vms.map((v) => v.name) ?? []);
    for (const s of snaps) for (const f of s.files) if (f.name.endsWith(suffix)) vms.add(f.name.slice(0, -suffix.length));
    for (const vm of [...vms].sort()) {
      checkIds(jobId, vm);
      const to = join(dir, `${vm}.qcow2`);
      await mkdir(dir, { recursive: true });
      const disk = this.o.clusters.outputPath(domainName(jobId, vm));
      // linked under a name of its own, then renamed over `to`: a keep racing another never
      // leaves `to` missing
      const tmp = `${to}.${process.pid}.${(this.seq++).toString(36)}.tmp`;
      try {
        await link(disk, tmp);
        await rename(tmp, to);
        kept.push(vm);
        continue;
      } catch (err) {
        await rm(tmp, { force: true });
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (await stat(to).then(() => true, () => false)) {
        kept.push(vm);
        continue;
      }
      const name = diskFile(vm, OUTPUT_TARGET);
      const latest = snaps.filter((s) => s.files.some((f) => f.name === name)).at(-1);
      if (!latest) continue;
      await this.o.store.restoreFile(latest.id, name, to);
      this.o.log.info({ job: jobId, vm, snapshot: latest.id }, 'output disk kept from the latest snapshot (the VM did not run here)');
      kept.push(vm);
    }
    if (kept.length) await writeExpiry(dir, this.now() + forMs);
    else await rm(dir, { recursive: true, force: true });
    await this.sweep();
    return kept;
  }

  /** At agent start: removes what reads cut short by a crash left in `work/` (no read runs yet). */
  async clearWork(): Promise<void> {
    await rm(join(this.keptDir, 'work'), { recursive: true, force: true });
  }

  /** Deletes kept output disks whose time is up (`work/` holds reads in progress). */
  sweep(): Promise<number> {
    return sweepExpired(this.keptDir, this.now(), this.o.log, 'output disks', ['work']);
  }

  /**
   * The files of the kept output disks of `jobId` (one VM or every kept one), in pieces of at
   * most 256 KiB, files in path order. The disk is unpacked into a work directory first (on
   * disk, never whole in memory), removed afterwards.
   */
  async *read(jobId: string, vm: string, signal: AbortSignal): AsyncGenerator<OutputPiece> {
    checkIds(jobId, vm || undefined);
    const status = await this.o.clusters.clusterStatus(jobId);
    if (status?.vms.some((v) => (!vm || v.name === vm) && (v.state === 'RUNNING' || v.state === 'PAUSED'))) {
      throw new NotAllowedError(`job ${jobId} still runs here; its output can be read once it ends`);
    }
    const dir = join(this.keptDir, jobId);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.qcow2')).map((f) => f.slice(0, -'.qcow2'.length));
    const vms = vm ? names.filter((n) => n === vm) : names.sort();
    if (vms.length === 0) throw new NotFoundError('output', `${jobId}${vm ? `/${vm}` : ''} (no output disk kept at this site: expired, or the job had none)`);
    for (const name of vms) {
      // its own directory: two copies of the same output may run at once
      await mkdir(join(this.keptDir, 'work'), { recursive: true });
      const work = await mkdtemp(join(this.keptDir, 'work', `${jobId}-${name}-`));
      try {
        await this.o.tool.extract(join(dir, `${name}.qcow2`), join(work, 'files'), join(work, 'scratch'));
        yield* this.files(name, join(work, 'files'), signal);
      } finally {
        await rm(work, { recursive: true, force: true }).catch((e: unknown) => this.o.log.warn({ job: jobId, vm: name, err: errorMessage(e) }, 'could not remove output work files'));
      }
    }
  }

  private async *files(vm: string, root: string, signal: AbortSignal): AsyncGenerator<OutputPiece> {
    for (const file of await walk(root)) {
      if (signal.aborted) return;
      const path = relative(root, file).split(sep).join('/');
      const st = await stat(file);
      const mode = st.mode & 0o7777;
      if (st.size === 0) {
        yield { vm, path, mode, size: 0, offset: 0, data: Buffer.alloc(0) };
        continue;
      }
      const fh = await open(file, 'r');
      try {
        for (let at = 0; at < st.size; ) {
          if (signal.aborted) return;
          const buf = Buffer.alloc(Math.min(CHUNK, st.size - at));
          const { bytesRead } = await fh.read(buf, 0, buf.length, at);
          if (bytesRead === 0) break;
          yield { vm, path, mode, size: st.size, offset: at, data: buf.subarray(0, bytesRead) };
          at += bytesRead;
        }
      } finally {
        await fh.close();
      }
    }
  }
}

/** Regular files under `root`, sorted; lost+found (mkfs's own) and anything else left out. */
async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string, top: boolean): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (top && e.name === 'lost+found') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await visit(p, false);
      else if (e.isFile()) out.push(p);
    }
  };
  await visit(root, true);
  return out;
}

function checkIds(jobId: string, vm?: string): void {
  if (!NAME.test(jobId)) throw new InvalidArgumentError('jobId', `"${jobId.slice(0, 100)}" is not a job id`);
  if (vm !== undefined && !NAME.test(vm)) throw new InvalidArgumentError('vm', `"${vm.slice(0, 100)}" is not a VM name`);
}
