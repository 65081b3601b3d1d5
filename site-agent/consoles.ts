// VM consoles for `brine logs`: read from where they are (the running VM's file, the copy kept
// after its job ended, or the job's latest snapshot here), followed while the VM runs here, and
// kept for a while after the job ends (`DestroyCluster.keepConsolesForMs`), then deleted.

import { copyFile, mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errorMessage, InvalidArgumentError, NotFoundError } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';
import type { Timers } from '../src/shared/clock.js';
import type { ClusterManager } from './clusters.js';
import { sweepExpired, writeExpiry } from './kept-files.js';
import type { SnapshotStore } from './snapshot-store/index.js';

export type ConsoleSource = 'running' | 'kept' | 'snapshot';

export interface ConsoleChunkOut {
  vm: string;
  offset: number;
  data: Buffer;
  source: ConsoleSource;
}

export interface ConsolesOptions {
  clusters: Pick<ClusterManager, 'clusterStatus'>;
  store: Pick<SnapshotStore, 'list' | 'openFile'>;
  dataDir: string;
  timers: Pick<Timers, 'setTimeout'>;
  log: Logger;
  /** how often a followed console is looked at for new bytes */
  pollMs?: number;
  now?: () => number;
}

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const CHUNK = 64 * 1024;

export class Consoles {
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(private readonly o: ConsolesOptions) {
    this.pollMs = o.pollMs ?? 250;
    this.now = o.now ?? Date.now;
  }

  private get keptDir(): string {
    return join(this.o.dataDir, 'kept-consoles');
  }

  /** Before an ended job's cluster is destroyed: its consoles are copied aside until `untilMs`. */
  async keep(jobId: string, forMs: number): Promise<string[]> {
    checkIds(jobId);
    const status = await this.o.clusters.clusterStatus(jobId);
    const dir = join(this.keptDir, jobId);
    const kept: string[] = [];
    for (const vm of status?.vms ?? []) {
      if (!vm.console) continue;
      await mkdir(dir, { recursive: true });
      try {
        await copyFile(vm.console, join(dir, `${vm.name}.log`));
        kept.push(vm.name);
      } catch (err) {
        this.o.log.warn({ job: jobId, vm: vm.name, err: errorMessage(err) }, 'console not kept (no file)');
      }
    }
    // copies a fence kept already (`ClusterManager.setFenceHook`) count too: their expiry is extended
    const already = await readdir(dir).then((fs) => fs.filter((f) => f.endsWith('.log')), () => [] as string[]);
    if (kept.length || already.length) await writeExpiry(dir, this.now() + forMs);
    await this.sweep();
    return kept;
  }

  /** Deletes kept consoles whose time is up. */
  sweep(): Promise<number> {
    return sweepExpired(this.keptDir, this.now(), this.o.log, 'consoles');
  }

  /**
   * The console of `vm` from `offset`, in chunks; with `follow`, then what it prints next, until
   * the VM no longer runs here (it moved, was suspended or ended) or `signal` aborts.
   */
  async *read(jobId: string, vm: string, offset: number, follow: boolean, signal: AbortSignal): AsyncGenerator<ConsoleChunkOut> {
    checkIds(jobId, vm);
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgumentError('offset', `a whole number ≥ 0, got ${offset}`);
    const running = await this.runningConsole(jobId, vm);
    if (running) {
      // shorter than the reader has seen (a failover from an older snapshot): say where it ends
      const size = await stat(running).then((s) => s.size, () => 0);
      if (offset > size) {
        yield { vm, offset: size, data: Buffer.alloc(0), source: 'running' };
        offset = size;
      }
      yield* this.fromFile(vm, running, offset, 'running', signal);
      if (!follow) return;
      let at = offset + (await this.sizeAfter(running, offset));
      while (!signal.aborted) {
        await new Promise<void>((resolve) => this.o.timers.setTimeout(resolve, this.pollMs));
        const size = await stat(running).then((s) => s.size, () => -1);
        if (size > at) {
          for await (const c of this.fromFile(vm, running, at, 'running', signal)) {
            at = c.offset + c.data.length;
            yield c;
          }
        }
        // stopped running here: the coordinator follows the job to where it runs next
        if (size < 0 || !(await this.runningConsole(jobId, vm))) return;
      }
      return;
    }
    const kept = join(this.keptDir, jobId, `${vm}.log`);
    if (await stat(kept).then(() => true, () => false)) {
      yield* this.fromFile(vm, kept, offset, 'kept', signal);
      return;
    }
    const snaps = await this.o.store.list(jobId);
    const latest = snaps.filter((s) => s.files.some((f) => f.name === `${vm}/console.log`)).sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1);
    if (!latest) throw new NotFoundError('console', `${jobId}/${vm} (not running, kept or in a snapshot at this site)`);
    yield* this.fromStream(vm, this.o.store.openFile(latest.id, `${vm}/console.log`), offset, signal);
  }

  private async runningConsole(jobId: string, vm: string): Promise<string | undefined> {
    const status = await this.o.clusters.clusterStatus(jobId);
    const v = status?.vms.find((x) => x.name === vm);
    return v && v.console && (v.state === 'RUNNING' || v.state === 'PAUSED') ? v.console : undefined;
  }

  private async sizeAfter(file: string, offset: number): Promise<number> {
    const size = await stat(file).then((s) => s.size, () => 0);
    return Math.max(0, size - offset);
  }

  private async *fromFile(vm: string, file: string, offset: number, source: ConsoleSource, signal: AbortSignal): AsyncGenerator<ConsoleChunkOut> {
    const fh = await open(file, 'r');
    try {
      let at = offset;
      for (;;) {
        if (signal.aborted) return;
        const buf = Buffer.alloc(CHUNK);
        const { bytesRead } = await fh.read(buf, 0, CHUNK, at);
        if (bytesRead === 0) return;
        yield { vm, offset: at, data: buf.subarray(0, bytesRead), source };
        at += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }

  /** A snapshot's console, streamed out of the store (verified as it is read), from `offset`. */
  private async *fromStream(vm: string, stream: Readable, offset: number, signal: AbortSignal): AsyncGenerator<ConsoleChunkOut> {
    let at = 0;
    try {
      for await (const piece of stream) {
        if (signal.aborted) return;
        const data = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
        const end = at + data.length;
        if (end > offset) yield { vm, offset: Math.max(at, offset), data: data.subarray(Math.max(0, offset - at)), source: 'snapshot' };
        at = end;
      }
    } finally {
      stream.destroy();
    }
  }
}

function checkIds(jobId: string, vm?: string): void {
  if (!NAME.test(jobId)) throw new InvalidArgumentError('jobId', `"${jobId.slice(0, 100)}" is not a job id`);
  if (vm !== undefined && !NAME.test(vm)) throw new InvalidArgumentError('vm', `"${vm.slice(0, 100)}" is not a VM name`);
}


