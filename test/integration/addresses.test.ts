// Issue 3 end to end: leases seen through `brine addresses --json` and `brine show`, against
// libvirt's own view of each cluster's network (virNetworkGetXMLDesc, via the agent).
import { expect } from 'chai';
import { Address4 } from 'ip-address';
import { runCli } from '../helpers/cli.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import { type Job, type Lease } from '../../src/shared/proto.js';


describe('addresses: leases, brine addresses, and libvirt networks agree', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);

  beforeEach(async () => {
    grid = new TestGrid();
    await grid.startCoordinator();
    await grid.startAgent({ name: 'site-a' });
    await grid.startAgent({ name: 'site-b' });
  });

  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('jobs on both sites get disjoint subnets, MACs and IPs that libvirt serves by DHCP; all freed at the end', async () => {
    const specs: Array<[string, number, string]> = [
      ['a1', 3, 'site-a'],
      ['a2', 6, 'site-a'],
      ['b1', 1, 'site-b'],
      ['b2', 5, 'site-b'],
    ];
    const jobs: Job[] = [];
    for (const [name, vms, site] of specs) {
      const r = await cli('submit', '--name', name, '--vms', String(vms), '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', site, '--wait', '--json');
      expect(r.code, r.stderr).to.equal(0);
      jobs.push(r.json<Job>());
    }
    const leases = (await cli('addresses', '--json')).json<Lease[]>();
    expect(leases).to.have.length(3 + 6 + 1 + 5);
    expect(new Set(leases.map((l) => l.mac)).size).to.equal(leases.length);
    expect(new Set(leases.map((l) => l.ip)).size).to.equal(leases.length);
    expect(leases.every((l) => l.state === 'active')).to.equal(true);

    const pools: Record<string, string> = { 'site-a': '10.150.0.0/22', 'site-b': '10.151.0.0/22' };
    for (const job of jobs) {
      const subnet = new Address4(job.subnet);
      expect(subnet.isInSubnet(new Address4(pools[job.site] as string)), `${job.subnet} in ${job.site}'s pool`).to.equal(true);
      // the smallest subnet that holds K VMs + gateway + network + broadcast
      const expectedPrefix = { 1: 30, 3: 29, 5: 29, 6: 28 }[job.vmCount];
      expect(subnet.subnetMask, job.name).to.equal(expectedPrefix);
      const mine = leases.filter((l) => l.job === job.id);
      expect(mine.map((l) => [l.vm, l.mac, l.ip, l.subnet, l.site])).to.deep.equal(job.vms.map((v) => [v.name, v.mac, v.ip, job.subnet, job.site]));
      for (const vm of job.vms) {
        const ip = new Address4(vm.ip);
        expect(ip.isInSubnet(subnet)).to.equal(true);
        expect(vm.ip).to.not.be.oneOf([subnet.startAddress().address, subnet.endAddress().address, job.gateway]);
        expect(parseInt(vm.mac.slice(0, 2), 16) & 0x03, 'locally administered, unicast').to.equal(0x02);
      }
      // libvirt's own view of the cluster's network
      const status = (await agentStatus(grid.sitePorts.get(job.site) as number, { includeNetworkXml: true })).find((c) => c.jobId === job.id);
      expect(status?.network).to.equal(`brine-${job.site}-${job.id}`);
      const xml = status?.networkXml ?? '';
      expect(xml).to.match(new RegExp(`<ip address=['"]${job.gateway}['"] prefix=['"]${subnet.subnetMask}['"]`));
      const hosts = [...xml.matchAll(/<host mac=['"]([^'"]+)['"][^>]*ip=['"]([^'"]+)['"]/g)].map((m) => [m[1], m[2]]);
      expect(hosts).to.have.deep.members(job.vms.map((v) => [v.mac, v.ip]));
      expect(xml).to.match(/<bridge name=['"][a-z0-9-]{1,15}['"]/);
    }
    // subnets of one site never overlap
    for (const site of ['site-a', 'site-b']) {
      const subnets = jobs.filter((j) => j.site === site).map((j) => new Address4(j.subnet));
      for (let i = 0; i < subnets.length; i++)
        for (let k = i + 1; k < subnets.length; k++)
          expect(subnets[i]!.isInSubnet(subnets[k]!) || subnets[k]!.isInSubnet(subnets[i]!)).to.equal(false);
    }
    const onlyA = (await cli('addresses', '--site', 'site-a', '--json')).json<Lease[]>();
    expect(onlyA).to.have.length(9);
    expect(onlyA.every((l) => l.site === 'site-a')).to.equal(true);
    expect((await cli('addresses', '--site', 'site-z')).code).to.equal(3);

    for (const job of jobs) expect((await cli('cancel', job.id)).code).to.equal(0);
    await waitFor('every lease freed', async () => (await cli('addresses', '--json')).json<Lease[]>().length === 0);
    for (const site of ['site-a', 'site-b']) {
      await waitFor(`${site}'s networks gone`, async () => (await agentStatus(grid.sitePorts.get(site) as number)).length === 0);
    }
  });

  it('a site whose pool is exhausted keeps the job PENDING with the reason, never half-allocated', async () => {
    await grid.startAgent({ name: 'site-c', subnetPool: '10.160.0.0/28' });
    const first = await cli('submit', '--name', 'fill', '--vms', '6', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-c', '--wait', '--json');
    expect(first.code, first.stderr).to.equal(0);
    expect(first.json<Job>().subnet).to.equal('10.160.0.0/28');
    const second = await cli('submit', '--name', 'more', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-c', '--json');
    const id = second.json<Job>().id;
    const job = await waitFor('the exhaustion reason', async () => {
      const j = (await cli('show', id, '--json')).json<Job>();
      return j.history.some((h) => h.reason.includes('no free subnet in site-c pool 10.160.0.0/28')) && j;
    });
    expect(job.state).to.equal('PENDING');
    expect(job.subnet).to.equal('');
    expect((await cli('addresses', '--site', 'site-c', '--json')).json<Lease[]>().every((l) => l.job !== id)).to.equal(true);
    // room appears when the first job ends
    expect((await cli('cancel', first.json<Job>().id)).code).to.equal(0);
    await waitFor('the waiting job placed', async () => (await cli('show', id, '--json')).json<Job>().state === 'RUNNING');
  });
});
