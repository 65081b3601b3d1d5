// `/metrics` of a real grid (issue 14): a coordinator and two agents with `metrics.listen`, a job
// checkpointed and moved through the CLI, and what each program's endpoint says about it.
import { expect } from 'chai';
import { runCli } from '../helpers/cli.js';
import { freePort, TestGrid, waitFor } from '../helpers/grid.js';
import { parsePromText, sampleSum, sampleValue, type Sample } from '../helpers/prom-text.js';
import type { Job, Snapshot } from '../../src/shared/proto.js';

async function scrape(port: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  return parsePromText(await res.text());
}

describe('metrics endpoints of a grid (test driver)', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  const ports = { coordinator: 0, 'site-a': 0, 'site-b': 0 };
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 60_000 });

  before(async () => {
    grid = new TestGrid();
    for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freePort();
    await grid.startCoordinator({ heartbeatTimeout: '10s', extra: `metrics: { listen: "127.0.0.1:${ports.coordinator}" }\n` });
    for (const site of ['site-a', 'site-b'] as const) await grid.startAgent({ name: site, extra: `metrics: { listen: "127.0.0.1:${ports[site]}" }` });
  });
  after(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('answers only GET /metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${ports.coordinator}/`)).status).to.equal(404);
    expect((await fetch(`http://127.0.0.1:${ports['site-a']}/metrics`, { method: 'POST' })).status).to.equal(405);
  });

  it('shows a checkpoint and a move with the right values on the coordinator and both agents', async () => {
    const sub = await cli('submit', '--name', 'metered', '--vms', '2', '--cpus', '2', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--wait', '--json');
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    expect((await cli('show', 'jnosuchjob')).code).to.equal(3);
    const snap = await cli('snapshot', job.id, '--json');
    expect(snap.code, snap.stderr).to.equal(0);
    const checkpoint = snap.json<Snapshot>();
    const mig = await cli('migrate', job.id, '--to', 'site-b', '--json');
    expect(mig.code, mig.stderr).to.equal(0);
    expect(mig.json<Job>().site).to.equal('site-b');
    const snaps = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>();
    const suspend = snaps.find((s) => s.kind === 'suspend') as Snapshot;
    expect(suspend, JSON.stringify(snaps)).to.not.equal(undefined);

    const c = await waitFor('the origin leases to be freed', async () => {
      const s = await scrape(ports.coordinator);
      return sampleSum(s, 'brine_leases', { site: 'site-a' }) === 0 ? s : undefined;
    });
    expect(sampleValue(c, 'brine_jobs_submitted_total')).to.equal(1);
    expect(sampleValue(c, 'brine_jobs', { state: 'RUNNING' })).to.equal(1);
    expect(sampleValue(c, 'brine_job_vms', { site: 'site-b', state: 'RUNNING' })).to.equal(2);
    expect(sampleValue(c, 'brine_leases', { site: 'site-b', state: 'active' })).to.equal(2);
    expect(sampleValue(c, 'brine_operations_total', { kind: 'deploy', result: 'ok' })).to.equal(1);
    expect(sampleValue(c, 'brine_operations_total', { kind: 'checkpoint', result: 'ok' })).to.equal(1);
    expect(sampleValue(c, 'brine_operations_total', { kind: 'move', result: 'ok' })).to.equal(1);
    expect(sampleValue(c, 'brine_operation_duration_seconds_count', { kind: 'move', result: 'ok' })).to.equal(1);
    expect(sampleValue(c, 'brine_snapshots_total', { kind: 'suspend' })).to.equal(1);
    expect(sampleValue(c, 'brine_snapshot_bytes_total', { kind: 'suspend' })).to.equal(suspend.totalBytes);
    expect(sampleValue(c, 'brine_snapshot_downtime_seconds_sum', { kind: 'suspend' })).to.be.closeTo(suspend.downtimeMs / 1000, 1e-9);
    // the checkpoint asked for, and a pre-copy unless its replica at site-b made one needless
    const checkpoints = snaps.filter((s) => s.kind === 'checkpoint');
    expect(checkpoints.map((s) => s.id)).to.include(checkpoint.id);
    expect(sampleValue(c, 'brine_snapshots_total', { kind: 'checkpoint' })).to.equal(checkpoints.length);
    expect(sampleValue(c, 'brine_snapshot_bytes_total', { kind: 'checkpoint' })).to.equal(checkpoints.reduce((a, s) => a + s.totalBytes, 0));
    expect(sampleValue(c, 'brine_site_up', { site: 'site-a' })).to.equal(1);
    expect(sampleValue(c, 'brine_site_free_cpus', { site: 'site-b' })).to.equal(2 * 8 - 2 * 2);
    expect(sampleValue(c, 'brine_site_heartbeat_age_seconds', { site: 'site-b' })).to.be.lessThan(10);
    expect(sampleValue(c, 'grpc_server_handled_total', { grpc_service: 'brine.v1.JobService', grpc_method: 'SubmitJob', grpc_code: 'OK' })).to.equal(1);
    expect(sampleValue(c, 'grpc_server_handled_total', { grpc_service: 'brine.v1.JobService', grpc_method: 'GetJob', grpc_code: 'NOT_FOUND' })).to.equal(1);
    expect(sampleSum(c, 'grpc_server_handled_total', { grpc_method: 'Heartbeat', grpc_code: 'OK' })).to.be.greaterThan(0);

    const a = await scrape(ports['site-a']);
    const b = await scrape(ports['site-b']);
    expect(sampleValue(a, 'brine_agent_snapshots_total', { kind: 'suspend', result: 'ok', site: 'site-a' })).to.equal(1);
    expect(sampleValue(a, 'brine_agent_snapshots_total', { kind: 'checkpoint', result: 'ok' })).to.equal(checkpoints.length);
    expect(sampleValue(a, 'brine_agent_snapshot_bytes_total', { kind: 'suspend' })).to.equal(suspend.totalBytes);
    expect(sampleValue(b, 'brine_agent_restores_total', { result: 'ok', site: 'site-b' })).to.equal(1);
    // what site-b received is what site-a sent; the move's transfers are urgent
    const sentA = sampleSum(a, 'brine_agent_transfer_bytes_total', { direction: 'out' });
    expect(sentA).to.be.greaterThan(0);
    expect(sampleSum(b, 'brine_agent_transfer_bytes_total', { direction: 'in' })).to.equal(sentA);
    expect(sampleValue(b, 'brine_agent_transfer_bytes_total', { direction: 'in', priority: 'urgent' })).to.be.greaterThan(0);
    expect(sampleSum(b, 'brine_agent_transfers_total', { direction: 'in', priority: 'urgent', result: 'ok' })).to.be.greaterThan(0);
    expect(sampleSum(b, 'brine_agent_transfer_queue_length')).to.equal(0);
    expect(sampleValue(b, 'brine_agent_store_snapshots')).to.be.greaterThan(0);
    expect(sampleValue(b, 'brine_agent_store_chunks')).to.be.greaterThan(0);
    expect(sampleValue(a, 'grpc_server_handled_total', { grpc_service: 'brine.v1.AgentService', grpc_method: 'TakeSnapshot', grpc_code: 'OK' })).to.equal(checkpoints.length + 1);
    expect(sampleSum(a, 'grpc_server_handled_total', { grpc_method: 'ReadChunks', grpc_code: 'OK' })).to.be.greaterThan(0);
  });
});
