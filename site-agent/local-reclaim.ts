// Reclaim without the coordinator (issue 13): when the site's batch scheduler takes nodes back and
// the coordinator cannot be reached, its hooks ask this agent (LocalReclaim, with the site's
// certificate). The agent knows what runs on its nodes: it closes them to new VMs, suspends every
// cluster with a VM there through the usual snapshot path (a `suspend` snapshot, durable in the
// site's store, then the VMs stopped), and answers once that is done. What it did is kept in
// `<dataDir>/local-reclaim.json` and sent with each registration and heartbeat (a
// LocalReclaimReport) until the coordinator acknowledges it: the coordinator then records those
// jobs SUSPENDED with those snapshots and the nodes reclaimed, as if it had run the reclaim itself.
//
// Crash safety: a suspension is written down (`taking`) before its capture starts; at start-up
// (after ClusterSnapshots.recover(), which settles interrupted captures) one whose manifest is in
// the store is `taken`, one without is dropped (the recovery made its VMs run again). Closed nodes
// stay closed across restarts until LocalRelease, or until the coordinator has taken them over.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InternalError, InvalidArgumentError, NotAllowedError, NotFoundError } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';
import type { ClusterStatus, Snapshot } from '../src/shared/proto.js';
import { parseDurationMs } from '../src/shared/units.js';
import type { LocalReclaimReport__Output as LocalReclaimReport } from '../src/gen/brine/v1/LocalReclaimReport.js';
import type { LocalReclaimResponse__Output as LocalReclaimResponse } from '../src/gen/brine/v1/LocalReclaimResponse.js';
import type { LocalReleaseResponse__Output as LocalReleaseResponse } from '../src/gen/brine/v1/LocalReleaseResponse.js';
import type { PreemptedJob__Output as PreemptedJob } from '../src/gen/brine/v1/PreemptedJob.js';
import type { ClusterSnapshots } from './snapshots.js';
import type { SnapshotStore } from './snapshot-store/index.js';

const DEFAULT_GRACE_MS = 120_000;
/** a deploy that raced the closing can add a cluster after the first pass: look again, this often */
const MAX_PASSES = 3;

const suspensionSchema = z.strictObject({
  job: z.string().min(1),
  snapshotId: z.string().min(1),
  nodes: z.array(z.string()),
  at: z.string(),
  /** taking: the capture may be under way (or was cut short); taken: the manifest is durable */
  state: z.enum(['taking', 'taken']),
});
type Suspension = z.infer<typeof suspensionSchema>;

const stateSchema = z.strictObject({
  version: z.literal(1),
  /** grows with every change; the coordinator acknowledges a revision */
  revision: z.number().int().nonnegative(),
  /** nodes closed to new VMs */
  closedNodes: z.array(z.string()),
  /** nodes opened again by LocalRelease, not yet reported */
  releasedNodes: z.array(z.string()),
  suspensions: z.array(suspensionSchema),
});
type State = z.infer<typeof stateSchema>;

const EMPTY: State = { version: 1, revision: 0, closedNodes: [], releasedNodes: [], suspensions: [] };

/** Where the state lives, and how it is written (atomically, fsynced) and read. */
export interface StateFile {
  read(): Promise<unknown>;
  write(state: unknown): Promise<void>;
}

