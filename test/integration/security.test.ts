// Issue 11's attacks replayed against a real grid (coordinator + two agents on loopback, mutual
// TLS with the tests' CA): each gets its refusal, and nothing changes (jobs, sites, the agents'
// clusters compared before and after).
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { initCa, issue, type CaFiles } from '../../src/shared/ca.js';
import { AgentService, CLIENT_OPTIONS, JobService, RegistryService, type Job, type Site } from '../../src/shared/proto.js';
import { clientCredentials, loadTls, TLS_CLIENT_OPTIONS, type Role, type Transport } from '../../src/shared/tls.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import { ADMIN_FILES, CA_CERT, cliEnv, COORDINATOR_FILES, credentials, transportOf } from '../helpers/pki.js';
import { TicketSigner, TICKET_TTL_MS } from '../../src/shared/ticket.js';
import { readFileSync } from 'node:fs';

type Outcome = { code: grpc.status | 0; details: string };

/** Runs one raw unary call; resolves with its status code (0 = OK). */
function outcome(invoke: (cb: (err: grpc.ServiceError | null) => void) => void): Promise<Outcome> {
  return new Promise((resolve) => invoke((err) => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' })));
}

/** A raw server-streaming call's final status. */
function streamOutcome(stream: grpc.ClientReadableStream<unknown>): Promise<Outcome> {
  return new Promise((resolve) => {
    stream.on('data', () => {});
    stream.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details }));
    stream.on('end', () => resolve({ code: 0, details: '' }));
  });
}

const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + 5_000 });
const opts = { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS };
const as = (t: Transport, roles: Role[]): grpc.ChannelCredentials => clientCredentials(t, { roles });

