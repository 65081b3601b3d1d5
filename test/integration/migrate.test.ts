// Issue 6 through the whole stack on the embedded default: moves between sites (migrate, resume
// elsewhere), their rollback, and preemption by a site's batch scheduler (reclaim/release), with
// real coordinator and agent processes and the real CLI.
import { expect } from 'chai';
import { runCli, spawnCli } from '../helpers/cli.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import { type Job, type Lease, type Site, type Snapshot } from '../../src/shared/proto.js';

const inSubnet = (ip: string, prefix: string): boolean => ip.startsWith(prefix);

describe('moves between sites and preemption (test driver)', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 60_000 });
  const show = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();
  const port = (site: string): number => grid.sitePorts.get(site) as number;
  const submit = async (name: string, vms = 2, ...extra: string[]): Promise<Job> => {
    const r = await cli('submit', '--name', name, '--vms', String(vms), '--cpus', '2', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--wait', '--json', ...extra);
    expect(r.code, r.stderr).to.equal(0);
    return r.json<Job>();
  };
  // pools: site-a 10.150.0.0/22, site-b 10.151.0.0/22 (test/helpers/grid.ts)
  const A = '10.150.';
  const B = '10.151.';

  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  describe('with two sites', () => {
    beforeEach(async () => {
      grid = new TestGrid();
      // long enough that a killed destination still looks UP when the move starts
      await grid.startCoordinator({ heartbeatTimeout: '10s' });
      await grid.startAgent({ name: 'site-a' });
      await grid.startAgent({ name: 'site-b' });
    });

    it('migrates a RUNNING job to another site on fresh addresses, then resumes it back from a suspend', async () => {
      const job = await submit('mig');
      const r = await cli('migrate', job.id, '--to', 'site-b', '--json');
      expect(r.code, r.stderr).to.equal(0);
      const moved = r.json<Job>();
      expect(moved.state).to.equal('RUNNING');
      expect(moved.site).to.equal('site-b');
      expect(inSubnet(moved.subnet, B), moved.subnet).to.equal(true);
      expect(moved.vms.map((v) => v.name)).to.deep.equal(job.vms.map((v) => v.name));
      for (const [i, vm] of moved.vms.entries()) {
        expect(inSubnet(vm.ip, B), vm.ip).to.equal(true);
        expect(vm.mac).to.not.equal(job.vms[i]?.mac);
        expect(vm.node).to.match(/^b[12]$/);
        expect(vm.state).to.equal('RUNNING');
      }
      const states = moved.history.map((h) => h.state);
      expect(states.slice(-3)).to.deep.equal(['RELOCATING', 'RESUMING', 'RUNNING']);
      expect(moved.history.find((h) => h.state === 'RELOCATING')?.reason).to.match(/moving from site-a to site-b \(requested by user\)/);
      expect(moved.history.at(-1)?.reason).to.match(/moved from site-a to site-b/);
      expect(await show(job.id)).to.deep.include({ site: 'site-b', subnet: moved.subnet });

      // the origin holds nothing of it: no VM, no lease; the destination runs it on the leased MACs/IPs
      expect((await agentStatus(port('site-a'), { includeNetworkXml: true })).filter((c) => c.jobId === job.id)).to.deep.equal([]);
      await waitFor('site-a leases released', async () => {
        const leases = (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.job === job.id);
        return leases.every((l) => l.site === 'site-b') && leases.length === 2 && leases;
      });
      const leases = (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.job === job.id);
      expect(leases.map((l) => [l.mac, l.ip])).to.deep.equal(moved.vms.map((v) => [v.mac, v.ip]));
      const atB = (await agentStatus(port('site-b'), { includeNetworkXml: true })).find((c) => c.jobId === job.id);
      expect(atB?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING']);
      for (const vm of moved.vms) {
        expect(atB?.networkXml).to.include(vm.mac);
        expect(atB?.networkXml).to.include(vm.ip);
      }
      const snaps = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>();
      expect(snaps.at(-1)?.kind).to.equal('suspend');
      expect(snaps.at(-1)?.sites.sort()).to.deep.equal(['site-a', 'site-b']);

      // suspended on site-b, resumed on site-a: fresh site-a addresses again
      expect((await cli('suspend', job.id)).code).to.equal(0);
      const back = await cli('resume', job.id, '--site', 'site-a', '--json');
      expect(back.code, back.stderr).to.equal(0);
      const resumed = back.json<Job>();
      expect(resumed).to.deep.include({ state: 'RUNNING', site: 'site-a' });
      for (const vm of resumed.vms) expect(inSubnet(vm.ip, A), vm.ip).to.equal(true);
      expect(resumed.history.map((h) => h.state).slice(-5)).to.deep.equal(['SUSPENDING', 'SUSPENDED', 'RELOCATING', 'RESUMING', 'RUNNING']);
      expect(resumed.history.find((h) => /resume requested on site-a/.test(h.reason))).to.not.equal(undefined);
      await waitFor('site-b leases released', async () =>
        (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.job === job.id).every((l) => l.site === 'site-a'),
      );
      expect((await agentStatus(port('site-b'), { includeNetworkXml: true })).filter((c) => c.jobId === job.id)).to.deep.equal([]);
    });

    it('replicates each checkpoint to another site in the background, with transfer progress in watch', async () => {
      const job = await submit('rep', 1);
      const watch = spawnCli(['--coordinator', grid.coordinator, 'watch', job.id, '--json'], { timeoutMs: 60_000 });
      await waitFor('watch subscribed', () => watch.stderr === '' && watch.child.pid !== undefined);
      const r = await cli('snapshot', job.id, '--json');
      expect(r.code, r.stderr).to.equal(0);
      const snap = r.json<Snapshot>();
      const replicated = await waitFor('the checkpoint on both sites', async () => {
        const s = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>().find((x) => x.id === snap.id);
        return s && s.sites.length === 2 && s;
      });
      expect([...replicated.sites].sort()).to.deep.equal(['site-a', 'site-b']);
      const events = await waitFor('a replication event', () => {
        const lines = watch.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string; site: string; bytesTotal: number; snapshot: string });
        return lines.some((e) => e.type === 'snapshot.replicated') && lines;
      });
      const progress = events.filter((e) => e.type === 'transfer.progress');
      expect(progress.length).to.be.greaterThan(0);
      expect(progress.at(-1)).to.deep.include({ site: 'site-b', snapshot: snap.id });
      expect(progress.at(-1)?.bytesTotal).to.be.greaterThan(0);
      watch.child.kill('SIGINT');
      await watch.result;

      // cancel drops every copy, at the replica site too
      expect((await cli('cancel', job.id)).code).to.equal(0);
      await waitFor('snapshots dropped', async () => (await cli('snapshots', job.id, '--json')).json<Snapshot[]>().length === 0);
    });

    it('refuses bad moves with the right codes', async () => {
      const job = await submit('bad', 1);
      expect((await cli('migrate', job.id, '--to', 'site-zz')).code).to.equal(3);
      expect((await cli('migrate', 'jnope', '--to', 'site-b')).code).to.equal(3);
      const same = await cli('migrate', job.id, '--to', 'site-a');
      expect(same.code).to.equal(2);
      expect(same.stderr).to.match(/already on site-a/);
      expect((await cli('migrate', job.id, '--to', 'Not A Site')).code).to.equal(2);
      expect((await cli('migrate', job.id)).code).to.equal(2);
      const big = await cli('submit', '--name', 'big', '--vms', '2', '--cpus', '8', '--memory', '128', '--image', 'tiny', '--site', 'site-b', '--wait', '--json');
      expect(big.code, big.stderr).to.equal(0);
      const full = await cli('migrate', job.id, '--to', 'site-b');
      expect(full.code).to.equal(4);
      expect(full.stderr).to.match(/no room/);
      expect((await show(job.id)).state).to.equal('RUNNING');
    });

    it('rolls back when the destination dies during the move: back RUNNING at the origin on its old addresses', async () => {
      const job = await submit('rb');
      await grid.kill('site-b'); // still UP for the coordinator for a few seconds
      const r = await cli('migrate', job.id, '--to', 'site-b', '--json');
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/was not moved to site-b and is (SUSPENDED|RESUMING|RUNNING) on site-a: move to site-b failed \(transfer to site-b failed/);
      expect(r.json<{ error: { code: string }; job: Job }>().error.code).to.equal('MOVE_FAILED');
      const after = await waitFor('the job back RUNNING on site-a', async () => {
        const j = await show(job.id);
        return j.state === 'RUNNING' && j;
      }, 30_000);
      expect(after.site).to.equal('site-a');
      expect(after.vms.map((v) => [v.name, v.mac, v.ip])).to.deep.equal(job.vms.map((v) => [v.name, v.mac, v.ip]));
      const reasons = after.history.map((h) => `${h.state}: ${h.reason}`);
      expect(reasons.some((x) => /^SUSPENDED: move to site-b failed .*back on site-a with its old addresses, snapshot \S+ intact/.test(x)), reasons.join('\n')).to.equal(true);
      // no address live twice: only site-a's are in use (site-b's never reached a VM)
      const live = (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.job === job.id && l.state !== 'releasing');
      expect(live.map((l) => l.site)).to.deep.equal(['site-a', 'site-a']);
      const snaps = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>();
      expect(snaps.at(-1)?.sites).to.deep.equal(['site-a']);
      expect(snaps.at(-1)?.damaged).to.equal(false);
      const atA = (await agentStatus(port('site-a'), { includeNetworkXml: true })).find((c) => c.jobId === job.id);
      expect(atA?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING']);
    });

    it('reclaim checkpoints the jobs on the nodes, answers once the snapshots are on disk, and they resume on the other site', async () => {
      const job = await submit('pre');
      const r = await cli('site', 'reclaim', 'site-a', '--nodes', 'a1,a2', '--grace', '1m', '--json');
      expect(r.code, r.stderr).to.equal(0);
      const site = r.json<Site>();
      expect(site.nodes.map((n) => n.state)).to.deep.equal(['RECLAIMED', 'RECLAIMED']);
      expect(site.preempted).to.have.length(1);
      expect(site.preempted[0]).to.deep.include({ job: job.id, saved: true });
      const snapId = site.preempted[0]?.snapshot as string;
      expect(snapId).to.not.equal('');
      const moved = await waitFor('the job RUNNING on site-b', async () => {
        const j = await show(job.id);
        return j.state === 'RUNNING' && j.site === 'site-b' && j;
      }, 30_000);
      for (const vm of moved.vms) expect(inSubnet(vm.ip, B)).to.equal(true);
      const reasons = moved.history.map((h) => h.reason).join('\n');
      expect(reasons).to.match(/suspending \(preempted: nodes a1, a2 of site-a reclaimed by its batch scheduler\)/);
      expect(reasons).to.match(/moved from site-a to site-b \(nodes a1, a2 of site-a reclaimed/);
      expect((await agentStatus(port('site-a'), { includeNetworkXml: true })).filter((c) => c.jobId === job.id)).to.deep.equal([]);

      // no new VM goes to reclaimed nodes until they are released
      const sub = await cli('submit', '--name', 'late', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--json');
      const late = sub.json<Job>();
      await new Promise((res) => setTimeout(res, 500));
      expect((await show(late.id)).state).to.equal('PENDING');
      const rel = await cli('site', 'release', 'site-a', '--nodes', 'a1,a2', '--json');
      expect(rel.code, rel.stderr).to.equal(0);
      expect(rel.json<Site>().nodes.map((n) => n.state)).to.deep.equal(['UP', 'UP']);
      await waitFor('the late job placed', async () => (await show(late.id)).state === 'RUNNING');
      expect((await cli('site', 'reclaim', 'site-a', '--nodes', 'a9')).code).to.equal(2);
      expect((await cli('site', 'reclaim', 'site-zz', '--nodes', 'a1')).code).to.equal(3);
      expect((await cli('site', 'reclaim', 'site-a', '--nodes', 'a1', '--grace', 'soon')).code).to.equal(2);
    });

    it('two reclaims racing on one site save the job once and move it once', async () => {
      const job = await submit('race'); // one VM on a1, one on a2 (spread)
      expect(new Set(job.vms.map((v) => v.node)).size).to.equal(2);
      const [r1, r2] = await Promise.all([
        cli('site', 'reclaim', 'site-a', '--nodes', 'a1', '--json'),
        cli('site', 'reclaim', 'site-a', '--nodes', 'a2', '--json'),
      ]);
      expect(r1.code, r1.stderr).to.equal(0);
      expect(r2.code, r2.stderr).to.equal(0);
      for (const r of [r1, r2]) expect(r.json<Site>().preempted.map((p) => [p.job, p.saved])).to.deep.equal([[job.id, true]]);
      const moved = await waitFor('the job RUNNING on site-b', async () => {
        const j = await show(job.id);
        return j.state === 'RUNNING' && j.site === 'site-b' && j;
      }, 30_000);
      const states = moved.history.map((h) => h.state);
      expect(states.filter((s) => s === 'SUSPENDING')).to.have.length(1);
      expect(states.filter((s) => s === 'RELOCATING')).to.have.length(1);
      expect((await agentStatus(port('site-a'), { includeNetworkXml: true })).filter((c) => c.jobId === job.id)).to.deep.equal([]);
      expect((await agentStatus(port('site-b'), { includeNetworkXml: true })).filter((c) => c.jobId === job.id)).to.have.length(1);
      const sites = (await cli('sites', '--json')).json<Site[]>();
      expect(sites.find((s) => s.name === 'site-a')?.nodes.map((n) => n.state)).to.deep.equal(['RECLAIMED', 'RECLAIMED']);
      await waitFor('only site-b leases', async () =>
        (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.job === job.id).every((l) => l.site === 'site-b'),
      );
    });
  });

  describe('with one site', () => {
    beforeEach(async () => {
      grid = new TestGrid();
      await grid.startCoordinator();
      await grid.startAgent({ name: 'site-a' });
    });

    it('a preempted job with no room anywhere waits SUSPENDED, then resumes when a site joins', async () => {
      const job = await submit('wait', 2);
      const r = await cli('site', 'reclaim', 'site-a', '--nodes', 'a1,a2', '--json');
      expect(r.code, r.stderr).to.equal(0);
      const waiting = await waitFor('the job waiting for room', async () => {
        const j = await show(job.id);
        return j.state === 'SUSPENDED' && /waiting for room to resume/.test(j.history.at(-1)?.reason ?? '') && j;
      });
      expect(waiting.history.at(-1)?.reason).to.match(/no site has room/);
      await grid.startAgent({ name: 'site-c', nodes: [{ name: 'c1', cpus: 4, memoryMiB: 4096 }] });
      const moved = await waitFor('the job RUNNING on site-c', async () => {
        const j = await show(job.id);
        return j.state === 'RUNNING' && j.site === 'site-c' && j;
      }, 30_000);
      expect(moved.vms.map((v) => v.node)).to.deep.equal(['c1', 'c1']);
      expect(moved.history.at(-1)?.reason).to.match(/moved from site-a to site-c/);
    });
  });
});
