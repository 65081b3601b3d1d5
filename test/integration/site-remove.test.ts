// `brine site remove S` (issue 11 point 2): an admin forgets a dead site and its pool is free again.
import { expect } from 'chai';
import type { Job, Site } from '../../src/shared/proto.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { TestGrid, waitFor } from '../helpers/grid.js';
import { ADMIN_FILES, cliEnv, credentials } from '../helpers/pki.js';
import type { CaFiles } from '../../src/shared/ca.js';

describe('site remove: an admin frees a dead site’s pool', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  const cli = (files: CaFiles, args: string[]): Promise<CliResult> => runCli(['--coordinator', grid.coordinator, ...args], { env: cliEnv(files) });
  const sites = async (): Promise<Site[]> => (await cli(ADMIN_FILES, ['sites', '--json'])).json<Site[]>();

  before(async () => {
    grid = new TestGrid();
    await grid.startCoordinator({ heartbeatTimeout: '2s', extra: 'jobs:\n  failoverAfter: never\n' });
    await grid.startAgent({ name: 'site-a' });
    await grid.startAgent({ name: 'site-b', subnetPool: '10.77.0.0/16' });
  });
  after(async function () {
    await grid?.close(this.currentTest?.state === 'failed');
  });

  it('refuses users, a site that is UP or holds a live job; then removes it and its pool serves a new site', async () => {
    const alice = await credentials('user', 'alice');
    const r = await cli(ADMIN_FILES, ['submit', '--name', 'pinned', '--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--wait', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const job = r.json<Job>();

    const asUser = await cli(alice, ['site', 'remove', 'site-b']);
    expect(asUser.code, asUser.stderr).to.equal(6);
    const up = await cli(ADMIN_FILES, ['site', 'remove', 'site-b']);
    expect(up.code, up.stderr).to.equal(4);
    expect(up.stderr).to.match(/site site-b is UP .*only a DOWN site can be removed/);
    const unknown = await cli(ADMIN_FILES, ['site', 'remove', 'site-z']);
    expect(unknown.code, unknown.stderr).to.equal(3);

    await grid.kill('site-a');
    await grid.kill('site-b');
    await waitFor('both sites DOWN', async () => (await sites()).every((s) => s.state === 'DOWN'), 20_000, 250);
    const busy = await cli(ADMIN_FILES, ['site', 'remove', 'site-a']);
    expect(busy.code, busy.stderr).to.equal(4);
    expect(busy.stderr).to.include(`still holds job ${job.id} (RUNNING)`);

    const ok = await cli(ADMIN_FILES, ['site', 'remove', 'site-b']);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/site site-b removed: pool 10\.77\.0\.0\/16/);
    expect((await sites()).map((s) => s.name)).to.deep.equal(['site-a']);
    // the pool is free: another site may take it now
    await grid.startAgent({ name: 'site-c', subnetPool: '10.77.0.0/16' });
    expect((await sites()).map((s) => [s.name, s.state])).to.deep.equal([
      ['site-a', 'DOWN'],
      ['site-c', 'UP'],
    ]);
  });
});
