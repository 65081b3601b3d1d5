// Issue 6 through the whole stack on the embedded default: moves between sites (migrate, resume
// elsewhere), their rollback, and preemption by a site's batch scheduler (reclaim/release), with
// real coordinator and agent processes and the real CLI.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_BIN, CLI_REPO_ROOT, runCli, spawnCli } from '../helpers/cli.js';
import { ADMIN_FILES, cliEnv } from '../helpers/pki.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import { type Job, type Lease, type Site, type Snapshot } from '../../src/shared/proto.js';

const inSubnet = (ip: string, prefix: string): boolean => ip.startsWith(prefix);

/** Incompressible bytes (the store compresses chunks: zeros would travel as nothing). */
function noise(seed: number, n: number): Buffer {
  const key = createHash('sha256').update(`seed:${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/**
 * Runs `shell` under a pseudo-terminal (util-linux `script`), so the CLI sees a TTY on stdout and
 * stderr; resolves with the exit code and everything the terminal received (both streams).
 */
function runInPty(shell: string, timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', ...cliEnv(ADMIN_FILES) };
  delete env.BRINE_COORDINATOR;
  // a pipe kept open as stdin: `script` ends the session when its input reaches EOF
  const child = spawn('script', ['-qec', shell, '/dev/null'], { cwd: CLI_REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${shell} did not finish within ${timeoutMs} ms\n${out}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, out });
    });
  });
}

const shellQuote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

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
      // pre-copy: a checkpoint went to site-b while the job ran, before the final snapshot
      const pre = snaps.at(-2) as Snapshot;
      expect(pre).to.deep.include({ kind: 'checkpoint' });
      expect(pre.sites.sort()).to.deep.equal(['site-a', 'site-b']);
      const relocating = moved.history.filter((h) => h.state === 'RELOCATING').map((h) => h.reason);
      expect(relocating[0]).to.include(`pre-copy checkpoint ${pre.id} sent while it runs, then final snapshot ${snaps.at(-1)?.id} on site-a`);
      expect(relocating[1]).to.match(new RegExp(`^pre-copy ${pre.id} .* is on site-b; final snapshot on site-a next$`));

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

    it('migrate --no-precopy goes straight to the final snapshot', async () => {
      const job = await submit('direct', 1);
      const r = await cli('migrate', job.id, '--to', 'site-b', '--no-precopy', '--json');
      expect(r.code, r.stderr).to.equal(0);
      const snaps = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>();
      expect(snaps.map((s) => s.kind)).to.deep.equal(['suspend']);
      const moved = r.json<Job>();
      expect(moved.history.some((h) => /pre-copy/.test(h.reason))).to.equal(false);
      expect(moved.history.find((h) => h.state === 'RELOCATING')?.reason).to.match(/: final snapshot \S+ on site-a; new subnet/);
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

    it('rolls back when the transfer succeeds but the restore at the destination fails: back RUNNING at the origin on its old addresses', async () => {
      const job = await submit('rbr');
      // A real, deterministic failure of the restore step only: the restore stages its files in
      // <dataDir>/work/restore-<id> (mkdir fails with ENOTDIR when work is a file); the transfer
      // writes only under <dataDir>/store, and site-b captures nothing during the move.
      const work = join(grid.siteDataDir('site-b'), 'work');
      rmSync(work, { recursive: true, force: true });
      writeFileSync(work, 'not a directory\n');
      const r = await cli('migrate', job.id, '--to', 'site-b', '--json');
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/was not moved to site-b and is (SUSPENDED|RESUMING|RUNNING) on site-a: move to site-b failed \(restore on site-b failed: .*ENOTDIR/);
      expect(r.json<{ error: { code: string }; job: Job }>().error.code).to.equal('MOVE_FAILED');

      const after = await waitFor('the job back RUNNING on site-a', async () => {
        const j = await show(job.id);
        return j.state === 'RUNNING' && j;
      }, 30_000);
      expect(after.site).to.equal('site-a');
      expect(after.subnet).to.equal(job.subnet);
      expect(after.gateway).to.equal(job.gateway);
      expect(after.vms.map((v) => [v.name, v.mac, v.ip])).to.deep.equal(job.vms.map((v) => [v.name, v.mac, v.ip]));
      const h = after.history.map((x) => `${x.state}: ${x.reason}`);
      // it got as far as the restore (the transfer worked), then failed there and came back
      expect(h.some((x) => /^RESUMING: restoring on site-b /.test(x)), h.join('\n')).to.equal(true);
      expect(
        h.some((x) => /^SUSPENDED: move to site-b failed \(restore on site-b failed: .*\); back on site-a with its old addresses, snapshot \S+ intact; resuming it/.test(x)),
        h.join('\n'),
      ).to.equal(true);
      expect(after.history.at(-1)?.state).to.equal('RUNNING');
      const snaps = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>();
      expect(snaps.at(-1)?.kind).to.equal('suspend');
      expect(snaps.at(-1)?.damaged).to.equal(false);
      expect(snaps.at(-1)?.sites).to.include('site-a');

      // site-b's leases for the job are gone (released once its agent confirmed the destroy)
      const leases = await waitFor('site-b leases gone', async () => {
        const l = (await cli('addresses', '--json')).json<Lease[]>().filter((x) => x.job === job.id);
        return l.every((x) => x.site === 'site-a') && l;
      });
      expect(leases.map((l) => [l.vm, l.mac, l.ip, l.state])).to.deep.equal(job.vms.map((v) => [v.name, v.mac, v.ip, 'active']));
      // site-b holds nothing of it; site-a runs it on its old MACs and IPs
      expect((await agentStatus(port('site-b'), { includeNetworkXml: true })).filter((c) => c.jobId === job.id)).to.deep.equal([]);
      const atA = (await agentStatus(port('site-a'), { includeNetworkXml: true })).find((c) => c.jobId === job.id);
      expect(atA?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING']);
      for (const vm of job.vms) {
        expect(atA?.networkXml).to.include(vm.mac);
        expect(atA?.networkXml).to.include(vm.ip);
      }
      // no address live twice anywhere in the grid
      const all = (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.state !== 'releasing');
      expect(new Set(all.map((l) => l.ip)).size).to.equal(all.length);
      expect(new Set(all.map((l) => l.mac)).size).to.equal(all.length);

      // with its work dir back, site-b takes the job: the rollback left nothing in the way
      rmSync(work, { force: true });
      mkdirSync(work);
      const again = await cli('migrate', job.id, '--to', 'site-b', '--json');
      expect(again.code, again.stderr).to.equal(0);
      expect(again.json<Job>()).to.deep.include({ state: 'RUNNING', site: 'site-b' });
    });

    it('draws the transfer progress bar of migrate on a terminal, then prints the result line', async () => {
      const job = await submit('bar');
      // The test driver's save images are a few KiB: give each VM's console (which the snapshot
      // carries) 2 MiB of incompressible output, so the transfer counts whole MiB.
      for (const [i, vm] of job.vms.entries()) {
        expect(vm.console).to.not.equal('');
        writeFileSync(vm.console, noise(50 + i, 2 * 1024 * 1024));
        expect(statSync(vm.console).size).to.equal(2 * 1024 * 1024);
      }
      const cmd = [process.execPath, CLI_BIN, '--coordinator', grid.coordinator, 'migrate', job.id, '--to', 'site-b'].map(shellQuote).join(' ');
      // a wide terminal: cli-progress crops its line to the terminal's width
      const r = await runInPty(`stty cols 250 rows 50; exec ${cmd}`);
      const text = r.out.replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, ''); // CSI sequences, cursor save/restore
      expect(r.code, text).to.equal(0);
      // a running job's move sends a pre-copy checkpoint first, then the final snapshot: a bar each
      const [pre, snap] = (await cli('snapshots', job.id, '--json')).json<Snapshot[]>().slice(-2) as [Snapshot, Snapshot];
      expect([pre.kind, snap.kind]).to.deep.equal(['checkpoint', 'suspend']);
      expect(pre.totalBytes).to.be.greaterThan(4 * 1024 * 1024);
      const frames = text.split(/[\r\n]+/).filter((l) => l.includes('sending '));
      const preFrames = frames.filter((f) => f.includes(`sending ${pre.id} to site-b`));
      const finalFrames = frames.filter((f) => f.includes(`sending ${snap.id} to site-b`));
      expect(preFrames.length + finalFrames.length, text).to.equal(frames.length);
      expect(frames.findIndex((f) => f.includes(snap.id)), text).to.be.greaterThan(frames.findLastIndex((f) => f.includes(pre.id)));
      expect(preFrames.some((f) => /\b100%/.test(f)), text).to.equal(true);
      expect(finalFrames.some((f) => /\b100%/.test(f)), text).to.equal(true);
      const moved = await show(job.id);
      expect(moved.site).to.equal('site-b');
      const lines = text.split(/[\r\n]+/).map((l) => l.trim()).filter((l) => l !== '');
      expect(lines.at(-1), text).to.equal(`job ${job.id} is RUNNING on site-b, subnet ${moved.subnet}: ${moved.vms.map((v) => `${v.name} ${v.ip} ${v.mac}`).join(', ')}`);
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
