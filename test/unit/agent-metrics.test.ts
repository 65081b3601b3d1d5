// The agent's metrics object (site-agent/metrics.ts): snapshots, restores and transfers as the
// agent code reports them, the scheduler's queue, and the size of a real store in a temp dir.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentMetrics } from '../../site-agent/metrics.js';
import type { SnapshotBackend } from '../../site-agent/service.js';
import { SnapshotStore } from '../../site-agent/snapshot-store/index.js';
import { storeStats } from '../../site-agent/store-stats.js';
import { TransferScheduler } from '../../site-agent/transfer/index.js';
import type { ClusterStatus, Snapshot } from '../../src/shared/proto.js';
import { silentLogger } from '../../src/shared/logger.js';
import { parsePromText, sampleValue, type Sample } from '../helpers/prom-text.js';

async function scrape(m: AgentMetrics): Promise<Sample[]> {
  return parsePromText(await m.registry.metrics());
}

describe('agent metrics', () => {
  it('times snapshots and restores and records their sizes, downtime and skew, labelled with the site', async () => {
    let now = 0;
    const m = new AgentMetrics('site-x', silentLogger, () => now, { processMetrics: false });
    const fake: SnapshotBackend = {
      take: async (input) => {
        now += 2500;
        if (input.snapshotId === 'bad') throw new Error('store full');
        return { id: input.snapshotId, kind: input.kind, totalBytes: 4096, newBytes: 1024, downtimeMs: 300, pauseSkewMs: 2 } as unknown as Snapshot;
      },
      restore: async () => {
        now += 4000;
        return {} as ClusterStatus;
      },
      prune: async () => [],
    };
    const b = m.instrumentSnapshots(fake);
    await b.take({ jobId: 'j1', snapshotId: 's1', kind: 'checkpoint' });
    await b.take({ jobId: 'j1', snapshotId: 's2', kind: 'suspend' });
    await b.take({ jobId: 'j1', snapshotId: 'bad', kind: 'checkpoint' }).then(
      () => expect.fail('should throw'),
      (err: Error) => expect(err.message).to.equal('store full'),
    );
    await b.restore({} as never, 's2');
    const s = await scrape(m);
    expect(sampleValue(s, 'brine_agent_snapshots_total', { kind: 'checkpoint', result: 'ok' })).to.equal(1);
    expect(sampleValue(s, 'brine_agent_snapshots_total', { kind: 'checkpoint', result: 'failed' })).to.equal(1);
    expect(sampleValue(s, 'brine_agent_snapshots_total', { kind: 'suspend', result: 'ok', site: 'site-x' })).to.equal(1);
    expect(sampleValue(s, 'brine_agent_snapshot_duration_seconds_sum', { kind: 'checkpoint' })).to.equal(2.5);
    expect(sampleValue(s, 'brine_agent_snapshot_bytes_total', { kind: 'suspend' })).to.equal(4096);
    expect(sampleValue(s, 'brine_agent_snapshot_new_bytes_total', { kind: 'checkpoint' })).to.equal(1024);
    expect(sampleValue(s, 'brine_agent_snapshot_downtime_seconds_sum', { kind: 'checkpoint' })).to.equal(0.3);
    expect(sampleValue(s, 'brine_agent_snapshot_pause_skew_seconds_sum', { kind: 'suspend' })).to.equal(0.002);
    expect(sampleValue(s, 'brine_agent_restores_total', { result: 'ok' })).to.equal(1);
    expect(sampleValue(s, 'brine_agent_restore_duration_seconds_sum', { result: 'ok' })).to.equal(4);
  });

  it('counts transfer bytes and throughput by direction and priority, and reads the queues at scrape time', async () => {
    const m = new AgentMetrics('site-x', silentLogger, () => 0, { processMetrics: false });
    const fetcher = new TransferScheduler(1);
    const source = new TransferScheduler(2);
    m.watchSchedulers({ fetcher, source });
    m.bytes('in', 'urgent', 1000);
    m.bytes('in', 'urgent', 3000);
    m.bytes('out', 'background', 500);
    m.ended('in', 'urgent', 'ok', 4000, 2);
    m.ended('out', 'background', 'cancelled', 500, 1);
    const held = await fetcher.acquire('background', 'a');
    const waiting = [fetcher.acquire('urgent', 'b'), fetcher.acquire('background', 'c'), fetcher.acquire('background', 'd')];
    let s = await scrape(m);
    expect(sampleValue(s, 'brine_agent_transfer_bytes_total', { direction: 'in', priority: 'urgent' })).to.equal(4000);
    expect(sampleValue(s, 'brine_agent_transfer_bytes_total', { direction: 'out', priority: 'background' })).to.equal(500);
    expect(sampleValue(s, 'brine_agent_transfer_bytes_total', { direction: 'in', priority: 'background' })).to.equal(0);
    expect(sampleValue(s, 'brine_agent_transfers_total', { direction: 'in', priority: 'urgent', result: 'ok' })).to.equal(1);
    expect(sampleValue(s, 'brine_agent_transfers_total', { direction: 'out', priority: 'background', result: 'cancelled' })).to.equal(1);
    expect(sampleValue(s, 'brine_agent_transfer_throughput_bytes_per_second_sum', { direction: 'in', priority: 'urgent' })).to.equal(2000);
    // cancelled: no rate observed
    expect(s.filter((x) => x.name === 'brine_agent_transfer_throughput_bytes_per_second_count' && x.labels.direction === 'out')).to.have.length(0);
    expect(sampleValue(s, 'brine_agent_transfer_queue_length', { direction: 'in', priority: 'urgent' })).to.equal(1);
    expect(sampleValue(s, 'brine_agent_transfer_queue_length', { direction: 'in', priority: 'background' })).to.equal(2);
    expect(sampleValue(s, 'brine_agent_transfers_active', { direction: 'in' })).to.equal(1);
    expect(sampleValue(s, 'brine_agent_transfers_active', { direction: 'out' })).to.equal(0);
    held.release();
    for (const w of waiting) (await w).release();
    s = await scrape(m);
    expect(sampleValue(s, 'brine_agent_transfer_queue_length', { direction: 'in', priority: 'background' })).to.equal(0);
  });

  it('measures a real store: snapshots, distinct chunks, their bytes and the bytes on disk; a snapshot taken invalidates the cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brine-metrics-'));
    try {
      const store = await SnapshotStore.open(dir);
      const m = new AgentMetrics('site-x', silentLogger, () => 0, { processMetrics: false });
      m.watchStore(() => storeStats(store));
      let s = await scrape(m);
      expect(sampleValue(s, 'brine_agent_store_snapshots')).to.equal(0);
      expect(sampleValue(s, 'brine_agent_store_chunks')).to.equal(0);
      const data = Buffer.alloc(300_000, 7);
      for (const id of ['s1', 's2']) {
        const w = await store.beginSnapshot(id, 'j1');
        await w.addFile('vm0/memory', data);
        await w.commit();
      }
      s = await scrape(m);
      expect(sampleValue(s, 'brine_agent_store_snapshots')).to.equal(0); // cached: nothing said the store changed
      m.storeChanged();
      s = await scrape(m);
      const manifest = await store.manifest('s1');
      const distinct = new Map(manifest.files.flatMap((f) => f.chunks.map((c) => [c.hash, c.size] as const)));
      expect(sampleValue(s, 'brine_agent_store_snapshots')).to.equal(2);
      expect(sampleValue(s, 'brine_agent_store_chunks')).to.equal(distinct.size); // the second snapshot added none
      expect(sampleValue(s, 'brine_agent_store_chunk_bytes')).to.equal([...distinct.values()].reduce((a, b) => a + b, 0));
      expect(sampleValue(s, 'brine_agent_store_disk_bytes')).to.be.greaterThan(0).and.lessThan(data.length); // compressed
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
