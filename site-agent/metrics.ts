// The agent's Prometheus metrics (README, Monitoring): one registry object, passed to the pieces
// that report into it (never a global). Every series carries the site's name; other labels are
// bounded: kind, result, direction (in, out), priority (urgent, background).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../src/shared/logger.js';
import type { ClusterSpec, ClusterStatus, Snapshot } from '../src/shared/proto.js';
import type { ClusterBackend, SnapshotBackend } from './service.js';
import type { StoreStats } from './store-stats.js';
import type { Direction, TransferMetrics, TransferResult } from './transfer/metrics-port.js';
import type { Priority, TransferScheduler } from './transfer/scheduler.js';

const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
const DOWNTIME_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SKEW_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** 1 MiB/s … 1 GiB/s: a WAN link to a local disk */
const RATE_BUCKETS = [1, 4, 16, 32, 64, 128, 256, 512, 1024].map((m) => m * 1024 * 1024);
const PRIORITIES: readonly Priority[] = ['urgent', 'background'];
const DIRECTIONS: readonly Direction[] = ['in', 'out'];
/** a scrape reuses the store's figures this long unless the store changed */
const STORE_STATS_MAX_AGE_MS = 30_000;

export class AgentMetrics implements TransferMetrics {
  readonly registry = new Registry();
  private readonly transferBytes: Counter<'direction' | 'priority'>;
  private readonly transfers: Counter<'direction' | 'priority' | 'result'>;
  private readonly throughput: Histogram<'direction' | 'priority'>;
  private readonly snapshots: Counter<'kind' | 'result'>;
  private readonly snapshotSeconds: Histogram<'kind'>;
  private readonly snapshotBytes: Counter<'kind'>;
  private readonly snapshotNew: Counter<'kind'>;
  private readonly downtime: Histogram<'kind'>;
  private readonly skew: Histogram<'kind'>;
  private readonly restores: Counter<'result'>;
  private readonly restoreSeconds: Histogram<'result'>;
  private readonly deploys: Counter<'result'>;
  private readonly deploySeconds: Histogram<'result'>;
  private storeCache: { at: number; stats: StoreStats } | undefined;

  constructor(
    site: string,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
    options: { processMetrics?: boolean } = {},
  ) {
    this.registry.setDefaultLabels({ site });
    const r = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.transferBytes = new Counter({ name: 'brine_agent_transfer_bytes_total', help: 'Snapshot bytes on the wire (compressed chunks), by direction (in: fetched here, out: served) and priority.', labelNames: ['direction', 'priority'], registers: r });
    this.transfers = new Counter({ name: 'brine_agent_transfers_total', help: 'Transfers that ended: in = snapshot fetches, out = ReadChunks streams served; by priority and result.', labelNames: ['direction', 'priority', 'result'], registers: r });
    this.throughput = new Histogram({ name: 'brine_agent_transfer_throughput_bytes_per_second', help: 'Wire bytes per second of each transfer that ended well (from its first slot to its end).', labelNames: ['direction', 'priority'], buckets: RATE_BUCKETS, registers: r });
    for (const direction of DIRECTIONS) for (const priority of PRIORITIES) this.transferBytes.inc({ direction, priority }, 0);
    this.snapshots = new Counter({ name: 'brine_agent_snapshots_total', help: 'TakeSnapshot calls that ended, by kind (checkpoint, suspend) and result.', labelNames: ['kind', 'result'], registers: r });
    this.snapshotSeconds = new Histogram({ name: 'brine_agent_snapshot_duration_seconds', help: 'Whole TakeSnapshot (pause, capture, store), by kind, in seconds.', labelNames: ['kind'], buckets: DURATION_BUCKETS, registers: r });
    this.snapshotBytes = new Counter({ name: 'brine_agent_snapshot_bytes_total', help: 'Sizes of the snapshots taken here, by kind.', labelNames: ['kind'], registers: r });
    this.snapshotNew = new Counter({ name: 'brine_agent_snapshot_new_bytes_total', help: 'Bytes the snapshots taken here added to the store, by kind.', labelNames: ['kind'], registers: r });
    this.downtime = new Histogram({ name: 'brine_agent_snapshot_downtime_seconds', help: 'Longest pause of a VM during a snapshot here, by kind, in seconds.', labelNames: ['kind'], buckets: DOWNTIME_BUCKETS, registers: r });
    this.skew = new Histogram({ name: 'brine_agent_snapshot_pause_skew_seconds', help: 'Spread between the first and the last VM paused, by kind, in seconds.', labelNames: ['kind'], buckets: SKEW_BUCKETS, registers: r });
    this.restores = new Counter({ name: 'brine_agent_restores_total', help: 'RestoreCluster calls that ended, by result.', labelNames: ['result'], registers: r });
    this.restoreSeconds = new Histogram({ name: 'brine_agent_restore_duration_seconds', help: 'RestoreCluster (read, verify, restore every VM), by result, in seconds.', labelNames: ['result'], buckets: DURATION_BUCKETS, registers: r });
    this.deploys = new Counter({ name: 'brine_agent_deploys_total', help: 'DeployCluster calls that ended, by result.', labelNames: ['result'], registers: r });
    this.deploySeconds = new Histogram({ name: 'brine_agent_deploy_duration_seconds', help: 'DeployCluster, by result, in seconds.', labelNames: ['result'], buckets: DURATION_BUCKETS, registers: r });
  }

