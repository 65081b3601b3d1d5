// The real-Slurm tier (issue 13), run by scripts/test-slurm.sh, which has started munged, slurmctld
// and slurmd a1, a2, a3 (SLURM_CONF) with the shipped hooks installed in BRINE_SLURM_DIR/hooks,
// reading BRINE_SLURM_DIR/brine-hooks.conf. Here: a brine grid on loopback (site-a = a1, a2 on
// libvirt's test driver; a3 is a Slurm node brine does not manage), and real Slurm jobs.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestGrid, waitFor } from '../helpers/grid.js';
import { runCli } from '../helpers/cli.js';
import { CA_CERT, credentials } from '../helpers/pki.js';
import type { Job, Snapshot } from '../../src/shared/proto.js';

const run = promisify(execFile);
const DIR = process.env.BRINE_SLURM_DIR ?? '';
const LOG = join(DIR, 'log', 'brine-hooks.log'); // log/ belongs to SlurmUser
const SITE_A = { name: 'site-a', nodes: [{ name: 'a1', cpus: 4, memoryMiB: 4096 }, { name: 'a2', cpus: 4, memoryMiB: 4096 }] };
const SITE_B = { name: 'site-b', nodes: [{ name: 'b1', cpus: 8, memoryMiB: 8192 }] };

/** A Slurm batch job on `nodes` whose first line records its start (ms since the epoch). */
async function sbatch(nodes: string): Promise<string> {
  const count = nodes.split(',').length;
  const { stdout } = await run('sbatch', ['--parsable', '-N', String(count), '-w', nodes, '-o', join(DIR, 'out-%j'), '--wrap', `date +%s%3N > ${DIR}/start-$SLURM_JOB_ID; sleep 1`]);
  return stdout.trim().split(';')[0] ?? '';
}

async function slurmState(id: string): Promise<{ state: string; reason: string }> {
  const { stdout } = await run('scontrol', ['show', 'job', '-o', id]);
  return { state: /JobState=(\S+)/.exec(stdout)?.[1] ?? '?', reason: /Reason=(\S+)/.exec(stdout)?.[1] ?? '' };
}

function startedAt(id: string): number | undefined {
  const file = join(DIR, `start-${id}`);
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
}

/** The hooks' log lines about Slurm job `id`. */
function hookLines(id: string): string[] {
  if (!existsSync(LOG)) return [];
  return readFileSync(LOG, 'utf8').split('\n').filter((l) => l.includes(` job=${id} `));
}

