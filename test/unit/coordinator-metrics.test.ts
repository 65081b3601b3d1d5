// The coordinator's metrics from its event stream and read methods (src/coordinator/metrics.ts),
// over a fake coordinator: events with fixed times, so durations are exact.
import { expect } from 'chai';
import { CoordinatorMetrics, type MetricsSource } from '../../src/coordinator/metrics.js';
import { EventBus } from '../../src/coordinator/events.js';
import type { JobRecord } from '../../src/coordinator/store.js';
import type { Lease, Site, Snapshot } from '../../src/shared/proto.js';
import { silentLogger } from '../../src/shared/logger.js';
import { parsePromText, sampleValue, type Sample } from '../helpers/prom-text.js';

const T0 = Date.parse('2026-12-02T10:00:00.000Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

function fakeGrid() {
  const events = new EventBus();
  const jobs: JobRecord[] = [];
  const snaps: Snapshot[] = [];
  const sites: Site[] = [];
  const leases: Lease[] = [];
  const source: MetricsSource = {
    events,
    jobs: () => jobs,
    sites: () => sites,
    addresses: () => leases,
    snapshots: (id) => snaps.filter((s) => s.job === id),
  };
  return { events, jobs, snaps, sites, leases, source };
}

const job = (id: string, state: JobRecord['state'], site: string, vms: number): JobRecord =>
  ({ id, state, site, vms: Array.from({ length: vms }, (_, i) => ({ name: `vm${i}`, node: 'a1', mac: '', ip: '', state: 'RUNNING' })) }) as unknown as JobRecord;

const snapshot = (id: string, jobId: string, kind: string, totalBytes: number, newBytes: number, downtimeMs: number, pauseSkewMs: number): Snapshot =>
  ({ id, job: jobId, kind, totalBytes, newBytes, downtimeMs, pauseSkewMs, sites: ['site-a'], createdAt: at(0) }) as unknown as Snapshot;

async function scrape(m: CoordinatorMetrics): Promise<Sample[]> {
  return parsePromText(await m.registry.metrics());
}

describe('coordinator metrics', () => {
  it('counts submits and measures placement from the event stream', async () => {
    const g = fakeGrid();
    const m = new CoordinatorMetrics(g.source, silentLogger, () => T0, { processMetrics: false });
    g.events.publish({ type: 'job.state', job: 'j1', state: 'PENDING', reason: 'submitted', at: at(0) });
    g.events.publish({ type: 'job.state', job: 'j1', site: 'site-a', state: 'DEPLOYING', reason: 'placed', at: at(2.5) });
    g.events.publish({ type: 'job.state', job: 'j1', site: 'site-a', state: 'RUNNING', reason: 'deployed', at: at(4) });
    const s = await scrape(m);
    expect(sampleValue(s, 'brine_jobs_submitted_total')).to.equal(1);
    expect(sampleValue(s, 'brine_job_placement_seconds_count')).to.equal(1);
    expect(sampleValue(s, 'brine_job_placement_seconds_sum')).to.equal(2.5);
    expect(sampleValue(s, 'brine_operations_total', { kind: 'deploy', result: 'ok' })).to.equal(1);
    expect(sampleValue(s, 'brine_operation_duration_seconds_sum', { kind: 'deploy', result: 'ok' })).to.equal(1.5);
    m.close();
  });

  it('counts a checkpoint with its size, downtime and pause skew, and a failed one', async () => {
    const g = fakeGrid();
    const m = new CoordinatorMetrics(g.source, silentLogger, () => T0, { processMetrics: false });
    g.snaps.push(snapshot('s1', 'j1', 'checkpoint', 1000, 300, 250, 4));
    g.events.publish({ type: 'job.state', job: 'j1', site: 'site-a', state: 'CHECKPOINTING', at: at(10) });
    g.events.publish({ type: 'snapshot.taken', job: 'j1', site: 'site-a', reason: 's1', at: at(11) });
    g.events.publish({ type: 'job.state', job: 'j1', site: 'site-a', state: 'RUNNING', at: at(13) });
    // a checkpoint that failed: back to RUNNING without a snapshot
    g.events.publish({ type: 'job.state', job: 'j1', site: 'site-a', state: 'CHECKPOINTING', at: at(20) });
    g.events.publish({ type: 'job.state', job: 'j1', site: 'site-a', state: 'RUNNING', at: at(21) });
    const s = await scrape(m);
    expect(sampleValue(s, 'brine_operations_total', { kind: 'checkpoint', result: 'ok' })).to.equal(1);
    expect(sampleValue(s, 'brine_operations_total', { kind: 'checkpoint', result: 'failed' })).to.equal(1);
    expect(sampleValue(s, 'brine_operation_duration_seconds_sum', { kind: 'checkpoint', result: 'ok' })).to.equal(3);
    expect(sampleValue(s, 'brine_snapshots_total', { kind: 'checkpoint' })).to.equal(1);
    expect(sampleValue(s, 'brine_snapshot_bytes_total', { kind: 'checkpoint' })).to.equal(1000);
    expect(sampleValue(s, 'brine_snapshot_new_bytes_total', { kind: 'checkpoint' })).to.equal(300);
    expect(sampleValue(s, 'brine_snapshot_downtime_seconds_sum', { kind: 'checkpoint' })).to.equal(0.25);
    expect(sampleValue(s, 'brine_snapshot_downtime_seconds_bucket', { kind: 'checkpoint', le: '0.1' })).to.equal(0);
    expect(sampleValue(s, 'brine_snapshot_downtime_seconds_bucket', { kind: 'checkpoint', le: '0.25' })).to.equal(1);
    expect(sampleValue(s, 'brine_snapshot_pause_skew_seconds_sum', { kind: 'checkpoint' })).to.equal(0.004);
    m.close();
  });

  it('tells a move that reached its restore from one rolled back or abandoned', async () => {
    const g = fakeGrid();
    const m = new CoordinatorMetrics(g.source, silentLogger, () => T0, { processMetrics: false });
    g.snaps.push(snapshot('s2', 'j1', 'suspend', 2000, 100, 900, 2));
    const ev = (job: string, state: string, s: number, site = 'site-a') => g.events.publish({ type: 'job.state', job, site, state: state as 'RUNNING', at: at(s) });
    ev('j1', 'RELOCATING', 0);
    g.events.publish({ type: 'snapshot.taken', job: 'j1', site: 'site-a', reason: 's2', at: at(2) });
    ev('j1', 'RESUMING', 5, 'site-b');
    ev('j1', 'RUNNING', 8, 'site-b');
    ev('j2', 'RELOCATING', 0);
    ev('j2', 'SUSPENDED', 4); // rolled back
    ev('j3', 'RELOCATING', 0);
    ev('j3', 'RUNNING', 1); // final snapshot failed: abandoned
    const s = await scrape(m);
    expect(sampleValue(s, 'brine_operations_total', { kind: 'move', result: 'ok' })).to.equal(1);
    expect(sampleValue(s, 'brine_operations_total', { kind: 'move', result: 'failed' })).to.equal(2);
    expect(sampleValue(s, 'brine_operation_duration_seconds_sum', { kind: 'move', result: 'ok' })).to.equal(8);
    expect(sampleValue(s, 'brine_operations_total', { kind: 'resume', result: 'ok' })).to.equal(0); // the restore belongs to the move
    expect(sampleValue(s, 'brine_snapshots_total', { kind: 'suspend' })).to.equal(1);
    expect(sampleValue(s, 'brine_snapshot_downtime_seconds_sum', { kind: 'suspend' })).to.equal(0.9);
    m.close();
  });

  it('reads jobs, VMs, sites, nodes and leases at scrape time, with bounded labels', async () => {
    const g = fakeGrid();
    let now = T0;
    const m = new CoordinatorMetrics(g.source, silentLogger, () => now, { processMetrics: false });
    g.jobs.push(job('j1', 'RUNNING', 'site-b', 3), job('j2', 'PENDING', '', 1), job('j3', 'COMPLETED', 'site-a', 2));
    g.sites.push({
      name: 'site-a',
      state: 'UP',
      lastHeartbeat: new Date(T0 - 1500).toISOString(),
      nodes: [
        { name: 'a1', state: 'UP', cpus: 8, memoryMiB: 1024, freeCpus: 6, freeMemoryMiB: 512 },
        { name: 'a2', state: 'RECLAIMED', cpus: 8, memoryMiB: 1024, freeCpus: 8, freeMemoryMiB: 1024 },
      ],
    } as unknown as Site);
    g.leases.push({ site: 'site-b', job: 'j1', vm: 'vm0', state: 'active' } as Lease, { site: 'site-b', job: 'j1', vm: 'vm1', state: 'active' } as Lease, { site: 'site-a', job: 'j1', vm: 'vm0', state: 'releasing' } as Lease);
    let s = await scrape(m);
    expect(sampleValue(s, 'brine_jobs', { state: 'RUNNING' })).to.equal(1);
    expect(sampleValue(s, 'brine_jobs', { state: 'COMPLETED' })).to.equal(1);
    expect(sampleValue(s, 'brine_jobs', { state: 'SUSPENDED' })).to.equal(0);
    expect(sampleValue(s, 'brine_job_vms', { site: 'site-b', state: 'RUNNING' })).to.equal(3);
    expect(s.filter((x) => x.name === 'brine_job_vms' && x.labels.site === 'site-a')).to.have.length(0); // ended jobs hold no VM
    expect(sampleValue(s, 'brine_site_up', { site: 'site-a' })).to.equal(1);
    expect(sampleValue(s, 'brine_site_heartbeat_age_seconds', { site: 'site-a' })).to.equal(1.5);
    expect(sampleValue(s, 'brine_site_free_cpus', { site: 'site-a' })).to.equal(6); // the reclaimed node does not count
    expect(sampleValue(s, 'brine_site_free_memory_bytes', { site: 'site-a' })).to.equal(512 * 1024 * 1024);
    expect(sampleValue(s, 'brine_node_free_cpus', { site: 'site-a', node: 'a1' })).to.equal(6);
    expect(sampleValue(s, 'brine_node_schedulable', { site: 'site-a', node: 'a2' })).to.equal(0);
    expect(sampleValue(s, 'brine_leases', { site: 'site-b', state: 'active' })).to.equal(2);
    expect(sampleValue(s, 'brine_leases', { site: 'site-a', state: 'releasing' })).to.equal(1);
    now += 60_000;
    s = await scrape(m);
    expect(sampleValue(s, 'brine_site_heartbeat_age_seconds', { site: 'site-a' })).to.equal(61.5);
    for (const x of s) expect(Object.keys(x.labels)).to.not.include('job');
    m.close();
  });

  it('serves the text format with HELP and TYPE lines and the process metrics', async () => {
    const g = fakeGrid();
    const m = new CoordinatorMetrics(g.source, silentLogger);
    const text = await m.registry.metrics();
    expect(text).to.match(/^# TYPE brine_operations_total counter$/m);
    expect(text).to.match(/^# TYPE brine_operation_duration_seconds histogram$/m);
    expect(text).to.match(/^# HELP brine_jobs /m);
    expect(text).to.match(/^process_cpu_user_seconds_total /m);
    m.close();
  });
});
