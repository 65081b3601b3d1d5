// The coordinator's Prometheus metrics (README, Monitoring). Gauges are computed at scrape time
// from the coordinator's public read methods; counters and histograms are fed by a subscriber to
// its event stream (op-tracker.ts). Labels are bounded: site, node, state, kind, result — never a
// job id.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JobState } from '../gen/brine/v1/JobState.js';
import type { BrineEvent, Lease, Site, Snapshot } from '../shared/proto.js';
import type { Logger } from '../shared/logger.js';
import type { Listener } from './events.js';
import { isEnded, type JobStateName } from './job-state.js';
import { OP_KINDS, OpTracker } from './op-tracker.js';
import type { JobRecord } from './store.js';

/** What the metrics read from the coordinator (its public methods only). */
export interface MetricsSource {
  jobs(): JobRecord[];
  sites(): Site[];
  addresses(): Lease[];
  snapshots(jobId: string): Snapshot[];
  events: { subscribe(listener: Listener): () => void };
}

const JOB_STATES = Object.values(JobState).filter((s): s is JobStateName => s !== 'JOB_STATE_UNSPECIFIED');
const SNAPSHOT_KINDS = ['checkpoint', 'suspend'] as const;
const MIB = 1024 * 1024;

/** Durations of whole operations: a deploy takes seconds, a move of a large cluster minutes. */
const OP_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];
/** How long a guest stands still during a snapshot. */
const DOWNTIME_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Spread between the first and the last VM's pause: milliseconds when healthy. */
const SKEW_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** From submit to placement: immediate when there is room, hours when the grid is full. */
const PLACEMENT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600];

export class CoordinatorMetrics {
  readonly registry = new Registry();
  private readonly unsubscribe: () => void;
  private readonly tracker: OpTracker;

  constructor(
    private readonly source: MetricsSource,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    options: { processMetrics?: boolean } = {},
  ) {
    const r = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const submitted = new Counter({ name: 'brine_jobs_submitted_total', help: 'Jobs accepted by SubmitJob.', registers: r });
    const placement = new Histogram({ name: 'brine_job_placement_seconds', help: 'From submit to the first deploy, in seconds.', buckets: PLACEMENT_BUCKETS, registers: r });
    const ops = new Counter({ name: 'brine_operations_total', help: 'Operations on jobs that ended, by kind (deploy, checkpoint, suspend, resume, move) and result (ok, failed).', labelNames: ['kind', 'result'], registers: r });
    const opSeconds = new Histogram({ name: 'brine_operation_duration_seconds', help: 'Duration of the operations on jobs, by kind and result, in seconds.', labelNames: ['kind', 'result'], buckets: OP_BUCKETS, registers: r });
    for (const kind of OP_KINDS) for (const result of ['ok', 'failed']) ops.inc({ kind, result }, 0);
    const snaps = new Counter({ name: 'brine_snapshots_total', help: 'Snapshots cataloged, by kind (checkpoint, suspend).', labelNames: ['kind'], registers: r });
    const snapBytes = new Counter({ name: 'brine_snapshot_bytes_total', help: 'Sum of the cataloged snapshots\' sizes (every file of every VM), by kind.', labelNames: ['kind'], registers: r });
    const snapNew = new Counter({ name: 'brine_snapshot_new_bytes_total', help: 'Bytes the cataloged snapshots added to their site\'s store (not there before), by kind.', labelNames: ['kind'], registers: r });
    const downtime = new Histogram({ name: 'brine_snapshot_downtime_seconds', help: 'Longest pause of a VM during a snapshot, by kind, in seconds.', labelNames: ['kind'], buckets: DOWNTIME_BUCKETS, registers: r });
    const skew = new Histogram({ name: 'brine_snapshot_pause_skew_seconds', help: 'Spread between the first and the last VM paused for a snapshot, by kind, in seconds.', labelNames: ['kind'], buckets: SKEW_BUCKETS, registers: r });
    for (const kind of SNAPSHOT_KINDS) for (const c of [snaps, snapBytes, snapNew]) c.inc({ kind }, 0);
    const replicated = new Counter({ name: 'brine_snapshot_replications_total', help: 'Snapshot copies made at another site in the background.', registers: r });
    const damaged = new Counter({ name: 'brine_snapshot_damaged_total', help: 'Snapshot copies found damaged (corrupt or missing chunks).', registers: r });

    this.tracker = new OpTracker({
      submitted: () => submitted.inc(),
      placed: (_job, seconds) => placement.observe(seconds),
      finished: (op) => {
        ops.inc({ kind: op.kind, result: op.result });
        opSeconds.observe({ kind: op.kind, result: op.result }, op.seconds);
      },
    });
    const onSnapshot = (e: BrineEvent): void => {
      const snap = this.snapshotOf(e.job, e.reason);
      if (!snap) return;
      const kind = snap.kind === 'suspend' ? 'suspend' : 'checkpoint';
      snaps.inc({ kind });
      snapBytes.inc({ kind }, snap.totalBytes);
      snapNew.inc({ kind }, snap.newBytes);
      downtime.observe({ kind }, snap.downtimeMs / 1000);
      skew.observe({ kind }, snap.pauseSkewMs / 1000);
    };
    this.unsubscribe = source.events.subscribe((e) => {
      if (!e) return;
      try {
        this.tracker.handle(e);
        if (e.type === 'snapshot.taken') onSnapshot(e);
        else if (e.type === 'snapshot.replicated') replicated.inc();
        else if (e.type === 'snapshot.damaged') damaged.inc();
      } catch (err) {
        // a metric must never break the coordinator's event delivery
        this.log.warn({ job: e.job || undefined, type: e.type, err: err instanceof Error ? err.message : String(err) }, 'metrics: event not counted');
      }
    });
    this.gauges(r);
  }

