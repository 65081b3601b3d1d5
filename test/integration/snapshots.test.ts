// Issue 5 through the whole stack on the embedded default: coordinated snapshots, the catalog,
// retention, suspend/resume and the periodic policy, with real processes and the real CLI.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import { type Job, type Lease, type Site, type Snapshot } from '../../src/shared/proto.js';
import { flipStoredByte, removePackOf } from '../helpers/store-files.js';


describe('snapshots, suspend and resume through the coordinator (test driver)', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);
  const submit = async (name: string, ...extra: string[]): Promise<Job> => {
    const r = await cli('submit', '--name', name, '--vms', '3', '--cpus', '2', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--wait', '--json', ...extra);
    expect(r.code, r.stderr).to.equal(0);
    return r.json<Job>();
  };

  beforeEach(async () => {
    grid = new TestGrid();
    // the periodic test checkpoints every 2s, under the default 10s minimum
    await grid.startCoordinator({ extra: 'limits:\n  minCheckpointEvery: 1s\n' });
    await grid.startAgent({ name: 'site-a' });
  });

  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('takes coordinated snapshots of a running job, catalogs them, keeps the last 3, and drops them on cancel', async () => {
    const job = await submit('snap');
    const r = await cli('snapshot', job.id, '--json');
    expect(r.code, r.stderr).to.equal(0);
    const snap = r.json<Snapshot>();
    expect(snap.job).to.equal(job.id);
    expect(snap.sites).to.deep.equal(['site-a']);
    expect(snap.vms.map((v) => v.name).sort()).to.deep.equal(['snap-0', 'snap-1', 'snap-2']);
    expect(snap.totalBytes).to.be.greaterThan(0);
    expect(snap.pauseSkewMs).to.be.at.least(0);
    expect(snap.downtimeMs).to.be.at.least(0);
    expect(snap.damaged).to.equal(false);

    const after = (await cli('show', job.id, '--json')).json<Job>();
    expect(after.state).to.equal('RUNNING');
    expect(after.lastSnapshot).to.equal(snap.id);
    expect(after.history.map((h) => h.state).slice(-2)).to.deep.equal(['CHECKPOINTING', 'RUNNING']);
    expect((await agentStatus(grid.sitePorts.get('site-a') as number))[0]?.vms.every((v) => v.state === 'RUNNING')).to.equal(true);

    for (let i = 0; i < 3; i++) expect((await cli('snapshot', job.id)).code).to.equal(0);
    const listed = await waitFor('retention to keep 3', async () => {
      const l = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>();
      return l.length === 3 && l;
    });
    expect(listed.map((s) => s.id)).to.not.include(snap.id);
    const human = await cli('snapshots', job.id);
    expect(human.stdout.split('\n')[0]).to.match(/^ID\s+CREATED\s+KIND\s+SITES\s+VMS\s+TOTAL\s+NEW\s+SKEW-MS\s+DOWNTIME-MS\s+DAMAGED$/);

    expect((await cli('cancel', job.id)).code).to.equal(0);
    await waitFor('snapshots dropped', async () => (await cli('snapshots', job.id, '--json')).json<Snapshot[]>().length === 0);
  });

  it('refuses a snapshot of a job that is not running (exit 4) or unknown (exit 3)', async () => {
    const pending = await cli('submit', '--name', 'wait', '--vms', '3', '--cpus', '8', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--json');
    const id = pending.json<Job>().id;
    const r = await cli('snapshot', id);
    expect(r.code).to.equal(4);
    expect(r.stderr).to.match(/PENDING: only a RUNNING job can be snapshotted/);
    expect((await cli('snapshot', 'jnope')).code).to.equal(3);
    expect((await cli('suspend', id)).code).to.equal(4);
    expect((await cli('resume', id)).code).to.equal(4);
  });

  it('suspend frees the nodes but keeps the addresses; resume brings the same cluster back', async () => {
    const job = await submit('susp');
    const port = grid.sitePorts.get('site-a') as number;
    const s = await cli('suspend', job.id, '--json');
    expect(s.code, s.stderr).to.equal(0);
    const suspended = s.json<Job>();
    expect(suspended.state).to.equal('SUSPENDED');
    expect(suspended.lastSnapshot).to.not.equal('');
    expect(await agentStatus(port)).to.deep.equal([]);
    const site = (await cli('sites', '--json')).json<Site[]>()[0] as Site;
    for (const n of site.nodes) expect(n.freeCpus).to.equal(n.cpus);
    expect((await cli('addresses', '--json')).json<Lease[]>().map((l) => l.ip)).to.deep.equal(job.vms.map((v) => v.ip));
    expect((await cli('snapshot', job.id)).code).to.equal(4);

    const r = await cli('resume', job.id, '--json');
    expect(r.code, r.stderr).to.equal(0);
    const resumed = r.json<Job>();
    expect(resumed.state).to.equal('RUNNING');
    expect(resumed.vms.map((v) => [v.name, v.mac, v.ip])).to.deep.equal(job.vms.map((v) => [v.name, v.mac, v.ip]));
    const status = (await agentStatus(port)).find((c) => c.jobId === job.id);
    expect(status?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(resumed.history.map((h) => h.state).slice(-4)).to.deep.equal(['SUSPENDING', 'SUSPENDED', 'RESUMING', 'RUNNING']);
    expect((await cli('resume', job.id)).code).to.equal(4);
  });

  it('checkpoints a job periodically as its --checkpoint-every says', async () => {
    const job = await submit('tick', '--checkpoint-every', '2s');
    const snaps = await waitFor('two periodic snapshots', async () => {
      const l = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>();
      return l.length >= 2 && l;
    }, 30_000, 500);
    expect(snaps.every((s) => s.kind === 'checkpoint')).to.equal(true);
    const shown = (await cli('show', job.id, '--json')).json<Job>();
    expect(shown.history.some((h) => /periodic, every 2s/.test(h.reason))).to.equal(true);
  });

  /** Damages one chunk of `vm`'s memory file in snapshot `id` at `site`: flips a byte, or deletes the chunk. */
  function damageChunk(site: string, id: string, vm: string, how: 'flip' | 'delete'): string {
    const store = join(grid.siteDataDir(site), 'store');
    const m = JSON.parse(readFileSync(join(store, 'manifests', `${id}.json`), 'utf8')) as { files: Array<{ name: string; chunks: Array<{ hash: string }> }> };
    const hash = m.files.find((f) => f.name === `${vm}/memory`)?.chunks[0]?.hash as string;
    if (how === 'delete') removePackOf(store, hash);
    else flipStoredByte(store, hash, -1);
    return hash;
  }

  it('a corrupt or missing chunk marks the copy damaged: never restored from, and the next resume says which older snapshot it would use', async () => {
    const job = await submit('dmg');
    const first = (await cli('snapshot', job.id, '--json')).json<Snapshot>();
    const r = await cli('suspend', job.id, '--json');
    expect(r.code, r.stderr).to.equal(0);
    const last = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>().at(-1) as Snapshot;
    expect(last.kind).to.equal('suspend');
    // the suspend wrote only new chunks; the memory images differ from the checkpoint's (the
    // test driver's save image is the domain XML with its state), so this damages `last` only
    const hash = damageChunk('site-a', last.id, 'dmg-1', 'flip');

    const res = await cli('resume', job.id);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.include(`snapshot ${last.id} is damaged`).and.include(hash);
    const after = (await cli('show', job.id, '--json')).json<Job>();
    expect(after.state).to.equal('SUSPENDED');
    expect(after.history.at(-1)?.reason).to.include(`resumes from the older snapshot ${first.id}`);
    expect((await agentStatus(grid.sitePorts.get('site-a') as number)).filter((c) => c.jobId === job.id)).to.deep.equal([]);
    const listed = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>();
    expect(listed.find((s) => s.id === last.id)).to.deep.include({ damaged: true, sites: [], damagedSites: ['site-a'] });
    expect(listed.find((s) => s.id === first.id)).to.deep.include({ damaged: false, sites: ['site-a'] });
    expect((await cli('snapshots', job.id)).stdout).to.match(new RegExp(`${last.id}.*yes\\s*$`, 'm'));

    // the retry takes the older intact snapshot; a missing chunk there is reported the same way
    damageChunk('site-a', first.id, 'dmg-0', 'delete');
    const again = await cli('resume', job.id);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include(`snapshot ${first.id} is damaged`).and.include('missing');
    expect((await cli('show', job.id, '--json')).json<Job>().history.at(-1)?.reason).to.include('no intact snapshot of it is left on site-a');
    expect((await cli('resume', job.id)).code).to.equal(4); // nothing left to resume from
  });

  it('a transfer that meets a damaged chunk at its source marks that copy damaged; the move is rolled back', async () => {
    await grid.startAgent({ name: 'site-b' });
    const job = await submit('far');
    expect((await cli('suspend', job.id)).code).to.equal(0);
    const snap = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>().at(-1) as Snapshot;
    damageChunk('site-a', snap.id, 'far-2', 'flip');
    const r = await cli('resume', job.id, '--site', 'site-b', '--json');
    expect(r.code).to.equal(1);
    expect(r.json<{ error: { code: string; message: string } }>().error).to.deep.include({ code: 'MOVE_FAILED' });
    expect(r.json<{ error: { code: string; message: string } }>().error.message).to.include('was not resumed on site-b');
    const after = (await cli('show', job.id, '--json')).json<Job>();
    expect(after).to.deep.include({ state: 'SUSPENDED', site: 'site-a', subnet: job.subnet });
    expect(after.history.at(-1)?.reason).to.match(/no intact copy of snapshot .* could be sent to site-b \(tried site-a\)/);
    expect((await cli('snapshots', job.id, '--json')).json<Snapshot[]>().at(-1)).to.deep.include({ damaged: true, sites: [], damagedSites: ['site-a'] });
    const leases = (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.job === job.id);
    expect(leases.every((l) => l.site === 'site-a')).to.equal(true);
  });

  it('a job that gives no interval follows the snapshots.every of the site it is placed on', async () => {
    // site-b has more room, so an unpinned job goes there; its site default is 2s, site-a's 30m
    await grid.startAgent({ name: 'site-b', nodes: [{ name: 'b1', cpus: 32, memoryMiB: 65536 }], extra: 'snapshots: { every: 2s }' });
    const r = await cli('submit', '--name', 'dflt', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--wait', '--json');
    expect(r.code, r.stderr).to.equal(0);
    const job = (await cli('show', r.json<Job>().id, '--json')).json<Job>();
    expect(job.site).to.equal('site-b');
    expect(job.checkpointEvery).to.equal('2s');
    await waitFor('two periodic snapshots at site-b’s interval', async () => (await cli('snapshots', job.id, '--json')).json<Snapshot[]>().length >= 2, 30_000, 500);
    // an interval given at submit stays the job's wherever it runs
    const pinned = (await cli('submit', '--name', 'mine', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--checkpoint-every', '1h', '--wait', '--json')).json<Job>();
    expect((await cli('show', pinned.id, '--json')).json<Job>()).to.deep.include({ site: 'site-b', checkpointEvery: '1h' });
  });
});
