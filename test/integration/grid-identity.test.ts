// Issue 11.4: the coordinator's state is never lost silently, and a coordinator that does not know
// a grid's clusters cannot destroy them. A grid with a running job; the coordinator stopped; its
// state file replaced with `null` → it refuses to start, naming the file; its state removed → it
// refuses without --init; with --init a new grid begins, which the agent refuses, keeping its
// cluster running (and reporting it). Real coordinator, agent (test driver) and CLI.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { TestGrid, waitFor } from '../helpers/grid.js';
import { COORDINATOR_FILES, transportOf } from '../helpers/pki.js';
import { AgentService, CLIENT_OPTIONS, type Job } from '../../src/shared/proto.js';
import { clientCredentials, TLS_CLIENT_OPTIONS } from '../../src/shared/tls.js';
import { EPOCH_KEY, GRID_ID_KEY } from '../../src/shared/grid.js';
import type { GetStatusResponse__Output } from '../../src/gen/brine/v1/GetStatusResponse.js';

describe('grid identity: a lost coordinator state never wipes the grid', function () {
  this.timeout(180_000);
  let grid: TestGrid;
  beforeEach(() => (grid = new TestGrid()));
  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);
  const dataDir = (): string => join(grid.dir, 'coordinator');
  const agentPort = (): number => grid.sitePorts.get('site-a') as number;
  const agent = () => new AgentService(`127.0.0.1:${agentPort()}`, clientCredentials(transportOf(COORDINATOR_FILES), { roles: ['site'] }), { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS });
  const status = async (): Promise<GetStatusResponse__Output> => {
    const a = agent();
    try {
      return await new Promise((resolve, reject) => a.GetStatus({ includeNetworkXml: false }, { deadline: Date.now() + 5000 }, (err, res) => (err || !res ? reject(err) : resolve(res))));
    } finally {
      a.close();
    }
  };
  /** starts the coordinator on its config with `args`; resolves with its exit code and log if it exits */
  const startRaw = async (args: string[]): Promise<{ code: number | null; log: string } | 'listening'> => {
    const proc = grid.spawn('coordinator', 'bin/brine-coordinator.js', ['--config', join(grid.dir, 'coordinator.yaml'), ...args]);
    const outcome = await waitFor('the coordinator to listen or exit', () => (proc.log.includes('listening') ? 'listening' : proc.child.exitCode !== null ? 'exited' : undefined), 20_000, 50);
    if (outcome === 'listening') return 'listening';
    const code = await proc.exited;
    grid.procs.delete('coordinator');
    return { code, log: proc.log };
  };

  it('refuses a null state and a lost state; a new grid (--init) cannot destroy the old grid\'s cluster', async () => {
    await grid.startCoordinator({ heartbeatTimeout: '2s' });
    await grid.startAgent({ name: 'site-a' });
    const r = await cli('submit', '--name', 'keeper', '--vms', '2', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--wait', '--json');
    expect(r.code, r.stderr).to.equal(0);
    const job = r.json<Job>();
    expect(job.state).to.equal('RUNNING');
    const oldGrid = readFileSync(join(dataDir(), 'grid-id'), 'utf8').trim();
    await waitFor('the agent to remember its grid', async () => (await status()).gridId === oldGrid);

    // the state file holds null: the coordinator refuses to start and names the file
    await grid.kill('coordinator', 'SIGTERM');
    writeFileSync(join(dataDir(), 'state.json'), 'null');
    const refused = await startRaw([]);
    expect(refused).to.not.equal('listening');
    if (refused === 'listening') return;
    expect(refused.code).to.not.equal(0);
    expect(refused.log).to.include(join(dataDir(), 'state.json')).and.include('not a valid coordinator state');

    // the state gone, the data dir's marker left: refused without --init
    for (const f of readdirSync(dataDir())) if (f !== 'grid-id') rmSync(join(dataDir(), f), { force: true });
    const lost = await startRaw([]);
    expect(lost).to.not.equal('listening');
    if (lost === 'listening') return;
    expect(lost.code).to.not.equal(0);
    expect(lost.log).to.include(`held the state of grid ${oldGrid}`).and.include('--init');

    // meanwhile the cluster runs on, past the heartbeat timeout
    await new Promise((res) => setTimeout(res, 3000));
    const during = (await status()).clusters.find((c) => c.jobId === job.id);
    expect(during?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING']);

    // --init: a new grid, which the agent refuses; its cluster is kept, not fenced
    expect(await startRaw(['--init'])).to.equal('listening');
    const newGrid = readFileSync(join(dataDir(), 'grid-id'), 'utf8').trim();
    expect(newGrid).to.not.equal(oldGrid);
    await waitFor('the agent to refuse the new grid', () => (grid.procs.get('site-a')?.log ?? '').includes("not this agent's grid: keeping every cluster"), 20_000);
    await new Promise((res) => setTimeout(res, 3000));
    const after = await status();
    expect(after.gridId).to.equal(oldGrid);
    expect(after.clusters.find((c) => c.jobId === job.id)?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING']);
    const sites = await cli('sites', '--json');
    expect(sites.json<unknown[]>()).to.deep.equal([]);

    // a destructive call from a coordinator of another grid, or naming none, is refused
    const a = agent();
    try {
      for (const md of [{ [GRID_ID_KEY]: newGrid, [EPOCH_KEY]: '1' }, {}]) {
        const metadata = new grpc.Metadata();
        for (const [k, v] of Object.entries(md)) metadata.set(k, v);
        const err = await new Promise<grpc.ServiceError | null>((resolve) => a.DestroyCluster({ jobId: job.id, operationId: 'other-grid' }, metadata, { deadline: Date.now() + 5000 }, (e) => resolve(e)));
        expect(err?.code, JSON.stringify(md)).to.equal(grpc.status.FAILED_PRECONDITION);
        expect(err?.details).to.include(`belongs to grid ${oldGrid}`);
      }
    } finally {
      a.close();
    }
    expect((await status()).clusters.find((c) => c.jobId === job.id)?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING']);
  });
});
