// What the batch scheduler hooks (contrib/) rely on in `brine site reclaim`/`release`, without a
// batch scheduler: --ignore-unknown leaves nodes the site does not have alone, and --agent has the
// site's own agent reclaim (suspend, close) and release when the coordinator is down; the
// coordinator, back, takes over what the agent did.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ADMIN_FILES, cliEnv, credentials } from '../helpers/pki.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import type { Job, Site } from '../../src/shared/proto.js';

const SITE_A = { name: 'site-a', nodes: [{ name: 'a1', cpus: 4, memoryMiB: 4096 }, { name: 'a2', cpus: 4, memoryMiB: 4096 }] };

describe('site reclaim/release as the batch scheduler hooks call them', function () {
  let grid: TestGrid;
  let failed = false;
  const cli = (args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);

  before(async () => {
    grid = new TestGrid();
    await grid.startCoordinator();
    await grid.startAgent(SITE_A);
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

  it('coordinator down: --agent has the site\'s agent suspend the VMs and close the nodes; the coordinator, back, has the job SUSPENDED on that snapshot and resumes it once', async () => {
    const sub = await cli(['--json', 'submit', '--name', 'hooked', '--vms', '1', '--cpus', '4', '--memory', '64', '--image', 'tiny', '--wait', '--timeout', '30s']);
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    const busy = job.vms[0]?.node ?? '';
    const idle = busy === 'a1' ? 'a2' : 'a1';
    await grid.kill('coordinator');
    const port = grid.sitePorts.get('site-a') ?? 0;
    const agent = `127.0.0.1:${port}`;
    // as the site's hooks run it: with site-a's certificate
    const asSite = { env: cliEnv(await credentials('site', 'site-a')) };
    const hook = (args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], asSite);

    const free = await hook(['site', 'reclaim', 'site-a', '--nodes', `${idle},x9`, '--ignore-unknown', '--agent', agent]);
    expect(free.code, free.stderr).to.equal(0);
    expect(free.stderr).to.include('ignoring x9: not node of site-a');
    expect(free.stdout).to.include(`runs no brine VM on ${idle}: nothing to save`);

    const taken = await hook(['--json', 'site', 'reclaim', 'site-a', '--nodes', busy, '--ignore-unknown', '--agent', agent]);
    expect(taken.code, taken.stderr).to.equal(0);
    const out = taken.json<{ coordinatorUnreachable: boolean; preempted: Array<{ job: string; snapshot: string; saved: boolean }>; freeNodes: string[]; closedNodes: string[] }>();
    expect(out.coordinatorUnreachable).to.equal(true);
    expect(out.preempted).to.have.length(1);
    expect(out.preempted[0]).to.include({ job: job.id, saved: true });
    const snapshot = out.preempted[0]?.snapshot ?? '';
    expect(snapshot).to.match(/^l/);
    expect(out.freeNodes).to.deep.equal([busy]);
    expect(out.closedNodes).to.deep.equal(['a1', 'a2']);
    // the VMs are gone from the node, and the snapshot is in the site's store
    expect((await agentStatus(port)).find((c) => c.jobId === job.id)).to.equal(undefined);
    expect(existsSync(join(grid.siteDataDir('site-a'), 'store', 'manifests', `${snapshot}.json`))).to.equal(true);

    // the idle node is given back while the coordinator is still away (the epilog's path)
    const rel = await hook(['site', 'release', 'site-a', '--nodes', idle, '--ignore-unknown', '--agent', agent]);
    expect(rel.code, rel.stderr).to.equal(0);
    expect(rel.stdout).to.include(`opened ${idle} of site-a`);

    // an agent restart keeps the closed node and the suspension to report
    await grid.kill('site-a', 'SIGTERM');
    await grid.startAgent(SITE_A, { waitRegistered: false });
    await waitFor('the agent to serve again', () => (grid.procs.get('site-a')?.log ?? '').includes('agent serving'));
    expect(grid.procs.get('site-a')?.log).to.include('nodes closed by a local reclaim');

    await grid.startCoordinator();
    const resumed = await waitFor('the job to run again', async () => {
      const r = await cli(['--json', 'show', job.id]);
      const j = r.code === 0 ? r.json<Job>() : undefined;
      return j?.state === 'RUNNING' && j.history.some((h) => h.state === 'SUSPENDED') ? j : undefined;
    }, 30_000);
    // suspended once (SUSPENDED may recur: each new reason for waiting is a history line)
    expect(resumed.history.filter((h) => h.state === 'SUSPENDING'), JSON.stringify(resumed.history)).to.have.length(1);
    const suspended = resumed.history.filter((h) => h.state === 'SUSPENDED');
    expect(suspended[0]?.reason).to.include(`suspended by the site's agent`).and.include(snapshot);
    expect(resumed.history.at(-1)?.reason).to.include(`from snapshot ${snapshot}`);
    expect(resumed.vms.map((v) => v.node)).to.deep.equal([idle]);
    const snaps = (await cli(['--json', 'snapshots', job.id])).json<Array<{ id: string; kind: string; sites: string[] }>>();
    expect(snaps.find((x) => x.id === snapshot)).to.deep.include({ kind: 'suspend', sites: ['site-a'] });
    const site = (await cli(['--json', 'sites'])).json<Site[]>().find((x) => x.name === 'site-a');
    expect(site?.nodes.find((n) => n.name === busy)?.state).to.equal('RECLAIMED');
    expect(site?.nodes.find((n) => n.name === idle)?.state).to.equal('UP');
    // one cluster, one VM, on the node it was resumed on: it never ran twice
    const clusters = (await agentStatus(port)).filter((c) => c.jobId === job.id);
    expect(clusters).to.have.length(1);
    expect(clusters[0]?.vms.map((v) => v.node)).to.deep.equal([idle]);

    const back = await cli(['site', 'release', 'site-a', '--nodes', busy]);
    expect(back.code, back.stderr).to.equal(0);
    await cli(['cancel', job.id]);
  });

  it('coordinator and agent both unreachable: exit 5 and the agent\'s words (the hook\'s policy decides)', async () => {
    await grid.kill('coordinator');
    const hook = (args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], { env: cliEnv(ADMIN_FILES) });
    const noAgent = await hook(['site', 'reclaim', 'site-a', '--nodes', 'a1', '--agent', '127.0.0.1:1']);
    expect(noAgent.code).to.equal(5);
    expect(noAgent.stderr).to.include('did not answer either');
    const noRelease = await hook(['site', 'release', 'site-a', '--nodes', 'a1', '--agent', '127.0.0.1:1']);
    expect(noRelease.code).to.equal(5);
    expect(noRelease.stderr).to.include('did not answer either');
  });

  it('the agent refuses LocalReclaim to another site\'s certificate and to a user', async () => {
    const agent = `127.0.0.1:${grid.sitePorts.get('site-a')}`;
    for (const files of [await credentials('site', 'site-z'), ADMIN_FILES]) {
      const r = await runCli(['--coordinator', grid.coordinator, 'site', 'reclaim', 'site-a', '--nodes', 'a1', '--agent', agent], { env: cliEnv(files) });
      expect(r.code, r.stderr).to.equal(6);
    }
  });
});