  bytes(direction: Direction, priority: Priority, bytes: number): void {
    this.transferBytes.inc({ direction, priority }, bytes);
  }

  ended(direction: Direction, priority: Priority, result: TransferResult, bytes: number, seconds: number): void {
    this.transfers.inc({ direction, priority, result });
    if (result === 'ok' && seconds > 0 && bytes > 0) this.throughput.observe({ direction, priority }, bytes / seconds);
    if (direction === 'in') this.storeChanged();
  }

  /** Queue length and active transfers of the two schedulers, read at scrape time. */
  watchSchedulers(s: { fetcher: Pick<TransferScheduler, 'state'>; source: Pick<TransferScheduler, 'state'> }): void {
    const of = (d: Direction) => (d === 'in' ? s.fetcher : s.source).state();
    new Gauge({
      name: 'brine_agent_transfer_queue_length',
      help: 'Transfers waiting for a slot of the transfer scheduler, by direction and priority.',
      labelNames: ['direction', 'priority'],
      registers: [this.registry],
      collect() {
        for (const direction of DIRECTIONS) {
          const q = of(direction).queued;
          for (const priority of PRIORITIES) this.set({ direction, priority }, q.filter((x) => x.priority === priority).length);
        }
      },
    });
    new Gauge({
      name: 'brine_agent_transfers_active',
      help: 'Transfers holding a slot now, by direction.',
      labelNames: ['direction'],
      registers: [this.registry],
      collect() {
        for (const direction of DIRECTIONS) this.set({ direction }, of(direction).running.length);
      },
    });
  }

  /** Store size gauges, computed at scrape time (cached; `storeChanged` invalidates). */
  watchStore(stats: () => Promise<StoreStats>): void {
    const get = async (): Promise<StoreStats> => {
      const t = this.now();
      if (!this.storeCache || t - this.storeCache.at > STORE_STATS_MAX_AGE_MS) this.storeCache = { at: t, stats: await stats() };
      return this.storeCache.stats;
    };
    const gauge = (name: string, help: string, pick: (s: StoreStats) => number): void => {
      const log = this.log;
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          try {
            this.set(pick(await get()));
          } catch (err) {
            log.warn({ err: err instanceof Error ? err.message : String(err) }, 'metrics: cannot measure the snapshot store');
          }
        },
      });
    };
    gauge('brine_agent_store_snapshots', 'Snapshots complete in the site\'s store.', (s) => s.snapshots);
    gauge('brine_agent_store_chunks', 'Distinct chunks the store\'s snapshots reference.', (s) => s.chunks);
    gauge('brine_agent_store_chunk_bytes', 'Plain (uncompressed) bytes of those chunks.', (s) => s.chunkBytes);
    gauge('brine_agent_store_disk_bytes', 'Bytes of every file under the store\'s directory.', (s) => s.diskBytes);
  }

  /** The store gained or lost snapshots: the next scrape measures it again. */
  storeChanged(): void {
    this.storeCache = undefined;
  }

  /** TakeSnapshot / RestoreCluster / PruneSnapshots, counted and timed. */
  instrumentSnapshots(inner: SnapshotBackend): SnapshotBackend {
    return {
      take: async (input) => {
        const kind = input.kind === 'suspend' ? 'suspend' : 'checkpoint';
        const t0 = this.now();
        let snap: Snapshot;
        try {
          snap = await inner.take(input);
        } catch (err) {
          this.snapshots.inc({ kind, result: 'failed' });
          throw err;
        }
        this.snapshots.inc({ kind, result: 'ok' });
        this.snapshotSeconds.observe({ kind }, (this.now() - t0) / 1000);
        this.snapshotBytes.inc({ kind }, snap.totalBytes);
        this.snapshotNew.inc({ kind }, snap.newBytes);
        this.downtime.observe({ kind }, snap.downtimeMs / 1000);
        this.skew.observe({ kind }, snap.pauseSkewMs / 1000);
        this.storeChanged();
        return snap;
      },
      restore: (spec: ClusterSpec, snapshotId: string) => this.timed(this.restores, this.restoreSeconds, () => inner.restore(spec, snapshotId)),
      prune: async (jobId, keep) => {
        const deleted = await inner.prune(jobId, keep);
        if (deleted.length > 0) this.storeChanged();
        return deleted;
      },
    };
  }

  /** DeployCluster counted and timed; the rest passes through. */
  instrumentClusters(inner: ClusterBackend): ClusterBackend {
    return {
      deploy: (spec: ClusterSpec): Promise<ClusterStatus> => this.timed(this.deploys, this.deploySeconds, () => inner.deploy(spec)),
      destroy: (jobId, reason) => inner.destroy(jobId, reason),
      status: () => inner.status(),
      networkXml: (jobId) => inner.networkXml(jobId),
    };
  }

  private async timed<T>(count: Counter<'result'>, seconds: Histogram<'result'>, fn: () => Promise<T>): Promise<T> {
    const t0 = this.now();
    try {
      const v = await fn();
      count.inc({ result: 'ok' });
      seconds.observe({ result: 'ok' }, (this.now() - t0) / 1000);
      return v;
    } catch (err) {
      count.inc({ result: 'failed' });
      seconds.observe({ result: 'failed' }, (this.now() - t0) / 1000);
      throw err;
    }
  }
}
