// What the batch scheduler hooks (contrib/) rely on in `brine site reclaim`/`release`, without a
// batch scheduler: --ignore-unknown leaves nodes the site does not have alone, and --agent hands
// over nodes without VMs when the coordinator is down but names the VMs it could not save.
import { expect } from 'chai';
import { runCli } from '../helpers/cli.js';
import { cliEnv, credentials } from '../helpers/pki.js';
import { TestGrid } from '../helpers/grid.js';
import type { Job, Site } from '../../src/shared/proto.js';

describe('site reclaim/release as the batch scheduler hooks call them', function () {
  let grid: TestGrid;
  let failed = false;
  const cli = (args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);

  before(async () => {
    grid = new TestGrid();
    await grid.startCoordinator();
    await grid.startAgent({ name: 'site-a', nodes: [{ name: 'a1', cpus: 4, memoryMiB: 4096 }, { name: 'a2', cpus: 4, memoryMiB: 4096 }] });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });
  after(async () => {
    await grid?.close(failed);
  });

  it('without --ignore-unknown an unknown node fails the call (exit 2); with it, that node is ignored in one line', async () => {
    const plain = await cli(['site', 'reclaim', 'site-a', '--nodes', 'a1,a3']);
    expect(plain.code).to.equal(2);
    expect(plain.stderr).to.include('a3');
    const r = await cli(['site', 'reclaim', 'site-a', '--nodes', 'a1,a3', '--ignore-unknown']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr.trim().split('\n').filter((l) => l.includes('ignoring'))).to.deep.equal(['ignoring a3: not node of site-a']);
    expect(r.stdout).to.include('nodes a1 of site-a reclaimed; no best-effort VM ran there.');
    const site = (await cli(['--json', 'sites'])).json<Site[]>().find((s) => s.name === 'site-a');
    expect(site?.nodes.find((n) => n.name === 'a1')?.state).to.not.equal(site?.nodes.find((n) => n.name === 'a2')?.state);
    const rel = await cli(['site', 'release', 'site-a', '--nodes', 'a1,a3', '--ignore-unknown']);
    expect(rel.code, rel.stderr).to.equal(0);
    expect(rel.stdout).to.include('nodes a1 of site-a released');
  });

  it('only unknown nodes: exit 0, nothing to do, nothing changes', async () => {
    const r = await cli(['site', 'reclaim', 'site-a', '--nodes', 'a3,x9', '--ignore-unknown']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal('none of a3, x9 is a node of site-a: nothing to do.');
  });

  it('coordinator down: --agent hands over a node without VMs (exit 0) and names the VMs on the others (exit 5)', async () => {
    const sub = await cli(['--json', 'submit', '--name', 'hooked', '--vms', '1', '--cpus', '4', '--memory', '64', '--image', 'tiny', '--wait', '--timeout', '30s']);
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    const busy = job.vms[0]?.node ?? '';
    const idle = busy === 'a1' ? 'a2' : 'a1';
    await grid.kill('coordinator');
    const agent = `127.0.0.1:${grid.sitePorts.get('site-a')}`;
    // as the site's hooks run it: with site-a's certificate (an admin's may not read an agent)
    const asSite = { env: cliEnv(await credentials('site', 'site-a')) };
    const hook = (args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], asSite);

    const free = await hook(['site', 'reclaim', 'site-a', '--nodes', idle, '--ignore-unknown', '--agent', agent]);
    expect(free.code, free.stderr).to.equal(0);
    expect(free.stdout).to.include(`runs no brine VM on ${idle}: nothing to save`);

    const taken = await hook(['site', 'reclaim', 'site-a', '--nodes', `${idle},${busy}`, '--ignore-unknown', '--agent', agent]);
    expect(taken.code).to.equal(5);
    expect(taken.stderr).to.include(`hooked-0 of job ${job.id} on ${busy}: NOT saved`);

    const noAgent = await hook(['site', 'reclaim', 'site-a', '--nodes', idle, '--agent', '127.0.0.1:1']);
    expect(noAgent.code).to.equal(5);
    expect(noAgent.stderr).to.include('did not answer either');
  });
});