describe('security: mutual TLS, identities and authorization (issue 11)', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  let job: Job;
  let alice: CaFiles;
  let bob: CaFiles;
  let siteB: CaFiles;
  const clients: grpc.Client[] = [];
  const track = <C extends grpc.Client>(c: C): C => {
    clients.push(c);
    return c;
  };
  const cli = (files: CaFiles, args: string[]): Promise<CliResult> => runCli(['--coordinator', grid.coordinator, ...args], { env: cliEnv(files) });
  const jobsAsAdmin = async (): Promise<Job[]> => (await cli(ADMIN_FILES, ['ls', '--json'])).json<Job[]>();
  const sitesAsAdmin = async (): Promise<Site[]> => (await cli(ADMIN_FILES, ['sites', '--json'])).json<Site[]>();
  const agentPort = (site: string): number => grid.sitePorts.get(site) as number;
  /** what must not change: the jobs, the sites' names, what runs at each agent */
  const snapshot = async (): Promise<string> =>
    JSON.stringify({
      jobs: (await jobsAsAdmin()).map((j) => [j.id, j.owner, j.state, j.site]),
      sites: (await sitesAsAdmin()).map((s) => [s.name, s.state, s.subnetPool]),
      a: (await agentStatus(agentPort('site-a'))).map((c) => [c.jobId, c.vms.map((v) => v.state)]),
      b: (await agentStatus(agentPort('site-b'))).map((c) => [c.jobId, c.vms.map((v) => v.state)]),
    });

  before(async () => {
    alice = await credentials('user', 'alice');
    bob = await credentials('user', 'bob');
    siteB = await credentials('site', 'site-b');
    grid = new TestGrid();
    await grid.startCoordinator({ extra: 'limits:\n  perUser:\n    runningVms: 4\n    pendingJobs: 2\n' });
    await grid.startAgent({ name: 'site-a' });
    await grid.startAgent({ name: 'site-b' });
    const r = await cli(alice, ['submit', '--name', 'secret', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--wait', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    job = r.json<Job>();
    expect(job.owner).to.equal('alice');
    expect(job.state).to.equal('RUNNING');
  });
  after(async function () {
    for (const c of clients) c.close();
    await grid?.close(this.currentTest?.state === 'failed');
  });

  it('a client without a certificate, or plaintext, gets no answer from the coordinator or an agent', async () => {
    const before = await snapshot();
    const noCert = grpc.credentials.createSsl(await import('node:fs').then((fs) => fs.readFileSync(CA_CERT)));
    for (const creds of [noCert, grpc.credentials.createInsecure()]) {
      const jobs = track(new JobService(grid.coordinator, creds, opts));
      const r = await outcome((cb) => jobs.CancelJob({ id: job.id }, deadline(), cb));
      expect(r.code, r.details).to.equal(grpc.status.UNAVAILABLE);
      const agent = track(new AgentService(`127.0.0.1:${agentPort('site-a')}`, creds, opts));
      const d = await outcome((cb) => agent.DestroyCluster({ jobId: job.id, operationId: 'x' }, deadline(), cb));
      expect(d.code, d.details).to.equal(grpc.status.UNAVAILABLE);
    }
    expect(await snapshot()).to.equal(before);
  });

  it('a certificate from another CA, or an expired one, is refused at the handshake', async () => {
    const rogueDir = mkdtempSync(join(tmpdir(), 'brine-rogue-'));
    try {
      await initCa(rogueDir);
      const rogue = await issue(rogueDir, 'admin', 'mallory');
      // trusts the real CA (so the coordinator's certificate checks out) but presents a rogue one
      const rogueTransport: Transport = { kind: 'tls', tls: { ...loadTls({ ca: CA_CERT, cert: rogue.cert, key: rogue.key }) } };
      const expired = await credentials('admin', 'late', { days: 1, now: new Date(Date.now() - 3 * 86_400_000) });
      const before = await snapshot();
      for (const t of [rogueTransport, transportOf(expired)]) {
        const jobs = track(new JobService(grid.coordinator, as(t, ['coordinator']), opts));
        const r = await outcome((cb) => jobs.CancelJob({ id: job.id }, deadline(), cb));
        expect(r.code, r.details).to.equal(grpc.status.UNAVAILABLE);
      }
      const viaCli = await cli(expired, ['ls']);
      expect(viaCli.code, viaCli.stderr).to.equal(5);
      expect(await snapshot()).to.equal(before);
    } finally {
      rmSync(rogueDir, { recursive: true, force: true });
    }
  });

  it("a user or another site cannot call an agent's control API, nor read its snapshot chunks", async () => {
    const before = await snapshot();
    for (const files of [alice, ADMIN_FILES, siteB]) {
      const agent = track(new AgentService(`127.0.0.1:${agentPort('site-a')}`, as(transportOf(files), ['site']), opts));
      const destroy = await outcome((cb) => agent.DestroyCluster({ jobId: job.id, operationId: 'attack' }, deadline(), cb));
      expect(destroy.code, destroy.details).to.equal(grpc.status.PERMISSION_DENIED);
      const prune = await outcome((cb) => agent.PruneSnapshots({ jobId: job.id, keep: 0 }, deadline(), cb));
      expect(prune.code, prune.details).to.equal(grpc.status.PERMISSION_DENIED);
      const status = await outcome((cb) => agent.GetStatus({ includeNetworkXml: true }, deadline(), cb));
      expect(status.code, status.details).to.equal(grpc.status.PERMISSION_DENIED);
      const fetch = await streamOutcome(agent.FetchSnapshot({ operationId: 'x', snapshotId: 's', jobId: job.id, source: '127.0.0.1:9', urgent: true }, deadline()));
      expect(fetch.code, fetch.details).to.equal(grpc.status.PERMISSION_DENIED);
    }
    for (const files of [alice, ADMIN_FILES]) {
      const agent = track(new AgentService(`127.0.0.1:${agentPort('site-a')}`, as(transportOf(files), ['site']), opts));
      const manifest = await outcome((cb) => agent.GetManifest({ snapshotId: 'any' }, deadline(), cb));
      expect(manifest.code, manifest.details).to.equal(grpc.status.PERMISSION_DENIED);
      const chunks = await streamOutcome(agent.ReadChunks({ snapshotId: 'any', hashes: [] }, deadline()));
      expect(chunks.code, chunks.details).to.equal(grpc.status.PERMISSION_DENIED);
    }
    expect(await snapshot()).to.equal(before);
  });

  it("snapshot bytes go only to the site named in the coordinator's unexpired ticket for that snapshot", async () => {
    const taken = await cli(alice, ['snapshot', job.id, '--json']);
    expect(taken.code, taken.stderr).to.equal(0);
    const snap = taken.json<{ id: string }>().id;
    const coordinator = new TicketSigner(readFileSync(COORDINATOR_FILES.key), readFileSync(COORDINATOR_FILES.cert));
    const forged = new TicketSigner(readFileSync(siteB.key), readFileSync(siteB.cert));
    const agent = track(new AgentService(`127.0.0.1:${agentPort('site-a')}`, as(transportOf(siteB), ['site']), opts));
    const manifest = (ticket: string, id = snap) => outcome((cb) => agent.GetManifest({ snapshotId: id, ticket }, deadline(), cb));
    const refusals: Array<[string, string, RegExp]> = [
      ['no ticket', '', /no ticket/],
      ['another destination', coordinator.sign(snap, 'site-c'), /the ticket is for site site-c/],
      ['another snapshot', coordinator.sign('s-other', 'site-b'), /the ticket is for snapshot s-other/],
      ['expired', coordinator.sign(snap, 'site-b', Date.now() - TICKET_TTL_MS - 1000), /expired/],
      ['signed by a site, not the coordinator', forged.sign(snap, 'site-b'), /not signed by the grid coordinator/],
      ['tampered', coordinator.sign('s-other', 'site-b').replace(/^[^.]+/, Buffer.from(JSON.stringify({ snapshot: snap, destination: 'site-b', expires: Date.now() + 60_000 })).toString('base64url')), /bad ticket signature/],
    ];
    for (const [what, ticket, message] of refusals) {
      const r = await manifest(ticket);
      expect(r.code, `${what}: ${r.details}`).to.equal(grpc.status.PERMISSION_DENIED);
      expect(r.details, what).to.match(message);
      const chunks = await streamOutcome(agent.ReadChunks({ snapshotId: snap, hashes: [], ticket }, deadline()));
      expect(chunks.code, `ReadChunks, ${what}: ${chunks.details}`).to.equal(grpc.status.PERMISSION_DENIED);
    }
    const ok = await manifest(coordinator.sign(snap, 'site-b'));
    expect(ok.code, ok.details).to.equal(0);
  });

  it("a site registers only under its certificate's name; users cannot register sites", async () => {
    const before = await snapshot();
    const register = (files: CaFiles, site: string) => {
      const registry = track(new RegistryService(grid.coordinator, as(transportOf(files), ['coordinator']), opts));
      return outcome((cb) =>
        registry.Register(
          {
            site,
            advertise: '127.0.0.1:9',
            nodes: [{ name: 'x1', uri: 'test:///default', cpus: 100000, memoryMiB: 1 << 30 }],
            images: ['tiny'],
            subnetPool: '172.16.0.0/12',
            macRange: '02:bf:00:00:00:00/32',
            instance: 'attacker',
            clusters: [],
            defaultCheckpointEvery: '30m',
          },
          deadline(),
          cb,
        ),
      );
    };
    for (const [files, site] of [
      [alice, 'fake'],
      [siteB, 'site-a'],
      [siteB, 'fake'],
    ] as const) {
      const r = await register(files, site);
      expect(r.code, `${site}: ${r.details}`).to.equal(grpc.status.PERMISSION_DENIED);
    }
    // a heartbeat for another site is refused too
    const registry = track(new RegistryService(grid.coordinator, as(transportOf(siteB), ['coordinator']), opts));
    const hb = await outcome((cb) => registry.Heartbeat({ site: 'site-a', session: 'x', clusters: [] }, deadline(), cb));
    expect(hb.code, hb.details).to.equal(grpc.status.PERMISSION_DENIED);
    expect(await snapshot()).to.equal(before);
  });

  it("user B cannot see, cancel, migrate or snapshot user A's job, nor submit as A; exit 6", async () => {
    const before = await snapshot();
    for (const args of [['show', job.id], ['cancel', job.id], ['migrate', job.id, '--to', 'site-b'], ['snapshots', job.id], ['site', 'reclaim', 'site-a', '--nodes', 'a1']]) {
      const r = await cli(bob, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(6);
      expect(r.stderr.length, args.join(' ')).to.be.lessThan(400);
    }
    const spoof = await cli(bob, ['submit', '--name', 'spoof', '--owner', 'alice', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny']);
    expect(spoof.code, spoof.stderr).to.equal(6);
    expect(spoof.stderr).to.match(/only admins may give --owner/);
    // bob's listing does not show alice's job; alice's does
    expect((await cli(bob, ['ls', '--json'])).json<Job[]>().map((j) => j.id)).to.not.include(job.id);
    expect((await cli(alice, ['ls', '--json'])).json<Job[]>().map((j) => j.id)).to.include(job.id);
    expect(await snapshot()).to.equal(before);
  });

  it('a site operator reclaims only on its own site', async () => {
    const before = await snapshot();
    const other = await cli(siteB, ['site', 'reclaim', 'site-a', '--nodes', 'a1']);
    expect(other.code, other.stderr).to.equal(6);
    expect(other.stderr).to.match(/may not reclaim nodes on site site-a/);
    const release = await cli(siteB, ['site', 'release', 'site-a', '--nodes', 'a1']);
    expect(release.code, release.stderr).to.equal(6);
    expect(await snapshot()).to.equal(before);
    // its own site: allowed (b1 runs nothing, so nothing moves)
    const own = await cli(siteB, ['site', 'reclaim', 'site-b', '--nodes', 'b1']);
    expect(own.code, own.stderr).to.equal(0);
    const back = await cli(siteB, ['site', 'release', 'site-b', '--nodes', 'b1']);
    expect(back.code, back.stderr).to.equal(0);
  });

  it('a program without tls in its config refuses to start; --insecure starts it with a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brine-insecure-'));
    try {
      const file = join(dir, 'coordinator.yaml');
      writeFileSync(file, `listen: 127.0.0.1:0\ndataDir: ${join(dir, 'data')}\n`);
      const refused = grid.spawn('no-tls', 'bin/brine-coordinator.js', ['--config', file]);
      expect(await refused.exited).to.equal(2);
      expect(refused.log).to.match(/needs tls: \{ca, cert, key\}.*or --insecure/);
      const insecure = grid.spawn('insecure', 'bin/brine-coordinator.js', ['--config', file, '--insecure']);
      await waitFor('the insecure coordinator to listen', () => insecure.log.includes('listening'));
      expect(insecure.log).to.match(/WARNING: --insecure: plaintext gRPC/);
      await grid.kill('insecure', 'SIGTERM');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('limits: odd ids are NOT_FOUND, huge fields and short checkpoints INVALID_ARGUMENT with a short message, quotas RESOURCE_EXHAUSTED', async () => {
    const before = await snapshot();
    for (const id of ['__proto__', 'constructor', 'toString']) {
      const r = await cli(alice, ['show', id]);
      expect(r.code, `${id}: ${r.stderr}`).to.equal(3);
    }
    const jobs = track(new JobService(grid.coordinator, as(transportOf(alice), ['coordinator']), opts));
    const submit = (fields: Record<string, unknown>) =>
      outcome((cb) => jobs.SubmitJob({ name: 'x', vms: 1, cpus: 1, memoryMiB: 64, image: 'tiny', site: '', checkpointEvery: '', owner: '', ...fields }, deadline(), cb));
    const huge = await submit({ name: 'n'.repeat(65_536) });
    expect(huge.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(huge.details.length, huge.details).to.be.lessThan(200);
    const short = await submit({ checkpointEvery: '1s' });
    expect(short.code, short.details).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(short.details).to.match(/checkpointEvery: must be at least 10s/);
    const tooLong = await submit({ checkpointEvery: '99999999999d' });
    expect(tooLong.code, tooLong.details).to.equal(grpc.status.INVALID_ARGUMENT);
    // quota 4 running VMs: alice runs 1
    const vms = await submit({ vms: 4 });
    expect(vms.code, vms.details).to.equal(grpc.status.RESOURCE_EXHAUSTED);
    expect(vms.details).to.match(/alice runs 1 VMs \(quota 4\)/);
    expect(await snapshot()).to.equal(before);
    // quota 2 pending jobs: bob's third stuck job is refused
    // 3 VMs of 8 cpus never fit next to alice's VM on site-a's two 8-cpu nodes: they stay PENDING
    const stuck = ['submit', '--name', 'stuck', '--vms', '3', '--cpus', '8', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--json'];
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await cli(bob, stuck);
      expect(r.code, r.stderr).to.equal(0);
      ids.push(r.json<Job>().id);
    }
    const third = await cli(bob, stuck);
    expect(third.code, third.stderr).to.equal(1);
    expect(third.stderr).to.match(/bob has 2 pending jobs \(quota 2\)/);
    for (const id of ids) expect((await cli(bob, ['cancel', id])).code).to.equal(0);
  });

  it('the owner and an admin may act on the job', async () => {
    const shown = await cli(alice, ['show', job.id, '--json']);
    expect(shown.code, shown.stderr).to.equal(0);
    const cancelled = await cli(ADMIN_FILES, ['cancel', job.id]);
    expect(cancelled.code, cancelled.stderr).to.equal(0);
    await waitFor('the cluster gone from site-a', async () => (await agentStatus(agentPort('site-a'))).every((c) => c.jobId !== job.id));
  });
});

describe('brine ca: the grid CA and its certificates', () => {
  it('init makes a CA once; issue signs ROLE NAME (subject CN/OU) verifiable against it; bad roles exit 2', async () => {
    const { X509Certificate } = await import('node:crypto');
    const { statSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'brine-ca-'));
    try {
      const init = await runCli(['ca', 'init', '--dir', join(dir, 'ca'), '--json']);
      expect(init.code, init.stderr).to.equal(0);
      const again = await runCli(['ca', 'init', '--dir', join(dir, 'ca')]);
      expect(again.code).to.not.equal(0);
      expect(again.stderr).to.match(/a CA already exists/);
      const issued = await runCli(['ca', 'issue', 'site', 'site-q', '--dir', join(dir, 'ca'), '--out', join(dir, 'q'), '--days', '30', '--json']);
      expect(issued.code, issued.stderr).to.equal(0);
      const files = issued.json<{ role: string; name: string; cert: string; key: string }>();
      const cert = new X509Certificate(readFileSync(files.cert));
      expect(cert.subject).to.match(/CN=site-q/).and.to.match(/OU=site/);
      expect(cert.verify(new X509Certificate(readFileSync(join(dir, 'ca', 'ca.crt'))).publicKey)).to.equal(true);
      expect(Date.parse(cert.validTo) - Date.now()).to.be.within(29 * 86_400_000, 31 * 86_400_000);
      expect(statSync(files.key).mode & 0o077).to.equal(0);
      const bad = await runCli(['ca', 'issue', 'wizard', 'x', '--dir', join(dir, 'ca')]);
      expect(bad.code, bad.stderr).to.equal(2);
      const badName = await runCli(['ca', 'issue', 'user', 'a,OU=admin', '--dir', join(dir, 'ca')]);
      expect(badName.code, badName.stderr).to.equal(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
