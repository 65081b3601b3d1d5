// `brine logs` (issue 12 point 3): a job's consoles through the coordinator, whole across a move,
// followed live to the destination, and kept after the job ends. The test driver's guests print
// nothing, so the test appends to each VM's console file as a guest would.
import { expect } from 'chai';
import { appendFileSync } from 'node:fs';
import type { Job } from '../../src/shared/proto.js';
import { runCli, spawnCli, type CliResult } from '../helpers/cli.js';
import { TestGrid, waitFor } from '../helpers/grid.js';

describe('brine logs: consoles across moves, followed live, kept after the end', function () {
  this.timeout(180_000);
  let grid: TestGrid;
  const cli = (...args: string[]): Promise<CliResult> => runCli(['--coordinator', grid.coordinator, ...args]);
  const show = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();
  const consoleOf = async (id: string, vm: string): Promise<string> => {
    const path = (await show(id)).vms.find((v) => v.name === vm)?.console;
    if (!path) throw new Error(`no console path for ${vm}`);
    return path;
  };

  before(async () => {
    grid = new TestGrid();
    await grid.startCoordinator({ extra: 'jobs:\n  checkpointEvery: 1h\n' });
    await grid.startAgent({ name: 'site-a' });
    await grid.startAgent({ name: 'site-b' });
  });
  after(async function () {
    await grid?.close(this.currentTest?.state === 'failed');
  });

  it('prints each VM console, follows one across a migrate without repeating it, and keeps it after cancel', async () => {
    const r = await cli('submit', '--name', 'lg', '--vms', '2', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--wait', '--json');
    expect(r.code, r.stderr).to.equal(0);
    const id = r.json<Job>().id;
    appendFileSync(await consoleOf(id, 'lg-0'), 'boot lg-0\nresult 42\n');
    appendFileSync(await consoleOf(id, 'lg-1'), 'boot lg-1\n');

    const one = await cli('logs', id, '--vm', 'lg-0');
    expect(one.code, one.stderr).to.equal(0);
    expect(one.stdout).to.equal('boot lg-0\nresult 42\n');
    const all = await cli('logs', id);
    expect(all.stdout.split('\n').filter(Boolean).sort()).to.deep.equal(['lg-0 | boot lg-0', 'lg-0 | result 42', 'lg-1 | boot lg-1']);
    const json = (await cli('logs', id, '--vm', 'lg-1', '--json')).jsonLines<{ vm: string; site: string; line: string }>();
    expect(json).to.deep.equal([{ vm: 'lg-1', site: 'site-a', line: 'boot lg-1' }]);
    const unknown = await cli('logs', id, '--vm', 'nope');
    expect(unknown.code, unknown.stderr).to.equal(3);

    const follower = spawnCli(['--coordinator', grid.coordinator, 'logs', id, '--vm', 'lg-0', '-f'], { timeoutMs: 150_000 });
    try {
      await waitFor('the history', () => follower.stdout.includes('result 42'), 20_000, 100);
      appendFileSync(await consoleOf(id, 'lg-0'), 'still at a\n');
      await waitFor('the live line at site-a', () => follower.stdout.includes('still at a'), 20_000, 100);
      const moved = await cli('migrate', id, '--to', 'site-b', '--json');
      expect(moved.code, moved.stderr).to.equal(0);
      const atB = await consoleOf(id, 'lg-0');
      appendFileSync(atB, 'now at b\n');
      await waitFor('the live line at site-b', () => follower.stdout.includes('now at b'), 30_000, 100);
      expect(follower.stdout).to.equal('boot lg-0\nresult 42\nstill at a\nnow at b\n');
    } finally {
      follower.child.kill('SIGINT');
      await follower.result;
    }

    const cancelled = await cli('cancel', id);
    expect(cancelled.code, cancelled.stderr).to.equal(0);
    await waitFor('the job ended', async () => (await show(id)).state === 'CANCELLED', 20_000, 200);
    const after = await cli('logs', id, '--vm', 'lg-0');
    expect(after.code, after.stderr).to.equal(0);
    expect(after.stdout).to.equal('boot lg-0\nresult 42\nstill at a\nnow at b\n');
  });
});