describe('Slurm hooks against a real slurmctld (contrib/slurm)', function () {
  let grid: TestGrid;
  let failed = false;

  const cli = async <T>(args: string[]): Promise<T> => {
    const r = await runCli(['--coordinator', grid.coordinator, '--json', ...args]);
    if (r.code !== 0) throw new Error(`brine ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.json<T>();
  };
  const job = (id: string): Promise<Job> => cli<Job>(['show', id]);
  const submit = async (name: string, vms: number): Promise<Job> =>
    cli<Job>(['submit', '--name', name, '--vms', String(vms), '--cpus', '4', '--memory', '256', '--image', 'tiny', '--wait', '--timeout', '30s']);
  // the site's credentials where SlurmUser can read them (the test PKI's dir is private to root)
  let creds = '';
  const settings = (policy: 'fail-open' | 'fail-closed'): void =>
    writeFileSync(
      join(DIR, 'brine-hooks.conf'),
      `${creds}BRINE_SITE=site-a\nBRINE_COORDINATOR=${grid.coordinator}\nBRINE_AGENT=127.0.0.1:${grid.sitePorts.get('site-a')}\nBRINE_GRACE=30s\nBRINE_POLICY=${policy}\nBRINE_LOG=${LOG}\nSLURM_CONF=${process.env.SLURM_CONF ?? ''}\n`,
    );
  const finished = (id: string): Promise<string> =>
    waitFor(`Slurm job ${id} to finish`, async () => {
      const { state } = await slurmState(id);
      return ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL'].includes(state) ? state : undefined;
    }, 60_000, 200);
  const epilogDone = (id: string): Promise<string> => waitFor(`the epilog of ${id}`, () => hookLines(id).find((l) => l.includes(' epilog ')), 30_000);

  before(async function () {
    if (!DIR) throw new Error('BRINE_SLURM_DIR is not set: run this tier through scripts/test-slurm.sh');
    grid = new TestGrid();
    await grid.startCoordinator();
    await grid.startAgent(SITE_A);
    const site = await credentials('site', 'site-a');
    const dir = join(DIR, 'credentials');
    mkdirSync(dir, { recursive: true });
    for (const [name, from] of [['ca.crt', CA_CERT], ['site.crt', site.cert], ['site.key', site.key]] as const) {
      copyFileSync(from, join(dir, name));
      chmodSync(join(dir, name), 0o644);
    }
    creds = `BRINE_CA=${join(dir, 'ca.crt')}\nBRINE_CERT=${join(dir, 'site.crt')}\nBRINE_KEY=${join(dir, 'site.key')}\n`;
    settings('fail-closed');
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      failed = true;
      process.stderr.write(`----- hooks log -----\n${existsSync(LOG) ? readFileSync(LOG, 'utf8') : '(none)'}\n`);
    }
  });
  after(async () => {
    // the hooks' own lines (with their timings): what an operator would read
    if (existsSync(LOG)) process.stdout.write(`\n  hooks log:\n${readFileSync(LOG, 'utf8').replace(/^/gm, '    ')}\n`);
    await grid?.close(failed);
  });

  it('sbatch -w on a node with brine VMs: the snapshot is durable before the Slurm job starts; the epilog releases; the brine job runs again', async () => {
    const j = await submit('slurm-one', 1);
    const node = j.vms[0]?.node ?? '';
    expect(['a1', 'a2']).to.include(node);
    const id = await sbatch(node);
    expect(await finished(id)).to.equal('COMPLETED');
    const start = startedAt(id);
    expect(start, 'the Slurm job ran').to.be.a('number');
    const snaps = await cli<Snapshot[]>(['snapshots', j.id]);
    const suspended = (await job(j.id)).history.find((h) => h.state === 'SUSPENDED');
    expect(suspended, 'the brine job was suspended').to.not.equal(undefined);
    // SUSPENDED is recorded only once the suspend snapshot is complete on disk
    expect(Date.parse(suspended?.at ?? '')).to.be.lessThan(start ?? 0);
    expect(snaps.length).to.be.greaterThan(0);
    expect(hookLines(id).find((l) => l.includes(' prolog '))).to.match(/brine_exit=0 hook_exit=0 ms=\d+ .* ok \|/);
    expect(await epilogDone(id)).to.match(/brine_exit=0 hook_exit=0 .* ok \|/);
    const again = await waitFor('the brine job to run again', async () => {
      const now = await job(j.id);
      return now.state === 'RUNNING' ? now : undefined;
    }, 30_000);
    expect(again.vms.every((v) => v.node !== '')).to.equal(true);
    const site = (await cli<Array<{ name: string; nodes: Array<{ name: string; state: string }> }>>(['sites'])).find((s) => s.name === 'site-a');
    expect(site?.nodes.find((n) => n.name === node)?.state).to.not.match(/RECLAIM/i);
    await cli(['cancel', j.id]);
  });

  it('two Slurm jobs on the two nodes of one brine job at once: the brine job is suspended once and moves to site-b', async () => {
    const j = await submit('slurm-two', 2); // 2 × 4 cpus: one VM on a1, one on a2
    expect(j.vms.map((v) => v.node).sort()).to.deep.equal(['a1', 'a2']);
    await grid.startAgent(SITE_B); // only now: room elsewhere for the move
    const [x, y] = await Promise.all([sbatch('a1'), sbatch('a2')]);
    expect(await finished(x)).to.equal('COMPLETED');
    expect(await finished(y)).to.equal('COMPLETED');
    const h = (await job(j.id)).history;
    expect(h.filter((t) => t.state === 'SUSPENDED').length, JSON.stringify(h)).to.equal(1);
    for (const id of [x, y]) expect(Date.parse(h.find((t) => t.state === 'SUSPENDED')?.at ?? '')).to.be.lessThan(startedAt(id) ?? 0);
    const moved = await waitFor('the brine job to run on site-b', async () => {
      const now = await job(j.id);
      return now.state === 'RUNNING' ? now : undefined;
    }, 30_000);
    expect(moved.site).to.equal('site-b');
    await Promise.all([epilogDone(x), epilogDone(y)]);
    await cli(['cancel', j.id]);
  });

  it('a node list with a node brine does not manage: that node is ignored, one line; the job starts', async () => {
    const id = await sbatch('a1,a3');
    expect(await finished(id)).to.equal('COMPLETED');
    const prolog = hookLines(id).find((l) => l.includes(' prolog ')) ?? '';
    expect(prolog).to.match(/nodes=a1,a3 brine_exit=0 hook_exit=0/);
    expect(prolog).to.include('ignoring a3: not node of site-a');
    const only = await sbatch('a3');
    expect(await finished(only)).to.equal('COMPLETED');
    expect(hookLines(only).find((l) => l.includes(' prolog '))).to.include('nothing to do');
  });

  describe('the coordinator down: the site\'s agent reclaims', () => {
    let j: Job;
    let busy = '';
    let idle = '';
    before(async () => {
      j = await submit('slurm-down', 1);
      busy = j.vms[0]?.node ?? '';
      idle = busy === 'a1' ? 'a2' : 'a1';
      expect(j.site).to.equal('site-a');
      await grid.kill('coordinator');
    });

    // nested describes run in order, after any `it` of their parent: each step is one
    describe('the agent up', () => {
    it('a node with brine VMs: the agent suspends them (snapshot durable before the Slurm job starts); the epilog reopens the node through the agent', async () => {
      settings('fail-closed');
      const id = await sbatch(busy);
      expect(await finished(id)).to.equal('COMPLETED');
      const prolog = hookLines(id).find((l) => l.includes(' prolog ')) ?? '';
      expect(prolog).to.match(/brine_exit=0 hook_exit=0 .* ok \|/);
      expect(prolog).to.include(`job ${j.id}: suspended by the site's agent; snapshot l`);
      const snapshot = /snapshot (l\w+) complete on disk/.exec(prolog)?.[1] ?? '';
      // the manifest is written last: its time is when the snapshot became durable
      const manifest = join(grid.siteDataDir('site-a'), 'store', 'manifests', `${snapshot}.json`);
      expect(existsSync(manifest), manifest).to.equal(true);
      expect(statSync(manifest).mtimeMs).to.be.lessThan(startedAt(id) ?? 0);
      expect(await epilogDone(id)).to.match(/brine_exit=0 hook_exit=0 .* ok \| .*opened/);
    });

    it('a node without brine VMs is handed over at once (the agent closes it, nothing to save)', async () => {
      settings('fail-closed');
      const id = await sbatch(idle);
      expect(await finished(id)).to.equal('COMPLETED');
      expect(hookLines(id).find((l) => l.includes(' prolog '))).to.match(/brine_exit=0 hook_exit=0 .*runs no brine VM/);
      await epilogDone(id);
    });
    });

    describe('and the agent down too: the policy decides', () => {
      before(async () => {
        await grid.kill('site-a', 'SIGTERM');
      });

      it('fail-closed: the node is not handed over (the batch job is requeued)', async () => {
        settings('fail-closed');
        const id = await sbatch(busy);
        const prolog = await waitFor('the prolog', () => hookLines(id).find((l) => l.includes(' prolog ')), 30_000);
        expect(prolog).to.match(/brine_exit=5 hook_exit=1 .*fail-closed/);
        expect(prolog).to.include('did not answer either');
        const { state } = await slurmState(id);
        expect(state).to.not.be.oneOf(['RUNNING', 'COMPLETED']);
        expect(startedAt(id), 'the Slurm job never started').to.equal(undefined);
        await run('scancel', [id]);
      });

      it('fail-open: the job starts and the line says the VMs were NOT saved', async () => {
        settings('fail-open');
        const id = await sbatch(busy);
        expect(await finished(id)).to.equal('COMPLETED');
        expect(hookLines(id).find((l) => l.includes(' prolog '))).to.match(/brine_exit=5 hook_exit=0 .*fail-open: the job starts; brine VMs on these nodes were NOT saved/);
      });
    });

    describe('both back', () => {
    it('the coordinator has the job SUSPENDED on the agent\'s snapshot and resumes it, once', async () => {
      await grid.startAgent(SITE_A, { waitRegistered: false });
      await grid.startCoordinator();
      const again = await waitFor('the brine job to run again', async () => {
        const now = await job(j.id).catch(() => undefined);
        return now?.state === 'RUNNING' && now.history.some((h) => h.reason.includes("suspended by the site's agent")) ? now : undefined;
      }, 60_000);
      // one suspend (SUSPENDED may recur in the history: each new reason for waiting is a line)
      expect(again.history.filter((h) => h.state === 'SUSPENDING'), JSON.stringify(again.history)).to.have.length(1);
      await cli(['cancel', j.id]);
    });
    });
  });
});
