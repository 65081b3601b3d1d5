import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, type JobRecord } from '../../src/coordinator/store.js';

describe('store (lowdb, group commit)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'brine-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function job(id: string): JobRecord {
    return {
      id, name: 'n', owner: 'o', state: 'PENDING', site: '', pinnedSite: '', subnet: '', gateway: '', vms: [], vmCount: 1, cpus: 1,
      memoryMiB: 64, image: 'tiny', checkpointEvery: '30m', lastSnapshot: '', createdAt: new Date().toISOString(), history: [], deployAttempts: 0,
    };
  }

  it('batches concurrent commits into few writes, and every commit is on disk when it resolves', async () => {
    const store = await Store.open(dir);
    const commits: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      store.data.jobs[`j${i}`] = job(`j${i}`);
      commits.push(store.commit().then(() => {
        const onDisk = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { jobs: Record<string, unknown> };
        expect(onDisk.jobs).to.have.property(`j${i}`);
      }));
    }
    await Promise.all(commits);
    expect(store.writes).to.be.greaterThan(0).and.lessThan(10);
  });

  it('reloads what was committed, and archives ended jobs out of the hot file', async () => {
    const store = await Store.open(dir);
    store.data.jobs.a = job('a');
    store.data.jobs.b = job('b');
    await store.commit();
    await store.archiveJob('a');
    const again = await Store.open(dir);
    expect(Object.keys(again.data.jobs)).to.deep.equal(['b']);
    expect(again.job('a')?.id).to.equal('a');
    expect(Object.keys(again.archived)).to.deep.equal(['a']);
  });
});