export function localReclaimFile(dataDir: string): StateFile {
  const file = join(dataDir, 'local-reclaim.json');
  return {
    async read() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw new InternalError(`${file} is not valid JSON: move it away only once the coordinator knows which jobs this site suspended`, err);
      }
    },
    async write(state) {
      await mkdir(dataDir, { recursive: true });
      const tmp = `${file}.tmp`;
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(`${JSON.stringify(state)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      const dir = await open(dataDir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    },
  };
}

export interface LocalReclaimOptions {
  site: string;
  /** the site's node names */
  nodes: readonly string[];
  clusters: { status(): Promise<ClusterStatus[]> };
  snapshots: Pick<ClusterSnapshots, 'take' | 'toSnapshot'>;
  store: Pick<SnapshotStore, 'manifest'>;
  file: StateFile;
  logger: Logger;
  clock?: { now(): Date };
  newSnapshotId?: () => string;
  /** waits `ms` (the grace period); default a timer */
  sleep?: (ms: number) => Promise<void>;
}

function localSnapshotId(): string {
  // `l` for local: never one of the coordinator's (`s…`), and unique without it
  return 'l' + BigInt('0x' + randomBytes(6).toString('hex')).toString(36).padStart(10, '0');
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** A VM with state to save: a guest that shut down (or crashed) by itself has none left. */
const live = (state: string): boolean => state === 'RUNNING' || state === 'PAUSED';

export class LocalReclaims {
  private state: State;
  private writing: Promise<void> = Promise.resolve();
  /** suspensions under way, by job: a second reclaim hitting the same cluster joins the first */
  private readonly running = new Map<string, Promise<PreemptedJob>>();
  /** the clusters being suspended, as they were when it started (shown to heartbeats meanwhile) */
  private readonly hidden = new Map<string, ClusterStatus>();
  private readonly log: Logger;

  private constructor(
    private readonly o: LocalReclaimOptions,
    state: State,
  ) {
    this.state = state;
    this.log = o.logger.child({ site: o.site });
  }

  /** Reads the state (validated) and settles suspensions a crash cut short. Call after snapshots.recover(). */
  static async open(o: LocalReclaimOptions): Promise<LocalReclaims> {
    const raw = await o.file.read();
    let state: State = structuredClone(EMPTY);
    if (raw !== undefined) {
      const parsed = stateSchema.safeParse(raw);
      if (!parsed.success) {
        const where = parsed.error.issues[0]?.path.join('.') ?? '';
        throw new InternalError(`local-reclaim.json does not validate (${where}: ${parsed.error.issues[0]?.message}); it lists the jobs this site suspended by itself: repair it, do not delete it`);
      }
      state = parsed.data;
    }
    const me = new LocalReclaims(o, state);
    let changed = false;
    for (const s of [...state.suspensions]) {
      if (s.state !== 'taking') continue;
      if (await me.committed(s.snapshotId)) {
        s.state = 'taken';
        me.log.warn({ job: s.job, snapshot: s.snapshotId }, 'a local suspend cut short after its snapshot was durable: kept for the coordinator');
      } else {
        state.suspensions = state.suspensions.filter((x) => x !== s);
        me.log.warn({ job: s.job, snapshot: s.snapshotId }, 'a local suspend cut short before its snapshot was durable: dropped (its VMs run again)');
      }
      changed = true;
    }
    if (changed) await me.save();
    if (state.closedNodes.length) me.log.info({ nodes: state.closedNodes }, 'nodes closed by a local reclaim');
    return me;
  }

  private async committed(snapshotId: string): Promise<boolean> {
    try {
      await this.o.store.manifest(snapshotId);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  private now(): string {
    return (this.o.clock?.now() ?? new Date()).toISOString();
  }

  /** Bumps the revision and writes the whole state; writes run one after the other. */
  private save(): Promise<void> {
    this.state.revision += 1;
    const snapshot = structuredClone(this.state);
    const next = this.writing.then(() => this.o.file.write(snapshot));
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Nodes closed to new VMs now. */
  closedNodes(): string[] {
    return [...this.state.closedNodes];
  }

  /** Refuses a deploy or restore onto a closed node (FAILED_PRECONDITION naming it). */
  checkOpen(nodes: readonly string[], field: string): void {
    const closed = sorted(nodes.filter((n) => this.state.closedNodes.includes(n)));
    if (closed.length) {
      throw new NotAllowedError(`${field}: node${closed.length > 1 ? 's' : ''} ${closed.join(', ')} of ${this.o.site} reclaimed by the site's batch scheduler (brine site release ${this.o.site} --nodes ${closed.join(',')} opens them)`);
    }
  }

  private split(nodes: readonly string[], ignoreUnknown: boolean): { known: string[]; ignored: string[] } {
    if (nodes.length === 0) throw new InvalidArgumentError('nodes', 'give at least one node');
    const known = nodes.filter((n) => this.o.nodes.includes(n));
    const ignored = nodes.filter((n) => !this.o.nodes.includes(n));
    if (ignored.length && !ignoreUnknown) {
      throw new InvalidArgumentError('nodes', `unknown node${ignored.length > 1 ? 's' : ''} ${ignored.join(', ')} at ${this.o.site} (known: ${this.o.nodes.join(', ')})`);
    }
    return { known: [...new Set(known)], ignored: [...new Set(ignored)] };
  }

  /**
   * Closes `nodes` and suspends every cluster with a VM on them; answers once each snapshot is
   * durable or `grace` is over (a suspend still running then goes on, and is reported when done).
   */
  async reclaim(nodes: readonly string[], grace: string, ignoreUnknown: boolean): Promise<LocalReclaimResponse> {
    const graceMs = grace ? parseDurationMs(grace, 'grace') : DEFAULT_GRACE_MS;
    const { known, ignored } = this.split(nodes, ignoreUnknown);
    if (known.length === 0) return { preempted: [], freeNodes: [], closedNodes: this.closedNodes(), ignoredNodes: ignored };
    this.state.closedNodes = sorted([...this.state.closedNodes, ...known]);
    this.state.releasedNodes = this.state.releasedNodes.filter((n) => !known.includes(n));
    await this.save(); // closed before anything is looked at: no new VM lands there meanwhile
    this.log.info({ nodes: known, graceMs }, 'nodes reclaimed locally (the coordinator is unreachable)');
    const deadline = Date.now() + graceMs;
    const outcomes = new Map<string, Promise<PreemptedJob>>();
    /** the reclaimed nodes each hit job has VMs on */
    const nodesOf = new Map<string, string[]>();
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const hit = (await this.o.clusters.status()).filter((c) => !outcomes.has(c.jobId) && c.vms.some((v) => known.includes(v.node) && live(v.state)));
      if (hit.length === 0) break;
      for (const c of hit) {
        outcomes.set(c.jobId, this.suspend(c, known));
        nodesOf.set(c.jobId, sorted(c.vms.map((v) => v.node).filter((n) => known.includes(n))));
      }
      const left = deadline - Date.now();
      const timeUp = this.sleep(Math.max(0, left)).then(() => 'late' as const);
      const all = Promise.all(outcomes.values());
      if ((await Promise.race([all, timeUp])) === 'late') break;
    }
    const preempted = await Promise.all(
      [...outcomes].map(async ([job, p]) => {
        const settled = await Promise.race([p, Promise.resolve(undefined)]);
        return settled ?? { job, snapshot: '', saved: false, nodes: nodesOf.get(job) ?? [], reason: `not saved within the grace period (${grace || '2m'}): its suspend goes on and is reported to the coordinator once done` };
      }),
    );
    const busy = new Set((await this.o.clusters.status()).flatMap((c) => c.vms.filter((v) => live(v.state)).map((v) => v.node)));
    return { preempted, freeNodes: known.filter((n) => !busy.has(n)), closedNodes: this.closedNodes(), ignoredNodes: ignored };
  }

  private sleep(ms: number): Promise<void> {
    return (this.o.sleep ?? defaultSleep)(ms);
  }

  /** One cluster's suspend, or the one already under way for its job. */
  private suspend(cluster: ClusterStatus, reclaimed: readonly string[]): Promise<PreemptedJob> {
    const running = this.running.get(cluster.jobId);
    if (running) return running;
    const run = this.suspendOnce(cluster, reclaimed).finally(() => {
      this.running.delete(cluster.jobId);
      this.hidden.delete(cluster.jobId);
    });
    this.running.set(cluster.jobId, run);
    return run;
  }

  private async suspendOnce(cluster: ClusterStatus, reclaimed: readonly string[]): Promise<PreemptedJob> {
    const job = cluster.jobId;
    const entry: Suspension = {
      job,
      snapshotId: (this.o.newSnapshotId ?? localSnapshotId)(),
      nodes: sorted(cluster.vms.map((v) => v.node).filter((n) => reclaimed.includes(n))),
      at: this.now(),
      state: 'taking',
    };
    const jlog = this.log.child({ job, snapshot: entry.snapshotId });
    this.hidden.set(job, { ...cluster, vms: cluster.vms.map((v) => ({ ...v, state: 'PAUSED' })) });
    this.state.suspensions.push(entry);
    await this.save(); // written down before the capture: a crash after its commit still reports it
    jlog.info({ nodes: entry.nodes }, 'local suspend: final snapshot');
    let snap: Snapshot;
    try {
      snap = await this.o.snapshots.take({ jobId: job, snapshotId: entry.snapshotId, kind: 'suspend', operationId: `local/${entry.snapshotId}` });
    } catch (err) {
      this.state.suspensions = this.state.suspensions.filter((s) => s !== entry);
      await this.save();
      const message = err instanceof Error ? err.message : String(err);
      jlog.warn({ err: message }, 'local suspend failed: the cluster runs on');
      return { job, snapshot: '', saved: false, nodes: entry.nodes, reason: `its snapshot failed: ${message}` };
    }
    entry.state = 'taken';
    await this.save();
    jlog.info({ totalBytes: snap.totalBytes, downtimeMs: snap.downtimeMs }, 'local suspend done: snapshot durable, VMs stopped');
    return { job, snapshot: snap.id, saved: true, nodes: entry.nodes, reason: `suspended by the site's agent; snapshot ${snap.id} complete on disk` };
  }

  /** Opens `nodes` to new VMs again. */
  async release(nodes: readonly string[], ignoreUnknown: boolean): Promise<LocalReleaseResponse> {
    const { known, ignored } = this.split(nodes, ignoreUnknown);
    if (known.length) {
      this.state.closedNodes = this.state.closedNodes.filter((n) => !known.includes(n));
      this.state.releasedNodes = sorted([...this.state.releasedNodes, ...known]);
      await this.save();
      this.log.info({ nodes: known }, 'nodes released locally (the coordinator is unreachable)');
    }
    return { closedNodes: this.closedNodes(), ignoredNodes: ignored };
  }

  /**
   * The clusters for a heartbeat: a cluster being suspended shows as it was, paused, until the
   * report has it (mid-capture libvirt may show its VMs shut off, or gone, which the coordinator
   * would take for a job that ended or vanished).
   */
  overlay(clusters: ClusterStatus[]): ClusterStatus[] {
    const seen = new Set(clusters.map((c) => c.jobId));
    return [...clusters.map((c) => this.hidden.get(c.jobId) ?? c), ...[...this.hidden.values()].filter((c) => !seen.has(c.jobId))];
  }

  /** Something for the coordinator: closed or released nodes, or a suspension done. */
  private unreported(): boolean {
    const s = this.state;
    return s.closedNodes.length > 0 || s.releasedNodes.length > 0 || s.suspensions.some((e) => e.state === 'taken');
  }

  /** What the coordinator has not acknowledged yet, or null. Snapshots as the store has them. */
  async report(): Promise<LocalReclaimReport | null> {
    const s = this.state;
    if (!this.unreported()) return null;
    const suspended = [];
    for (const x of s.suspensions.filter((e) => e.state === 'taken')) {
      let snapshot: Snapshot;
      try {
        snapshot = this.o.snapshots.toSnapshot(await this.o.store.manifest(x.snapshotId));
      } catch (err) {
        // reported as damaged, not left out: left out, the coordinator would redeploy the job afresh
        this.log.error({ job: x.job, snapshot: x.snapshotId, err: err instanceof Error ? err.message : String(err) }, 'a locally taken snapshot cannot be read');
        snapshot = { id: x.snapshotId, job: x.job, createdAt: x.at, sites: [this.o.site], vms: [], totalBytes: 0, newBytes: 0, pauseSkewMs: 0, downtimeMs: 0, damaged: true, kind: 'suspend', damagedSites: [this.o.site] };
      }
      suspended.push({ job: x.job, snapshot, nodes: x.nodes, at: x.at });
    }
    return { revision: s.revision, closedNodes: [...s.closedNodes], releasedNodes: [...s.releasedNodes], suspended };
  }

  /**
   * The coordinator recorded `revision`: what it covers is the coordinator's now (the nodes are
   * reclaimed there, so it places nothing on them). A later change is kept and reported again.
   */
  async acknowledge(revision: number): Promise<void> {
    if (revision <= 0 || revision !== this.state.revision || !this.unreported()) return;
    const taking = this.state.suspensions.filter((s) => s.state === 'taking');
    this.log.info({ revision, closedNodes: this.state.closedNodes, suspended: this.state.suspensions.filter((s) => s.state === 'taken').map((s) => s.job) }, 'local reclaims recorded by the coordinator');
    this.state = { ...this.state, closedNodes: [], releasedNodes: [], suspensions: taking };
    await this.save();
  }
}
