// `brine output` and `submit --output-disk` (issue 12 point 3) on the test driver: each VM gets a
// real qcow2 ext4 output disk, which snapshots carry (it moves with the job) and the site keeps
// after the job ends; `brine output` copies its files out through the coordinator. The test
// driver's guests write nothing, so the test writes into the disk as a guest would.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../../src/shared/proto.js';
import { domainName } from '../../site-agent/domain-xml.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { TestGrid, waitFor } from '../helpers/grid.js';
import { writeIntoOutputDisk } from '../helpers/output-disk.js';

describe('brine output: output disks that move with the job and come back after it ends', function () {
  this.timeout(180_000);
  let grid: TestGrid;
  const cli = (...args: string[]): Promise<CliResult> => runCli(['--coordinator', grid.coordinator, ...args]);
  const show = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();
  const diskOf = (site: string, id: string, vm: string): string => join(grid.siteDataDir(site), 'disks', `${domainName(id, vm)}.output.qcow2`);

  before(async () => {
    grid = new TestGrid();
    await grid.startCoordinator({ extra: 'jobs:\n  checkpointEvery: 1h\n' });
    await grid.startAgent({ name: 'site-a' });
    // site-b allows output disks up to 64 MiB only
    await grid.startAgent({ name: 'site-b', extra: 'outputDisk: { max: 64MiB }' });
  });
  after(async function () {
    await grid?.close(this.currentTest?.state === 'failed');
  });

  it('refuses sizes no site allows, naming the flag, and creates nothing', async () => {
    const before = (await cli('ls', '--all', '--json')).json<Job[]>().length;
    const big = await cli('submit', '--name', 'big', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--output-disk', '2GiB');
    expect(big.code, big.stderr).to.equal(2);
    expect(big.stderr).to.match(/--output-disk.*2048 MiB is more than any site allows.*largest: 1024 MiB/);
    const pinned = await cli('submit', '--name', 'big', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-b', '--output-disk', '128M');
    expect(pinned.code, pinned.stderr).to.equal(2);
    expect(pinned.stderr).to.match(/--output-disk.*site site-b.*largest: 64 MiB/);
    const garbage = await cli('submit', '--name', 'big', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--output-disk', 'lots');
    expect(garbage.code, garbage.stderr).to.equal(2);
    expect(garbage.stderr).to.include('--output-disk');
    expect((await cli('ls', '--all', '--json')).json<Job[]>().length).to.equal(before);
  });

  it('gives each VM a disk, carries it through a migrate, keeps it after cancel and copies its files out', async () => {
    const r = await cli('submit', '--name', 'od', '--vms', '2', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--output-disk', '32M', '--wait', '--json');
    expect(r.code, r.stderr).to.equal(0);
    const id = r.json<Job>().id;
    const job = await show(id);
    expect(job.outputDiskMiB).to.equal(32);
    expect(job.outputKeptUntil).to.equal('');
    expect((await cli('show', id)).stdout).to.match(/output disk:\s+32\.0 MiB per VM/);
    for (const vm of job.vms) expect(existsSync(diskOf('site-a', id, vm.name)), vm.name).to.equal(true);

    // while it runs: exit 4, saying when it can be read
    const early = await cli('output', id, '-o', join(grid.dir, 'early'));
    expect(early.code, early.stderr).to.equal(4);
    expect(early.stderr).to.match(/is RUNNING: its output disks are in use/);

    // the "guests" write their results at site-a, then the job moves to site-b (a checkpoint
    // there would be too late to catch a write after it: the move's own snapshot carries it)
    await writeIntoOutputDisk(diskOf('site-a', id, 'od-0'), { 'result.txt': 'sum=42\n', 'run/steps.log': 'step 1\nstep 2\n' });
    await writeIntoOutputDisk(diskOf('site-a', id, 'od-1'), { 'result.txt': 'sum=43\n' });
    const moved = await cli('migrate', id, '--to', 'site-b', '--json');
    expect(moved.code, moved.stderr).to.equal(0);
    expect((await show(id)).site).to.equal('site-b');
    await waitFor('site-a to drop its copy', () => !existsSync(diskOf('site-a', id, 'od-0')), 20_000, 200);
    expect(existsSync(diskOf('site-b', id, 'od-0'))).to.equal(true);
    await writeIntoOutputDisk(diskOf('site-b', id, 'od-1'), { 'at-b.txt': 'written at site-b\n' });

    const cancelled = await cli('cancel', id);
    expect(cancelled.code, cancelled.stderr).to.equal(0);
    const ended = await waitFor('the output kept', async () => {
      const j = await show(id);
      return j.state === 'CANCELLED' && j.outputKeptUntil !== '' && j;
    }, 20_000, 200);
    // kept as long as the job's record (jobs.keepEndedFor, 7 days by default), at site-b
    const keptFor = Date.parse(ended.outputKeptUntil) - Date.now();
    expect(keptFor).to.be.within(7 * 86_400_000 - 60_000, 7 * 86_400_000);
    expect((await cli('show', id)).stdout).to.match(/kept at site-b until/);
    expect(existsSync(diskOf('site-b', id, 'od-0')), 'the VM file itself is gone').to.equal(false);

    const out = mkdtempSync(join(grid.dir, 'output-'));
    const all = await cli('output', id, '-o', out);
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout).to.match(/copied 4 files \(\d+ B\) of job/);
    expect(readFileSync(join(out, 'od-0', 'result.txt'), 'utf8')).to.equal('sum=42\n');
    expect(readFileSync(join(out, 'od-0', 'run', 'steps.log'), 'utf8')).to.equal('step 1\nstep 2\n');
    expect(readFileSync(join(out, 'od-1', 'result.txt'), 'utf8')).to.equal('sum=43\n');
    expect(readFileSync(join(out, 'od-1', 'at-b.txt'), 'utf8')).to.equal('written at site-b\n');
    expect(readdirSync(join(out, 'od-0')).sort(), 'no lost+found, no half files').to.deep.equal(['result.txt', 'run']);
    expect(statSync(join(out, 'od-0', 'result.txt')).mode & 0o777).to.equal(0o644);

    const one = mkdtempSync(join(grid.dir, 'output-'));
    const vm1 = await cli('output', id, '--vm', 'od-1', '-o', one, '--json');
    expect(vm1.code, vm1.stderr).to.equal(0);
    expect(vm1.json<{ files: Array<{ vm: string; path: string; bytes: number }> }>().files.map((l) => [l.vm, l.path, l.bytes])).to.deep.equal([
      ['od-1', 'at-b.txt', 18],
      ['od-1', 'result.txt', 7],
    ]);
    expect(existsSync(join(one, 'od-0'))).to.equal(false);

    const unknownVm = await cli('output', id, '--vm', 'nope', '-o', one);
    expect(unknownVm.code, unknownVm.stderr).to.equal(3);
    const unknownJob = await cli('output', 'no-such-job', '-o', one);
    expect(unknownJob.code, unknownJob.stderr).to.equal(3);
  });

  it('says a job submitted without an output disk has none (exit 3)', async () => {
    const r = await cli('submit', '--name', 'plain', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--wait', '--json');
    expect(r.code, r.stderr).to.equal(0);
    const id = r.json<Job>().id;
    expect((await cli('cancel', id)).code).to.equal(0);
    const none = await cli('output', id, '-o', join(grid.dir, 'none'));
    expect(none.code, none.stderr).to.equal(3);
    expect(none.stderr).to.include('has no output disk (submit it with --output-disk SIZE)');
  });
});
