// A move checks that the destination's nodes can run the job's saved VMs (their libvirt domain type
// and architecture) before anything is reserved or stopped, and says why it refuses. The grid is
// real (coordinator, a test-driver agent, the CLI); the other site is a registration-only peer that
// announces KVM x86_64 nodes through the real registry API, as a QEMU/KVM site's agent would.
import { expect } from 'chai';
import { runCli } from '../helpers/cli.js';
import { TestGrid } from '../helpers/grid.js';
import { CLIENT_OPTIONS, RegistryService, type Job, type Lease, type Site } from '../../src/shared/proto.js';
import { clientCredentials, TLS_CLIENT_OPTIONS } from '../../src/shared/tls.js';
import { credentials, transportOf } from '../helpers/pki.js';

describe('moves check guest compatibility (domain type and architecture)', function () {
  this.timeout(60_000);
  let grid: TestGrid;
  let stopPeer: (() => void) | undefined;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);

  beforeEach(async () => {
    grid = new TestGrid();
    await grid.startCoordinator();
    await grid.startAgent({ name: 'site-a' });
  });
  afterEach(async function () {
    stopPeer?.();
    await grid.close(this.currentTest?.state === 'failed');
  });

  /** Registers `site` with KVM x86_64 nodes and keeps it UP by heartbeating. */
  async function kvmPeer(site: string): Promise<() => void> {
    // the peer holds its own site certificate: a site registers only under its certificate's name
    const registry = new RegistryService(grid.coordinator, clientCredentials(transportOf(await credentials('site', site)), { roles: ['coordinator'] }), { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS });
    const res = await new Promise<{ session: string }>((resolve, reject) =>
      registry.Register(
        {
          site,
          advertise: '127.0.0.1:9', // never called: the move is refused before any agent call
          nodes: ['k1', 'k2'].map((name) => ({
            name,
            uri: 'qemu+ssh://kvm-host/system',
            cpus: 32,
            memoryMiB: 65536,
            arch: 'x86_64',
            domainType: 'kvm',
            domainTypes: ['kvm', 'qemu'],
            cpuModel: 'Icelake-Server',
          })),
          images: ['tiny'],
          subnetPool: '10.199.0.0/22',
          macRange: '02:b9:00:00:00:00/32',
          instance: `peer-${site}`,
          clusters: [],
          defaultCheckpointEvery: '30m',
        },
        (err, r) => (err || !r ? reject(err) : resolve(r)),
      ),
    );
    const timer = setInterval(() => registry.Heartbeat({ site, session: res.session, clusters: [] }, () => undefined), 400);
    return () => {
      clearInterval(timer);
      registry.close();
    };
  }

  it('refuses to move a job whose VMs were saved under another domain type, saying why, and changes nothing', async () => {
    stopPeer = await kvmPeer('site-k');
    const nodes = await cli('sites', '--nodes');
    expect(nodes.stdout).to.match(/^site-a\s+a1\s+UP\s+\S+\s+\S+\s+test\/i686\s/m);
    expect(nodes.stdout).to.match(/^site-k\s+k1\s+UP\s+\S+\s+\S+\s+kvm\/x86_64\s+Icelake-Server\s/m);
    const sites = (await cli('sites', '--json')).json<Site[]>();
    expect(sites.find((s) => s.name === 'site-k')?.nodes[0]).to.deep.include({ arch: 'x86_64', domainType: 'kvm', cpuModel: 'Icelake-Server' });

    const sub = await cli('submit', '--name', 'pinned', '--vms', '2', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--wait', '--json');
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    const before = (await cli('addresses', '--json')).json<Lease[]>();

    const r = await cli('migrate', job.id, '--to', 'site-k');
    expect(r.code, r.stderr).to.equal(4);
    expect(r.stderr).to.include('site-k cannot restore these VMs: they were saved as test/i686').and.include('its nodes run kvm+qemu/x86_64');
    // refused before anything happened: still running where it was, no address reserved at site-k
    const after = (await cli('show', job.id, '--json')).json<Job>();
    expect(after).to.deep.include({ state: 'RUNNING', site: 'site-a', subnet: job.subnet });
    expect(after.history.map((h) => h.state)).to.not.include('RELOCATING');
    expect((await cli('addresses', '--json')).json<Lease[]>()).to.deep.equal(before);

    // the same check holds for a suspended job resumed elsewhere
    expect((await cli('suspend', job.id)).code).to.equal(0);
    const res = await cli('resume', job.id, '--site', 'site-k');
    expect(res.code).to.equal(4);
    expect(res.stderr).to.include('cannot restore these VMs');
    expect((await cli('show', job.id, '--json')).json<Job>()).to.deep.include({ state: 'SUSPENDED', site: 'site-a' });
  });
});
