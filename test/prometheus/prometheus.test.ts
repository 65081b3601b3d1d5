// The real-Prometheus tier (issue 14, scripts/test-prometheus.sh): Debian's Prometheus scrapes a
// grid on loopback (coordinator + two agents on libvirt's test driver); through its HTTP query API
// every target is up, and a checkpoint and a move show up with the values the CLI reports.
import { expect } from 'chai';
import { runCli } from '../helpers/cli.js';
import { freePort, TestGrid, waitFor } from '../helpers/grid.js';
import { TestPrometheus } from '../helpers/prometheus.js';
import type { Job, Snapshot } from '../../src/shared/proto.js';

describe('a real Prometheus scraping a grid', function () {
  this.timeout(180_000);
  let grid: TestGrid;
  let prom: TestPrometheus;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 60_000 });
  /** waits until the query gives `want` (Prometheus scrapes every second) */
  const settles = (promql: string, want: number) =>
    waitFor(`${promql} == ${want}`, async () => ((await prom.value(promql)) === want ? true : undefined), 30_000, 500).catch(async (err: Error) => {
      throw new Error(`${err.message} (last: ${String(await prom.value(promql))})`);
    });

  before(async () => {
    grid = new TestGrid();
    prom = new TestPrometheus();
    const ports = { coordinator: await freePort(), 'site-a': await freePort(), 'site-b': await freePort() };
    await grid.startCoordinator({ heartbeatTimeout: '10s', extra: `metrics: { listen: "127.0.0.1:${ports.coordinator}" }\n` });
    for (const site of ['site-a', 'site-b'] as const) await grid.startAgent({ name: site, extra: `metrics: { listen: "127.0.0.1:${ports[site]}" }` });
    await prom.start([
      { name: 'brine-coordinator', targets: [`127.0.0.1:${ports.coordinator}`] },
      { name: 'brine-agent', targets: [`127.0.0.1:${ports['site-a']}`, `127.0.0.1:${ports['site-b']}`] },
    ]);
  });
  after(async function () {
    const failed = this.currentTest?.state === 'failed';
    if (failed) process.stderr.write(`\n----- prometheus log -----\n${prom.log.slice(-4000)}\n`);
    await prom?.close();
    await grid?.close(failed);
  });

  it('sees every target up', async () => {
    await waitFor('three healthy targets', async () => {
      const t = await prom.targets();
      return t.length === 3 && t.every((x) => x.health === 'up') ? t : undefined;
    }, 30_000, 500);
    const up = await prom.query('up');
    expect(up.map((s) => `${s.metric.job}=${s.value[1]}`).sort()).to.deep.equal(['brine-agent=1', 'brine-agent=1', 'brine-coordinator=1']);
    expect((await prom.query('brine_site_up == 1')).map((s) => s.metric.site).sort()).to.deep.equal(['site-a', 'site-b']);
  });

  it('shows a checkpoint and a move with the right values', async () => {
    const sub = await cli('submit', '--name', 'scraped', '--vms', '2', '--cpus', '2', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--wait', '--json');
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    await settles('brine_job_vms{site="site-a",state="RUNNING"}', 2);
    const snap = await cli('snapshot', job.id, '--json');
    expect(snap.code, snap.stderr).to.equal(0);
    const checkpoint = snap.json<Snapshot>();
    await settles('brine_operations_total{kind="checkpoint",result="ok"}', 1);
    await settles('brine_snapshot_bytes_total{kind="checkpoint"}', checkpoint.totalBytes);
    await settles('brine_snapshot_downtime_seconds_sum{kind="checkpoint"}', checkpoint.downtimeMs / 1000);
    await settles('brine_agent_snapshots_total{site="site-a",kind="checkpoint",result="ok"}', 1);

    const mig = await cli('migrate', job.id, '--to', 'site-b', '--json');
    expect(mig.code, mig.stderr).to.equal(0);
    const suspend = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>().find((s) => s.kind === 'suspend') as Snapshot;
    expect(suspend).to.not.equal(undefined);
    await settles('brine_operations_total{kind="move",result="ok"}', 1);
    await settles('brine_operations_total{kind="move",result="failed"}', 0);
    await settles('brine_operation_duration_seconds_count{kind="move",result="ok"}', 1);
    await settles('brine_job_vms{site="site-b",state="RUNNING"}', 2);
    await settles('sum(brine_job_vms{site="site-a"}) or vector(0)', 0);
    await settles('brine_snapshot_bytes_total{kind="suspend"}', suspend.totalBytes);
    await settles('brine_agent_restores_total{site="site-b",result="ok"}', 1);
    await settles('sum(brine_leases{site="site-a"}) or vector(0)', 0);
    await settles('brine_leases{site="site-b",state="active"}', 2);
    // the bytes site-b fetched are the bytes site-a served, and the move's were urgent. Both sides
    // are read together each time: the pre-copy and the final snapshot are separate transfers, so
    // site-a's counter may still grow after its first non-zero scrape.
    const counts = async () => ({
      out: await prom.value('sum(brine_agent_transfer_bytes_total{site="site-a",direction="out"})'),
      in: await prom.value('sum(brine_agent_transfer_bytes_total{site="site-b",direction="in"})'),
    });
    let last = { out: undefined as number | undefined, in: undefined as number | undefined };
    await waitFor('site-b to have received what site-a sent', async () => {
      last = await counts();
      return last.out !== undefined && last.out > 0 && last.in === last.out ? true : undefined;
    }, 30_000, 500).catch((err: Error) => {
      throw new Error(`${err.message} (last: out ${last.out}, in ${last.in})`);
    });
    expect(await prom.value('brine_agent_transfer_bytes_total{site="site-b",direction="in",priority="urgent"}')).to.be.greaterThan(0);
    await settles('sum(brine_agent_transfer_queue_length)', 0);
    await settles('grpc_server_handled_total{job="brine-coordinator",grpc_method="MigrateJob",grpc_code="OK"}', 1);
  });
});
