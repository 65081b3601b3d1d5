// The walking skeleton end to end: a real coordinator and real agents (libvirt test driver) as
// processes on loopback, driven through the real CLI.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { runCli } from '../helpers/cli.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import { type Job, type Site } from '../../src/shared/proto.js';
import { clientCredentials } from '../../src/shared/tls.js';
import { ADMIN_FILES, credentials, transportOf } from '../helpers/pki.js';


describe('grid: coordinator + agents + CLI as real processes', function () {
  this.timeout(90_000);
  let grid: TestGrid;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);
  const jobOf = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();

  beforeEach(async () => {
    grid = new TestGrid();
    await grid.startCoordinator();
    await grid.startAgent({ name: 'site-a' });
    await grid.startAgent({ name: 'site-b' });
  });

  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('lists both sites UP with their nodes and pools', async () => {
    const r = await cli('sites', '--json');
    expect(r.code, r.stderr).to.equal(0);
    const sites = r.json<Site[]>();
    expect(sites.map((s) => [s.name, s.state])).to.deep.equal([
      ['site-a', 'UP'],
      ['site-b', 'UP'],
    ]);
    expect(sites[0]?.nodes.map((n) => n.name)).to.deep.equal(['a1', 'a2']);
    expect(sites[0]?.subnetPool).to.equal('10.150.0.0/22');
  });

  it('submit → RUNNING on one site, spread over its nodes → cancel frees everything', async () => {
    const sub = await cli('submit', '--name', 'sim', '--vms', '3', '--cpus', '2', '--memory', '256', '--image', 'tiny', '--wait', '--json');
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    expect(job.state).to.equal('RUNNING');
    expect(job.site).to.be.oneOf(['site-a', 'site-b']);
    expect(job.vms).to.have.length(3);
    const letter = job.site.slice(-1);
    expect(new Set(job.vms.map((v) => v.node))).to.deep.equal(new Set([`${letter}1`, `${letter}2`]));
    expect(job.vms.every((v) => v.state === 'RUNNING')).to.equal(true);
    expect(job.history.map((h) => h.state)).to.deep.equal(['PENDING', 'DEPLOYING', 'RUNNING']);

    const port = grid.sitePorts.get(job.site) as number;
    const status = await agentStatus(port);
    expect(status.find((c) => c.jobId === job.id)?.vms).to.have.length(3);

    const ls = await cli('ls', '--json');
    expect(ls.json<Job[]>().map((j) => j.id)).to.include(job.id);

    const cancel = await cli('cancel', job.id, '--json');
    expect(cancel.code, cancel.stderr).to.equal(0);
    expect(cancel.json<Job>().state).to.equal('CANCELLED');
    await waitFor('the agent to destroy the cluster', async () => !(await agentStatus(port)).some((c) => c.jobId === job.id));
    const sites = (await cli('sites', '--json')).json<Site[]>();
    for (const n of sites.flatMap((s) => s.nodes)) expect(n.freeCpus).to.equal(n.cpus);
    expect((await cli('addresses', '--json')).json<unknown[]>()).to.deep.equal([]);

    const again = await cli('cancel', job.id);
    expect(again.code).to.equal(4);
    expect(again.stderr).to.match(/already CANCELLED/);
  });

  it('a job that fits nowhere stays PENDING with the reason, and is placed when room appears', async () => {
    const big = await cli('submit', '--name', 'big', '--vms', '3', '--cpus', '6', '--memory', '256', '--image', 'tiny', '--json');
    expect(big.code, big.stderr).to.equal(0);
    const filler = await cli('submit', '--name', 'filler', '--vms', '2', '--cpus', '8', '--memory', '256', '--image', 'tiny', '--site', 'site-a', '--wait', '--json');
    expect(filler.code, filler.stderr).to.equal(0);
    // big needs 3 nodes with 6 free cpus: two sites of two nodes each never hold it together
    const id = big.json<Job>().id;
    const pending = await waitFor('a pending reason', async () => {
      const j = await jobOf(id);
      return j.history.some((h) => /no site has room/.test(h.reason)) && j;
    });
    expect(pending.state).to.equal('PENDING');
    expect(pending.history.at(-1)?.reason).to.match(/no site has room: site-a has room for \d of 3 VMs/);

    await grid.startAgent({ name: 'site-c', nodes: [1, 2, 3].map((i) => ({ name: `c${i}`, cpus: 8, memoryMiB: 4096 })) });
    const placed = await waitFor('big to run on site-c', async () => {
      const j = await jobOf(id);
      return j.state === 'RUNNING' && j;
    });
    expect(placed.site).to.equal('site-c');

    // a job ending frees room too
    const second = await cli('submit', '--name', 'second', '--vms', '1', '--cpus', '8', '--memory', '256', '--image', 'tiny', '--site', 'site-a', '--json');
    const secondId = second.json<Job>().id;
    await waitFor('second to wait', async () => (await jobOf(secondId)).history.length > 1);
    expect((await jobOf(secondId)).state).to.equal('PENDING');
    expect((await cli('cancel', filler.json<Job>().id)).code).to.equal(0);
    await waitFor('second to run once filler is gone', async () => (await jobOf(secondId)).state === 'RUNNING');
  });

  it('bad input is refused with the field named, exit 2, and nothing is written', async () => {
    const before = (await cli('ls', '--json')).json<Job[]>().length;
    const cases: Array<[string[], RegExp]> = [
      [['--vms', '0'], /vms/],
      [['--cpus', '-2'], /cpus/],
      [['--memory', '0'], /memory/],
      [['--cpus', '64'], /cpus: 64 is more than any node has/],
      [['--memory', '999999'], /memory.*more than any node has/],
      [['--image', 'nope'], /image: unknown image nope/],
      [['--name', 'Bad_Name'], /name/],
      [['--site', 'site-z'], /site: unknown site site-z/],
    ];
    for (const [override, message] of cases) {
      const args: Record<string, string> = { '--name': 'ok', '--vms': '1', '--cpus': '1', '--memory': '128', '--image': 'tiny' };
      for (let i = 0; i < override.length; i += 2) args[override[i] as string] = override[i + 1] as string;
      const r = await cli('submit', ...Object.entries(args).flat());
      expect(r.code, `${override.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, override.join(' ')).to.match(message);
    }
    expect((await cli('submit', '--bogus')).code).to.equal(2);
    expect((await cli('ls', '--json')).json<Job[]>().length).to.equal(before);
    const missing = await cli('show', 'jnope');
    expect(missing.code).to.equal(3);
    expect(missing.stderr).to.match(/job jnope not found/);
    expect((await cli('cancel', 'jnope')).code).to.equal(3);
  });

  it('refuses a second live agent for a site name, and an overlapping pool, naming both sites', async () => {
    const dup = grid.spawn('dup', 'bin/brine-agent.js', ['--config', await writeConfig(grid, 'site-a', {})]);
    expect(await dup.exited).to.equal(1);
    expect(dup.log).to.match(/site site-a is already registered by a live agent/);

    const overlap = grid.spawn('overlap', 'bin/brine-agent.js', ['--config', await writeConfig(grid, 'site-x', { subnetPool: '10.150.2.0/24' })]);
    expect(await overlap.exited).to.equal(2);
    expect(overlap.log).to.match(/site-x.*site-a|site-a.*site-x/);
    expect((await cli('sites', '--json')).json<Site[]>().map((s) => s.name)).to.deep.equal(['site-a', 'site-b']);
  });

  it('a malformed site config stops the agent with exit 2 naming the key', async () => {
    const file = await writeConfig(grid, 'site-y', {});
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(file, readFileSync(file, 'utf8').replace('nodes:', 'nodez: 1\nnodes:'));
    const bad = grid.spawn('bad', 'bin/brine-agent.js', ['--config', file]);
    expect(await bad.exited).to.equal(2);
    expect(bad.log).to.match(/nodez/);
  });

  it('an agent started before its coordinator keeps retrying and registers once it is up', async () => {
    await grid.kill('coordinator', 'SIGKILL');
    await grid.startAgent({ name: 'site-d' }, { waitRegistered: false });
    await new Promise((r) => setTimeout(r, 1500));
    expect(grid.procs.get('site-d')?.child.exitCode).to.equal(null);
    await grid.startCoordinator();
    await waitFor('site-d UP', async () => (await cli('sites', '--json')).json<Site[]>().find((s) => s.name === 'site-d')?.state === 'UP');
  });

  it('an agent restart keeps the job RUNNING with exactly its VMs, never duplicates', async () => {
    const sub = await cli('submit', '--name', 'keep', '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--wait', '--json');
    const job = sub.json<Job>();
    expect(job.state).to.equal('RUNNING');
    await grid.kill('site-a', 'SIGKILL');
    await grid.startAgent({ name: 'site-a' });
    const port = grid.sitePorts.get('site-a') as number;
    const status = await waitFor('the cluster back on site-a', async () => {
      const s = (await agentStatus(port)).find((c) => c.jobId === job.id);
      return s && s.vms.length === 2 && s.vms.every((v) => v.state === 'RUNNING') && s;
    });
    expect(status.vms.map((v) => v.name).sort()).to.deep.equal(['keep-0', 'keep-1']);
    await waitFor('the job RUNNING again', async () => (await jobOf(job.id)).state === 'RUNNING');
    // a few heartbeats later, still exactly two
    await new Promise((r) => setTimeout(r, 1500));
    expect((await agentStatus(port)).find((c) => c.jobId === job.id)?.vms).to.have.length(2);
    expect((await agentStatus(port)).filter((c) => c.jobId === job.id)).to.have.length(1);
  });

  it('a coordinator kill -9 + restart keeps the job in the same state, still cancellable', async () => {
    const sub = await cli('submit', '--name', 'durable', '--vms', '3', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--wait', '--json');
    const job = sub.json<Job>();
    expect(job.state).to.equal('RUNNING');
    await grid.kill('coordinator', 'SIGKILL');
    await grid.startCoordinator();
    const shown = await cli('show', job.id, '--json');
    expect(shown.code, shown.stdout + shown.stderr).to.equal(0);
    const after = shown.json<Job>();
    expect(after.state).to.equal('RUNNING');
    expect(after.site).to.equal(job.site);
    expect(after.vms.map((v) => [v.name, v.mac, v.ip])).to.deep.equal(job.vms.map((v) => [v.name, v.mac, v.ip]));
    await waitFor('both sites UP again', async () => (await cli('sites', '--json')).json<Site[]>().every((s) => s.state === 'UP'));
    const cancel = await cli('cancel', job.id, '--json');
    expect(cancel.code, cancel.stderr).to.equal(0);
    const port = grid.sitePorts.get(job.site) as number;
    await waitFor('the cluster destroyed', async () => !(await agentStatus(port)).some((c) => c.jobId === job.id));
  });

  it('every submit acknowledged before a kill -9 is there after the restart', async () => {
    // eight submits at once, the coordinator killed the moment the last answer arrives
    const subs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => cli('submit', '--name', `acked-${i}`, '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--json')),
    );
    await grid.kill('coordinator', 'SIGKILL');
    const ids = subs.map((r) => {
      expect(r.code, r.stderr).to.equal(0);
      return r.json<Job>().id;
    });
    await grid.startCoordinator();
    const listed = (await cli('ls', '--json')).json<Job[]>().map((j) => j.id);
    expect(listed).to.include.members(ids);
  });

  it('both servers answer the standard gRPC health check', async () => {
    const Health = healthClient();
    for (const address of [grid.coordinator, `127.0.0.1:${grid.sitePorts.get('site-a') as number}`]) {
      // any holder of a grid certificate may ask whether a server is up
      const client = new Health(address, clientCredentials(transportOf(ADMIN_FILES), { roles: ['coordinator', 'site'] }));
      const status = await new Promise<string>((resolve, reject) =>
        client.check({ service: '' }, { deadline: Date.now() + 5000 }, (err, res) => (err || !res ? reject(err) : resolve(String(res.status)))),
      );
      client.close();
      expect(status, address).to.equal('SERVING');
    }
  });
});

interface HealthCheckClient extends grpc.Client {
  check(req: { service: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: unknown }) => void): void;
}

/** A client of grpc.health.v1.Health, from the .proto that grpc-health-check ships. */
function healthClient(): new (address: string, creds: grpc.ChannelCredentials) => HealthCheckClient {
  const require = createRequire(import.meta.url);
  const protoPath = join(require.resolve('grpc-health-check/package.json'), '..', 'proto', 'health', 'v1', 'health.proto');
  const pkg = grpc.loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: grpc.ChannelCredentials) => HealthCheckClient } } };
  };
  return pkg.grpc.health.v1.Health;
}

describe('grid: a coordinator whose sites have not registered yet', function () {
  this.timeout(60_000);
  let grid: TestGrid;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);

  beforeEach(async () => {
    grid = new TestGrid();
    await grid.startCoordinator();
  });
  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('queues a job as PENDING (no site is registered) and places it once a site joins; bad numbers are still refused', async () => {
    expect((await cli('submit', '--name', 'zero', '--vms', '0', '--cpus', '1', '--memory', '64', '--image', 'tiny')).code).to.equal(2);
    const r = await cli('submit', '--name', 'early', '--vms', '2', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--json');
    expect(r.code, r.stderr).to.equal(0);
    const id = r.json<Job>().id;
    const waiting = await waitFor('a pending reason', async () => {
      const j = (await cli('show', id, '--json')).json<Job>();
      return j.history.some((h) => h.reason === 'no site is registered') && j;
    });
    expect(waiting.state).to.equal('PENDING');
    await grid.startAgent({ name: 'site-a' });
    await waitFor('the job to run on the site that joined', async () => {
      const j = (await cli('show', id, '--json')).json<Job>();
      return j.state === 'RUNNING' && j.site === 'site-a';
    });
    // now that a site is known, what it cannot take is refused at once again
    const bad = await cli('submit', '--name', 'nope', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'nothing');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/image.*unknown image nothing/);
  });
});

async function writeConfig(grid: TestGrid, name: string, opts: { subnetPool?: string }): Promise<string> {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { freePort } = await import('../helpers/grid.js');
  const port = await freePort();
  await credentials('site', name);
  const file = join(grid.dir, `${name}-${port}.yaml`);
  const text = grid
    .siteConfig({ name, ...(opts.subnetPool ? { subnetPool: opts.subnetPool } : {}), macRange: `02:b1:7${port % 10}:00:00:00/32` }, port)
    .replace(`dataDir: ${join(grid.dir, name)}`, `dataDir: ${join(grid.dir, `${name}-${port}`)}`);
  writeFileSync(file, text);
  return file;
}
