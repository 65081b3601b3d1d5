// The real brine-agent process refuses a bad address pool or MAC range from its config alone: exit
// 2 naming the key, before it writes anything (no coordinator is running, none is needed).
import { expect } from 'chai';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, TestGrid } from '../helpers/grid.js';

describe('brine-agent: a bad network config stops it before any write', function () {
  this.timeout(60_000);
  let grid: TestGrid;

  beforeEach(() => (grid = new TestGrid()));
  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  const cases: Array<[string, { subnetPool?: string; macRange?: string }, RegExp]> = [
    ['a /31 pool', { subnetPool: '10.150.0.0/31' }, /network\.subnetPool: 10\.150\.0\.0\/31 is too small/],
    ['a multicast MAC range', { macRange: '01:b1:00:00:00:00/32' }, /network\.macRange: .*multicast/],
    ['a globally administered MAC range', { macRange: '00:16:3e:00:00:00/24' }, /network\.macRange: .*globally administered/],
  ];
  for (const [what, network, message] of cases) {
    it(`${what} → exit 2 naming the key, and its data dir is never created`, async () => {
      const name = 'site-q';
      const file = join(grid.dir, `${name}.yaml`);
      writeFileSync(file, grid.siteConfig({ name, ...network }, await freePort()));
      const agent = grid.spawn(name, 'bin/brine-agent.js', ['--config', file]);
      expect(await agent.exited, agent.log).to.equal(2);
      expect(agent.log).to.match(/invalid config/).and.to.match(message);
      expect(existsSync(grid.siteDataDir(name)), 'the agent created its data dir').to.equal(false);
    });
  }

  it('a network.egress other than none or nat → exit 2 naming the key, and its data dir is never created', async () => {
    const name = 'site-q';
    const file = join(grid.dir, `${name}.yaml`);
    writeFileSync(file, grid.siteConfig({ name, subnetPool: '10.150.0.0/22', macRange: '02:b1:30:00:00:00/32', egress: 'nat' }, await freePort()).replace('  egress: nat', '  egress: open'));
    const agent = grid.spawn(name, 'bin/brine-agent.js', ['--config', file]);
    expect(await agent.exited, agent.log).to.equal(2);
    expect(agent.log).to.match(/invalid config/).and.to.match(/network\.egress: must be none or nat/);
    expect(existsSync(grid.siteDataDir(name)), 'the agent created its data dir').to.equal(false);
  });
});
