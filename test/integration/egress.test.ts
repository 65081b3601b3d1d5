// Issue 12 point 4 on the embedded default: `submit --egress` through the real CLI, coordinator and
// agents. Only sites whose config says `network.egress: nat` take such a job; their cluster network
// gets libvirt's NAT forward, a move keeps it, and every other network stays isolated. (The real
// traffic through the NAT is the QEMU tier's: test/qemu/egress.test.ts.)
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { runCli } from '../helpers/cli.js';
import { agentStatus, TestGrid } from '../helpers/grid.js';
import { COORDINATOR_FILES, transportOf } from '../helpers/pki.js';
import { AgentService, CLIENT_OPTIONS, type Job, type Site } from '../../src/shared/proto.js';
import { clientCredentials, TLS_CLIENT_OPTIONS } from '../../src/shared/tls.js';
import { EPOCH_KEY, GRID_ID_KEY } from '../../src/shared/grid.js';

describe('egress: a NATed network only where the site allows it (test driver)', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 60_000 });
  const show = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();
  const networkXml = async (site: string, job: string): Promise<string> => {
    const clusters = await agentStatus(grid.sitePorts.get(site) as number, { includeNetworkXml: true });
    return clusters.find((c) => c.jobId === job)?.networkXml ?? '';
  };
  const submit = (name: string, ...extra: string[]) =>
    cli('submit', '--name', name, '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'tiny', ...extra, '--wait', '--json');

  beforeEach(async () => {
    grid = new TestGrid();
    await grid.startCoordinator({ heartbeatTimeout: '10s' });
    await grid.startAgent({ name: 'site-a', egress: 'nat' });
    await grid.startAgent({ name: 'site-b' });
    await grid.startAgent({ name: 'site-c', egress: 'nat' });
  });

  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('places an egress job only on a site that allows it, with a NAT forward; a move keeps it; other networks stay isolated', async () => {
    const sites = (await cli('sites', '--json')).json<Site[]>();
    expect(Object.fromEntries(sites.map((s) => [s.name, s.egress]))).to.deep.equal({ 'site-a': true, 'site-b': false, 'site-c': true });

    // Five egress jobs, placed by the coordinator: none on site-b (it is as empty as the others).
    const placed: Job[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await submit(`out-${i}`, '--egress');
      expect(r.code, r.stderr).to.equal(0);
      placed.push(r.json<Job>());
    }
    for (const j of placed) {
      expect(j.state).to.equal('RUNNING');
      expect(j.egress).to.equal(true);
      expect(j.site).to.be.oneOf(['site-a', 'site-c']);
      expect(await networkXml(j.site, j.id)).to.include("<forward mode='nat'/>");
    }
    const job = placed.find((j) => j.site === 'site-a') ?? (placed[0] as Job);
    expect((await cli('show', job.id)).stdout).to.match(/^network:\s+egress \(NAT\)$/m);

    // Without --egress: isolated, even on a site that allows egress.
    const plain = await submit('plain', '--site', 'site-a');
    expect(plain.code, plain.stderr).to.equal(0);
    const plainJob = plain.json<Job>();
    expect(plainJob.egress).to.equal(false);
    const plainXml = await networkXml('site-a', plainJob.id);
    expect(plainXml).to.include('<bridge ').and.not.include('<forward');
    expect((await cli('show', plainJob.id)).stdout).to.match(/^network:\s+isolated$/m);

    // A move to a site without egress is refused, saying why; nothing changes.
    const from = job.site;
    const to = from === 'site-a' ? 'site-c' : 'site-a';
    const refused = await cli('migrate', job.id, '--to', 'site-b');
    expect(refused.code, refused.stderr).to.equal(4);
    expect(refused.stderr).to.include('site-b does not allow egress');
    const still = await show(job.id);
    expect([still.state, still.site]).to.deep.equal(['RUNNING', from]);

    // A move to another egress site: the network there is NATed too, the origin's is gone.
    const mig = await cli('migrate', job.id, '--to', to, '--json');
    expect(mig.code, mig.stderr).to.equal(0);
    const moved = await show(job.id);
    expect([moved.state, moved.site, moved.egress]).to.deep.equal(['RUNNING', to, true]);
    expect(await networkXml(to, job.id)).to.include("<forward mode='nat'/>");
    expect(await networkXml(from, job.id)).to.equal('');
  });

  it('refuses --egress where no site allows it (exit 2 naming --egress), and an agent refuses an egress cluster its config does not allow', async () => {
    const before = (await cli('ls', '--all', '--json')).json<Job[]>().length;
    const pinned = await submit('nope', '--egress', '--site', 'site-b');
    expect(pinned.code, pinned.stderr).to.equal(2);
    expect(pinned.stderr).to.include('--egress').and.include('site site-b does not allow egress');
    expect((await cli('ls', '--all', '--json')).json<Job[]>()).to.have.length(before);

    // The agent holds even if a coordinator asked (here: a client with the coordinator's certificate).
    const agent = new AgentService(
      `127.0.0.1:${grid.sitePorts.get('site-b')}`,
      clientCredentials(transportOf(COORDINATOR_FILES), { roles: ['site'] }),
      { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS },
    );
    // named as the grid's own coordinator (the agent's grid.json says which), so only egress is wrong
    const membership = JSON.parse(readFileSync(join(grid.siteDataDir('site-b'), 'grid.json'), 'utf8')) as { gridId: string; epoch: number };
    const metadata = new grpc.Metadata();
    metadata.set(GRID_ID_KEY, membership.gridId);
    metadata.set(EPOCH_KEY, String(membership.epoch));
    try {
      const err = await new Promise<grpc.ServiceError | null>((resolve) => {
        agent.DeployCluster(
          {
            operationId: 'egress-test',
            cluster: {
              jobId: 'jegress1', jobName: 'x', image: 'tiny', cpus: 1, memoryMiB: 128, subnet: '10.151.0.0/29', gateway: '10.151.0.1',
              vms: [{ name: 'x-0', node: 'b1', mac: '02:b1:11:00:00:00', ip: '10.151.0.2' }], egress: true,
            },
          },
          metadata,
          { deadline: Date.now() + 20_000 },
          (e: grpc.ServiceError | null) => resolve(e),
        );
      });
      expect(err?.code, err?.details).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(err?.details).to.include('cluster.egress').and.include('does not allow egress');
    } finally {
      agent.close();
    }
    expect((await agentStatus(grid.sitePorts.get('site-b') as number)).map((c) => c.jobId)).to.deep.equal([]);
  });
});