  private snapshotOf(job: string, id: string): Snapshot | undefined {
    try {
      return this.source.snapshots(job).find((s) => s.id === id);
    } catch (err) {
      this.log.debug({ job, snapshot: id, err: err instanceof Error ? err.message : String(err) }, 'metrics: snapshot gone before it was counted');
      return undefined;
    }
  }

  /** Gauges read at scrape time. */
  private gauges(r: Registry[]): void {
    const src = this.source;
    const now = this.now;
    new Gauge({
      name: 'brine_jobs',
      help: 'Jobs by state (ended ones until they are collected).',
      labelNames: ['state'],
      registers: r,
      collect() {
        const counts = new Map<string, number>(JOB_STATES.map((s) => [s, 0]));
        for (const j of src.jobs()) counts.set(j.state, (counts.get(j.state) ?? 0) + 1);
        this.reset();
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'brine_job_vms',
      help: 'VMs of live jobs by the site they are placed at and their job\'s state.',
      labelNames: ['site', 'state'],
      registers: r,
      collect() {
        this.reset();
        const counts = new Map<string, { site: string; state: string; n: number }>();
        for (const j of src.jobs()) {
          if (isEnded(j.state) || !j.site) continue;
          const key = `${j.site}\0${j.state}`;
          const c = counts.get(key) ?? { site: j.site, state: j.state, n: 0 };
          c.n += j.vms.length;
          counts.set(key, c);
        }
        for (const c of counts.values()) this.set({ site: c.site, state: c.state }, c.n);
      },
    });
    let cached: { at: number; sites: Site[] } | undefined;
    const sites = (): Site[] => {
      // one read per scrape for the site and node gauges below
      const t = now();
      if (!cached || t - cached.at > 250) cached = { at: t, sites: src.sites() };
      return cached.sites;
    };
    const perSite = (name: string, help: string, value: (s: Site, t: number) => number | undefined): void => {
      new Gauge({
        name,
        help,
        labelNames: ['site'],
        registers: r,
        collect() {
          this.reset();
          const t = now();
          for (const s of sites()) {
            const v = value(s, t);
            if (v !== undefined) this.set({ site: s.name }, v);
          }
        },
      });
    };
    const perNode = (name: string, help: string, value: (n: Site['nodes'][number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['site', 'node'],
        registers: r,
        collect() {
          this.reset();
          for (const s of sites()) for (const n of s.nodes) this.set({ site: s.name, node: n.name }, value(n));
        },
      });
    };
    perSite('brine_site_up', '1 if the site\'s agent heartbeats, else 0.', (s) => (s.state === 'UP' ? 1 : 0));
    perSite('brine_site_heartbeat_age_seconds', 'Seconds since the site\'s last heartbeat (absent: none since this coordinator started).', (s, t) =>
      s.lastHeartbeat ? Math.max(0, (t - Date.parse(s.lastHeartbeat)) / 1000) : undefined,
    );
    perSite('brine_site_free_cpus', 'Free cpus on the site\'s schedulable nodes.', (s) => s.nodes.filter((n) => n.state === 'UP').reduce((a, n) => a + n.freeCpus, 0));
    perSite('brine_site_free_memory_bytes', 'Free memory on the site\'s schedulable nodes, in bytes.', (s) =>
      s.nodes.filter((n) => n.state === 'UP').reduce((a, n) => a + n.freeMemoryMiB * MIB, 0),
    );
    perNode('brine_node_cpus', 'Cpus a node lends to brine.', (n) => n.cpus);
    perNode('brine_node_memory_bytes', 'Memory a node lends to brine, in bytes.', (n) => n.memoryMiB * MIB);
    perNode('brine_node_free_cpus', 'Cpus of a node not held by a job.', (n) => n.freeCpus);
    perNode('brine_node_free_memory_bytes', 'Memory of a node not held by a job, in bytes.', (n) => n.freeMemoryMiB * MIB);
    perNode('brine_node_schedulable', '1 if new VMs may go to the node (site UP, node not reclaimed), else 0.', (n) => (n.state === 'UP' ? 1 : 0));
    new Gauge({
      name: 'brine_leases',
      help: 'Address leases (one per VM) by site and state (reserved, active, releasing).',
      labelNames: ['site', 'state'],
      registers: r,
      collect() {
        this.reset();
        const counts = new Map<string, { site: string; state: string; n: number }>();
        for (const l of src.addresses()) {
          const key = `${l.site}\0${l.state}`;
          const c = counts.get(key) ?? { site: l.site, state: l.state, n: 0 };
          c.n++;
          counts.set(key, c);
        }
        for (const c of counts.values()) this.set({ site: c.site, state: c.state }, c.n);
      },
    });
  }

  close(): void {
    this.unsubscribe();
  }
}
