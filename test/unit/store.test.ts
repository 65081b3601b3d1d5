import { expect } from 'chai';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, StateFileError, type JobRecord } from '../../src/coordinator/store.js';
import { decodeJournal } from '../../src/coordinator/journal.js';
import { clonePlain } from '../../src/coordinator/tracked.js';
import type { ClusterLease } from '../../src/coordinator/address-allocator.js';
import type { Logger } from '../../src/shared/logger.js';

function job(id: string): JobRecord {
  return {
    id, name: 'n', owner: 'o', state: 'PENDING', site: '', pinnedSite: '', subnet: '', gateway: '', vms: [], vmCount: 1, cpus: 1,
    memoryMiB: 64, image: 'tiny', checkpointEvery: '30m', lastSnapshot: '', createdAt: new Date().toISOString(), history: [], deployAttempts: 0,
  };
}

function capturingLog(lines: string[]): Logger {
  const log = (level: string) => (obj: object, msg?: string) => lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
  const l = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => l };
  return l as unknown as Logger;
}

describe('store (journal, group commit, compaction)', () => {
  let dir: string;
  const open: Store[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'brine-store-'))));
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const openStore = async (d = dir, options: Parameters<typeof Store.open>[1] = {}): Promise<Store> => {
    const s = await Store.open(d, options);
    open.push(s);
    return s;
  };
  const journalOnDisk = (d = dir) => {
    const files = readdirSync(d).filter((f) => f.startsWith('journal.'));
    return files.flatMap((f) => decodeJournal(f, readFileSync(join(d, f))).records);
  };

  it('batches concurrent commits into few records, and every commit is in the journal when it resolves', async () => {
    const store = await openStore();
    const commits: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      store.data.jobs[`j${i}`] = job(`j${i}`);
      commits.push(store.commit().then(() => {
        const ids = journalOnDisk().flatMap((r) => Object.keys(r.jobs?.put ?? {}));
        expect(ids).to.include(`j${i}`);
      }));
    }
    await Promise.all(commits);
    expect(store.writes).to.be.greaterThan(0).and.lessThan(10);
  });

  it('journals only what changed: a nested change writes that one job', async () => {
    const store = await openStore();
    for (let i = 0; i < 50; i++) store.data.jobs[`j${i}`] = job(`j${i}`);
    await store.commit();
    const j7 = store.data.jobs.j7 as JobRecord;
    j7.vms.push({ name: 'v', node: 'n1', mac: 'm', ip: 'i', state: 'PENDING', domain: '', console: '' });
    await store.commit();
    (store.data.jobs.j7 as JobRecord).vms[0]!.state = 'RUNNING';
    store.data.jobs.j9!.history.push({ at: 'now', state: 'PENDING', reason: 'x' });
    await store.commit();
    const records = journalOnDisk();
    expect(records).to.have.length(3);
    expect(Object.keys(records[1]?.jobs?.put ?? {})).to.deep.equal(['j7']);
    expect(Object.keys(records[2]?.jobs?.put ?? {}).sort()).to.deep.equal(['j7', 'j9']);
    const again = await openStore(dir);
    expect(again.data.jobs.j7?.vms[0]?.state).to.equal('RUNNING');
    expect(again.data.jobs.j9?.history).to.have.length(1);
  });

  it('reads give one proxy per object (identity holds); clonePlain copies them as plain objects', async () => {
    const store = await openStore();
    store.data.jobs.a = job('a');
    const a1 = store.data.jobs.a as JobRecord;
    const a2 = Object.values(store.data.jobs)[0] as JobRecord;
    expect(a1).to.equal(a2);
    expect(a1.vms).to.equal(a2.vms);
    a1.vms.push({ name: 'v', node: 'n', mac: 'm', ip: 'i', state: 'PENDING', domain: '', console: '' });
    expect(() => structuredClone(a1.vms)).to.throw(); // why clonePlain exists
    const copy = structuredClone(clonePlain(a1.vms));
    copy[0]!.state = 'CHANGED';
    expect(a1.vms[0]?.state).to.equal('PENDING');
  });

  it('journals leases by identity: only new or changed ones, and removals', async () => {
    const store = await openStore();
    const lease = (jobId: string, state: ClusterLease['state']): ClusterLease => Object.freeze({ site: 's', job: jobId, subnet: '10.0.0.0/29', gateway: '10.0.0.1', vms: [], state });
    const a = lease('a', 'reserved');
    const b = lease('b', 'reserved');
    store.data.leases = [a, b];
    await store.commit();
    store.data.leases = [a, lease('b', 'active')];
    await store.commit();
    store.data.leases = [a];
    await store.commit();
    const records = journalOnDisk();
    expect(records[1]?.leases?.put?.map((l) => l.job)).to.deep.equal(['b']);
    expect(records[2]?.leases?.del).to.deep.equal([['s', 'b']]);
    const again = await openStore(dir);
    expect(again.data.leases.map((l) => l.job)).to.deep.equal(['a']);
  });

  it('archives an ended job in one record, and reloads both sets', async () => {
    const store = await openStore();
    store.data.jobs.a = job('a');
    store.data.jobs.b = job('b');
    await store.commit();
    await store.archiveJob('a');
    const again = await openStore(dir);
    expect(Object.keys(again.data.jobs)).to.deep.equal(['b']);
    expect(again.job('a')?.id).to.equal('a');
    expect(Object.keys(again.archived)).to.deep.equal(['a']);
    expect(store.job('__proto__')?.id).to.equal(undefined);
  });

  it('compacts into the snapshots and drops the old generations; nothing is lost', async () => {
    const store = await openStore();
    for (let i = 0; i < 20; i++) {
      store.data.jobs[`j${i}`] = job(`j${i}`);
      await store.commit();
    }
    await store.archiveJob('j0');
    const stats = await store.compact();
    expect(stats.generation).to.equal(1);
    store.data.jobs.late = job('late');
    delete store.data.jobs.j5;
    await store.commit();
    expect(readdirSync(dir).filter((f) => f.startsWith('journal.'))).to.deep.equal(['journal.1']);
    const snap = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { journal: number; jobs: Record<string, unknown> };
    expect(snap.journal).to.equal(1);
    expect(Object.keys(snap.jobs)).to.have.length(19);
    const again = await openStore(dir);
    expect(Object.keys(again.data.jobs).sort()).to.deep.equal([...Array.from({ length: 19 }, (_, i) => `j${i + 1}`).filter((j) => j !== 'j5'), 'late'].sort());
    expect(Object.keys(again.archived)).to.deep.equal(['j0']);
  });

  it('a crash at any point of a compaction loses nothing', async () => {
    // the on-disk states a crash can leave, built from copies taken before and after a compaction
    const store = await openStore();
    for (let i = 0; i < 5; i++) store.data.jobs[`j${i}`] = job(`j${i}`);
    await store.commit();
    await store.archiveJob('j0');
    const before = mkdtempSync(join(tmpdir(), 'brine-store-before-'));
    cpSync(dir, before, { recursive: true });
    await store.compact();
    store.data.jobs.after = job('after');
    await store.commit();
    const after = mkdtempSync(join(tmpdir(), 'brine-store-after-'));
    cpSync(dir, after, { recursive: true });
    const expected = ['after', 'j1', 'j2', 'j3', 'j4'];
    const cases: Record<string, (d: string) => void> = {
      'rotated, no snapshot written': (d) => {
        cpSync(before, d, { recursive: true });
        cpSync(join(after, 'journal.1'), join(d, 'journal.1'));
      },
      'archive.json written, state.json not': (d) => {
        cpSync(before, d, { recursive: true });
        cpSync(join(after, 'journal.1'), join(d, 'journal.1'));
        cpSync(join(after, 'archive.json'), join(d, 'archive.json'));
      },
      'both written, old generation not deleted': (d) => {
        cpSync(after, d, { recursive: true });
        cpSync(join(before, 'journal.0'), join(d, 'journal.0'));
      },
    };
    try {
      for (const [name, make] of Object.entries(cases)) {
        const d = mkdtempSync(join(tmpdir(), 'brine-store-case-'));
        try {
          make(d);
          const s = await Store.open(d);
          expect(Object.keys(s.data.jobs).sort(), name).to.deep.equal(expected);
          expect(Object.keys(s.archived), name).to.deep.equal(['j0']);
          await s.close();
          // generation 0 is still needed until both snapshots include it
          expect(existsSync(join(d, 'journal.0')), name).to.equal(name !== 'both written, old generation not deleted');
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      }
    } finally {
      rmSync(before, { recursive: true, force: true });
      rmSync(after, { recursive: true, force: true });
    }
  });

  it('drops a torn last record with a log line, and appends after it', async () => {
    const store = await openStore();
    store.data.jobs.a = job('a');
    await store.commit();
    await store.close();
    open.length = 0;
    appendFileSync(join(dir, 'journal.0'), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 123, 34]));
    const lines: string[] = [];
    const again = await openStore(dir, { log: capturingLog(lines) });
    expect(Object.keys(again.data.jobs)).to.deep.equal(['a']);
    expect(lines.some((l) => l.includes('torn'))).to.equal(true);
    again.data.jobs.b = job('b');
    await again.commit();
    await again.close();
    open.length = 0;
    const third = await openStore(dir);
    expect(Object.keys(third.data.jobs).sort()).to.deep.equal(['a', 'b']);
  });

  it('refuses a corrupt record in the middle, naming the file and the offset', async () => {
    const store = await openStore();
    store.data.jobs.a = job('a');
    await store.commit();
    store.data.jobs.b = job('b');
    await store.commit();
    await store.close();
    open.length = 0;
    const file = join(dir, 'journal.0');
    const bytes = readFileSync(file);
    bytes[12] = (bytes[12] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const err = await Store.open(dir).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(StateFileError);
    expect((err as Error).message).to.include(file).and.include('offset 0');
  });

  it('refuses a state file that is null or has the wrong shape, naming it', async () => {
    for (const text of ['null', '{"version":1,"jobs":[],"sites":{},"leases":[]}', '{"version":1,"jobs":{"x":{"id":"x"}},"sites":{},"leases":[]}', 'not json']) {
      writeFileSync(join(dir, 'state.json'), text);
      const err = await Store.open(dir).then(() => null, (e: unknown) => e);
      expect(err, text).to.be.instanceOf(StateFileError);
      expect((err as Error).message, text).to.include(join(dir, 'state.json'));
    }
  });
});
