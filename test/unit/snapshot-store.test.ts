// The snapshot store's logic on a real directory (tmpdir): round trips, deduplication, damage
// detection, retention, collection racing a writer, aborted writers, disk full (injected), and the
// transfer API between two stores.
import { expect } from 'chai';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Chunker,
  CorruptChunkError,
  DEFAULT_CHUNKER,
  fixedParams,
  IncompleteSnapshotError,
  MissingChunkError,
  nodeFs,
  SnapshotStore,
  StoreFullError,
  type SnapshotManifest,
  type StoreFs,
} from '../../site-agent/snapshot-store/index.js';
import { BrineError } from '../../src/shared/errors.js';
import { flipStoredByte, removePackOf, storedChunks } from '../helpers/store-files.js';

const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes (AES-CTR of zeros): fast, and the same on every run. */
function prng(seed: number, n: number): Buffer {
  const key = createHash('sha256').update(`seed:${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** Random and repeated content: random, a repeated 4 KiB block, zeros, then the first part again. */
function mixed(seed: number): Buffer {
  const random = prng(seed, 2 * MiB);
  const block = prng(seed + 1, 4096);
  const repeated = Buffer.concat(Array.from({ length: 256 }, () => block));
  return Buffer.concat([random, repeated, Buffer.alloc(MiB), prng(seed + 2, MiB), random.subarray(0, MiB)]);
}

/** A stream that yields `data` in pieces, pausing between them: a slow capture. */
function slowStream(data: Buffer, piece: number, delayMs: number): Readable {
  return Readable.from(
    (async function* () {
      for (let off = 0; off < data.length; off += piece) {
        await sleep(delayMs);
        yield data.subarray(off, off + piece);
      }
    })(),
  );
}

const chunkFiles = storedChunks;

function hashesOf(m: SnapshotManifest): string[] {
  return [...new Set(m.files.flatMap((f) => f.chunks.map((c) => c.hash)))].sort();
}

describe('snapshot store', () => {
  let dir: string;
  let storeDir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brine-sstore-'));
    storeDir = join(dir, 'store');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function snapshot(store: SnapshotStore, id: string, job: string, files: Record<string, Buffer>, createdAt?: string): Promise<SnapshotManifest> {
    const w = await store.beginSnapshot(id, job);
    for (const [name, data] of Object.entries(files)) await w.addFile(name, data);
    return w.commit(createdAt ? { createdAt } : {});
  }

  describe('chunker', () => {
    it('cuts the same boundaries however the input is split, within min and max', () => {
      const data = mixed(1);
      const whole = new Chunker().push(data).concat(new Chunker().finish());
      const a = new Chunker();
      const pieces: Buffer[] = [];
      for (let off = 0, step = 1; off < data.length; off += step, step = (step * 7919) % 300_001 + 1) pieces.push(...a.push(data.subarray(off, off + step)));
      pieces.push(...a.finish());
      const one = new Chunker();
      const oneShot = [...one.push(data), ...one.finish()];
      expect(pieces.map((c) => c.length)).to.deep.equal(oneShot.map((c) => c.length));
      expect(Buffer.concat(pieces).equals(data)).to.equal(true);
      for (const c of oneShot.slice(0, -1)) expect(c.length).to.be.within(DEFAULT_CHUNKER.minSize, DEFAULT_CHUNKER.maxSize);
      expect(whole.length).to.be.greaterThan(0);
    });

    it('re-synchronises after an insertion (content-defined), unlike fixed-size chunks', () => {
      const data = prng(5, 4 * MiB);
      const shifted = Buffer.concat([data.subarray(0, MiB), Buffer.from('inserted!'), data.subarray(MiB)]);
      const share = (params = DEFAULT_CHUNKER): number => {
        const hashes = (b: Buffer): string[] => {
          const c = new Chunker(params);
          return [...c.push(b), ...c.finish()].map((x) => createHash('sha256').update(x).digest('hex'));
        };
        const before = new Set(hashes(data));
        const after = hashes(shifted);
        return after.filter((h) => !before.has(h)).length / after.length;
      };
      expect(share()).to.be.lessThan(0.1);
      expect(share(fixedParams(64 * 1024))).to.be.greaterThan(0.7);
    });
  });

  it('round-trips a multi-MiB file of random and repeated content byte for byte', async () => {
    const store = await SnapshotStore.open(storeDir);
    const data = mixed(1);
    const src = join(dir, 'src.img');
    writeFileSync(src, data);
    const w = await store.beginSnapshot('s1', 'job1');
    const added = await w.addFile('vm0/memory', src, { vm: 'vm0', kind: 'memory' });
    await w.addFile('vm0/xml', Buffer.from('<domain/>'), { vm: 'vm0', kind: 'xml' });
    const m = await w.commit({ meta: { downtimeMs: 12 } });
    expect(added.size).to.equal(data.length);
    expect(m.totalBytes).to.equal(data.length + 9);
    // repeated content is stored once: the trailing copy of the first MiB and the repeated block
    expect(m.newBytes).to.be.lessThan(m.totalBytes - 0.9 * MiB);
    expect(m.newStoredBytes).to.be.lessThan(m.newBytes); // zeros and repeats compress
    const dest = join(dir, 'restored.img');
    await store.restoreFile('s1', 'vm0/memory', dest);
    expect(readFileSync(dest).equals(data)).to.equal(true);
    await store.restoreFile('s1', 'vm0/xml', join(dir, 'x.xml'));
    expect(readFileSync(join(dir, 'x.xml'), 'utf8')).to.equal('<domain/>');
    // a second handle (e.g. after a restart) reads the same
    const again = await SnapshotStore.open(storeDir);
    expect((await again.manifest('s1')).files.map((f) => [f.name, f.vm, f.kind])).to.deep.equal([
      ['vm0/memory', 'vm0', 'memory'],
      ['vm0/xml', 'vm0', 'xml'],
    ]);
    expect((await again.list('job1')).map((s) => [s.id, s.meta])).to.deep.equal([['s1', { downtimeMs: 12 }]]);
    expect((await again.verify('s1')).ok).to.equal(true);
    expect(readdirSync(join(storeDir, 'tmp'))).to.deep.equal([]);
  });

  it('a second snapshot of mostly identical data writes only the new chunks', async () => {
    const store = await SnapshotStore.open(storeDir);
    const first = prng(7, 8 * MiB);
    const second = Buffer.concat([first.subarray(0, 3 * MiB), Buffer.from('a few new bytes'), first.subarray(3 * MiB)]);
    second[6 * MiB] = (second[6 * MiB] as number) ^ 0xff;
    const m1 = await snapshot(store, 's1', 'j', { mem: first });
    const m2 = await snapshot(store, 's2', 'j', { mem: second });
    expect(m1.newBytes).to.equal(first.length);
    expect(m2.totalBytes).to.equal(second.length);
    expect(m2.newBytes).to.be.greaterThan(0).and.lessThan(0.1 * second.length);
    const dest = join(dir, 'r');
    await store.restoreFile('s2', 'mem', dest);
    expect(readFileSync(dest).equals(second)).to.equal(true);
    // identical data: nothing new at all
    const m3 = await snapshot(store, 's3', 'j', { mem: second });
    expect(m3.newBytes).to.equal(0);
  });

  it('detects a flipped byte in a chunk file: restore throws CorruptChunkError, verify reports it', async () => {
    const store = await SnapshotStore.open(storeDir);
    const m = await snapshot(store, 's1', 'j', { 'vm0/memory': prng(3, 2 * MiB) });
    const victim = m.files[0]?.chunks[3];
    if (!victim) throw new Error('too few chunks');
    flipStoredByte(storeDir, victim.hash, victim.size >> 1); // in the middle of its pack
    const dest = join(dir, 'out');
    let err: unknown;
    try {
      await store.restoreFile('s1', 'vm0/memory', dest);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CorruptChunkError);
    expect(err).to.be.instanceOf(BrineError);
    const c = err as CorruptChunkError;
    expect([c.snapshotId, c.file, c.chunk]).to.deep.equal(['s1', 'vm0/memory', victim.hash]);
    expect(c.message).to.contain('s1').and.contain('vm0/memory').and.contain(victim.hash);
    expect(existsSync(dest)).to.equal(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('out'))).to.deep.equal([]);
    const v = await store.verify('s1');
    expect(v.ok).to.equal(false);
    expect(v.damaged.map((d) => [d.file, d.chunk, d.problem])).to.deep.equal([['vm0/memory', victim.hash, 'corrupt']]);
  });

  it('reports the chunks of a lost pack as missing', async () => {
    const store = await SnapshotStore.open(storeDir);
    const m = await snapshot(store, 's1', 'j', { disk: prng(4, MiB) });
    const [first, victim] = m.files[0]?.chunks ?? [];
    if (!first || !victim) throw new Error('too few chunks');
    removePackOf(storeDir, victim.hash); // one pack holds the whole snapshot
    let err: unknown;
    try {
      await store.restoreFile('s1', 'disk', join(dir, 'out'));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(MissingChunkError);
    expect((err as MissingChunkError).chunk).to.equal(first.hash); // the first one read
    expect((err as MissingChunkError).file).to.equal('disk');
    const v = await store.verify('s1');
    expect(v.damaged).to.have.length(hashesOf(m).length);
    expect(v.damaged[1]).to.include({ file: 'disk', chunk: victim.hash, problem: 'missing', offset: first.size });
  });

  it('retention keeps the last N of a job (by creation time), and leaves other jobs alone', async () => {
    const store = await SnapshotStore.open(storeDir);
    const base = Date.parse('2025-01-01T00:00:00Z');
    // created out of order on purpose: retention goes by createdAt, not by write order
    for (const i of [3, 1, 4, 0, 2]) await snapshot(store, `a${i}`, 'ja', { f: prng(10 + i, 100_000) }, new Date(base + i * 60_000).toISOString());
    await snapshot(store, 'b0', 'jb', { f: prng(20, 100_000) });
    const dropped = await store.retain('ja', 2);
    expect(dropped).to.deep.equal(['a0', 'a1', 'a2']);
    expect((await store.list('ja')).map((s) => s.id)).to.deep.equal(['a3', 'a4']);
    expect((await store.list()).map((s) => s.id).sort()).to.deep.equal(['a3', 'a4', 'b0']);
    expect(await store.retain('ja', 5)).to.deep.equal([]);
  });

  it('collects only unreferenced chunks', async () => {
    const store = await SnapshotStore.open(storeDir);
    const shared = prng(30, MiB);
    const m1 = await snapshot(store, 's1', 'j', { f: Buffer.concat([shared, prng(31, MiB)]) });
    const m2 = await snapshot(store, 's2', 'j', { f: Buffer.concat([shared, prng(32, MiB)]) });
    const before = chunkFiles(storeDir);
    expect(before).to.deep.equal([...new Set([...hashesOf(m1), ...hashesOf(m2)])].sort());
    // with a grace period, young orphans survive
    await store.delete('s1');
    const young = await store.collectGarbage({ graceMs: 60_000 });
    expect(young.removedChunks).to.equal(0);
    expect(young.keptYoung).to.be.greaterThan(0);
    const r = await store.collectGarbage();
    expect(chunkFiles(storeDir)).to.deep.equal(hashesOf(m2));
    expect(r.removedChunks).to.equal(before.length - hashesOf(m2).length);
    expect((await store.verify('s2')).ok).to.equal(true);
  });

  it('never collects the chunks of a snapshot being written, even chunks it reuses from a deleted one', async function () {
    this.timeout(30_000);
    const store = await SnapshotStore.open(storeDir);
    const old = prng(40, 3 * MiB);
    await snapshot(store, 'old', 'j', { f: old });
    const unrelated = await snapshot(store, 'unrelated', 'j', { f: prng(41, MiB) });
    await store.delete('old');
    await store.delete('unrelated');
    // The writer reuses the deleted snapshot's first 2 MiB (orphans on disk) and adds new data,
    // slowly, while the collector runs again and again.
    const data = Buffer.concat([old.subarray(0, 2 * MiB), prng(42, 2 * MiB)]);
    const w = await store.beginSnapshot('live', 'j');
    const adding = w.addFile('f', slowStream(data, 64 * 1024, 15));
    let collections = 0;
    let removed = 0;
    let done = false;
    void adding.finally(() => (done = true));
    while (!done) {
      removed += (await store.collectGarbage({ graceMs: 0 })).removedChunks;
      collections++;
      await sleep(5);
    }
    await adding;
    // and one collection racing the commit itself
    const [m] = await Promise.all([w.commit(), store.collectGarbage({ graceMs: 0 })]);
    expect(collections).to.be.greaterThan(5);
    expect(removed).to.be.greaterThan(0); // the collector did work meanwhile
    expect((await store.verify('live')).ok).to.equal(true);
    const dest = join(dir, 'r');
    await store.restoreFile('live', 'f', dest);
    expect(readFileSync(dest).equals(data)).to.equal(true);
    await store.collectGarbage({ graceMs: 0 });
    expect(chunkFiles(storeDir)).to.deep.equal(hashesOf(m));
    for (const h of hashesOf(unrelated)) expect(chunkFiles(storeDir)).to.not.include(h);
  });

  it('an aborted writer leaves no manifest, and after collection no orphan chunk', async () => {
    const store = await SnapshotStore.open(storeDir);
    const kept = await snapshot(store, 'kept', 'j', { f: prng(50, MiB) });
    const w = await store.beginSnapshot('gone', 'j');
    const adding = w.addFile('f', slowStream(prng(51, 4 * MiB), 256 * 1024, 10));
    await sleep(100);
    await w.abort();
    let err: unknown;
    try {
      await adding;
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(BrineError);
    expect(existsSync(join(storeDir, 'manifests', 'gone.json'))).to.equal(false);
    expect((await store.list()).map((s) => s.id)).to.deep.equal(['kept']);
    expect(chunkFiles(storeDir).length).to.be.greaterThan(hashesOf(kept).length); // it had written some
    await store.collectGarbage({ graceMs: 0 });
    expect(chunkFiles(storeDir)).to.deep.equal(hashesOf(kept));
    expect(readdirSync(join(storeDir, 'tmp'))).to.deep.equal([]);
    // the id is free again
    await snapshot(store, 'gone', 'j', { f: prng(52, 1000) });
  });

  describe('disk full (injected ENOSPC)', () => {
    /** The real calls, except that writes fail with ENOSPC (after writing half) once `budget` bytes are spent. */
    function fullingFs(): StoreFs & { budget: number } {
      const fs = {
        budget: Infinity,
        async writeNew(path: string, data: Uint8Array) {
          if (data.length > fs.budget) {
            await nodeFs.writeNew(path, data.subarray(0, data.length >> 1));
            throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28 });
          }
          fs.budget -= data.length;
          await nodeFs.writeNew(path, data);
        },
        async createAppend(path: string) {
          const f = await nodeFs.createAppend(path);
          return {
            async append(parts: readonly Uint8Array[]) {
              const n = parts.reduce((a, p) => a + p.length, 0);
              if (n > fs.budget) {
                await f.append([Buffer.concat(parts).subarray(0, n >> 1)]);
                throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28 });
              }
              fs.budget -= n;
              await f.append(parts);
            },
            datasync: () => f.datasync(),
            close: () => f.close(),
          };
        },
        rename: nodeFs.rename,
        unlink: nodeFs.unlink,
        fsyncDir: nodeFs.fsyncDir,
      };
      return fs;
    }

    it('while writing chunks: typed error, no manifest, no temp file, earlier snapshots intact', async () => {
      const fs = fullingFs();
      const store = await SnapshotStore.open(storeDir, { fs });
      const data = prng(60, 2 * MiB);
      await snapshot(store, 's1', 'j', { f: data });
      fs.budget = 300 * 1024;
      const w = await store.beginSnapshot('s2', 'j');
      let err: unknown;
      try {
        await w.addFile('f', prng(61, 4 * MiB));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(StoreFullError);
      expect((err as StoreFullError).code).to.equal('RESOURCE_EXHAUSTED');
      let commitErr: unknown;
      try {
        await w.commit();
      } catch (e) {
        commitErr = e;
      }
      expect(commitErr).to.equal(err);
      expect(existsSync(join(storeDir, 'manifests', 's2.json'))).to.equal(false);
      expect(readdirSync(join(storeDir, 'tmp'))).to.deep.equal([]);
      expect((await store.list()).map((s) => s.id)).to.deep.equal(['s1']);
      expect((await store.verify('s1')).ok).to.equal(true);
      await store.restoreFile('s1', 'f', join(dir, 'r'));
      expect(readFileSync(join(dir, 'r')).equals(data)).to.equal(true);
    });

    it('while writing the manifest: typed error, no manifest, no temp file', async () => {
      const fs = fullingFs();
      const store = await SnapshotStore.open(storeDir, { fs });
      const w = await store.beginSnapshot('s1', 'j');
      await w.addFile('f', prng(62, MiB));
      fs.budget = 10; // chunks are in; the manifest will not fit
      let err: unknown;
      try {
        await w.commit();
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(StoreFullError);
      expect(readdirSync(join(storeDir, 'manifests'))).to.deep.equal([]);
      expect(readdirSync(join(storeDir, 'tmp'))).to.deep.equal([]);
      await store.collectGarbage({ graceMs: 0 });
      expect(chunkFiles(storeDir)).to.deep.equal([]);
    });
  });

  describe('transfer API', () => {
    it('copies a snapshot between stores with only missingChunks / readChunkCompressed / writeChunkCompressed / importManifest', async () => {
      const a = await SnapshotStore.open(join(dir, 'a'));
      const b = await SnapshotStore.open(join(dir, 'b'));
      const common = prng(70, 2 * MiB);
      // b already holds part of the data (e.g. an older replica)
      await snapshot(b, 'older', 'j', { mem: common });
      const data = Buffer.concat([common, prng(71, MiB)]);
      const m = await snapshot(a, 's2', 'j', { mem: data, xml: Buffer.from('<domain/>') });

      const wanted = m.files.flatMap((f) => f.chunks.map((c) => c.hash));
      const missing = await b.missingChunks(wanted);
      expect(missing.length).to.be.greaterThan(0).and.lessThan(new Set(wanted).size);
      // not everything is there yet: the import is refused, naming what is missing
      let err: unknown;
      try {
        await b.importManifest(JSON.parse(JSON.stringify(m)));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(IncompleteSnapshotError);
      expect((err as IncompleteSnapshotError).missing.sort()).to.deep.equal([...missing].sort());

      let sent = 0;
      for (const h of missing) {
        const bytes = await a.readChunkCompressed(h);
        sent += bytes.length;
        expect(await b.writeChunkCompressed(h, bytes)).to.equal(true);
      }
      expect(await b.missingChunks(wanted)).to.deep.equal([]);
      await b.importManifest(JSON.parse(JSON.stringify(m)));
      await b.importManifest(JSON.parse(JSON.stringify(m))); // again: no-op
      expect(sent).to.be.lessThan(m.totalBytes - common.length / 2);
      expect((await b.verify('s2')).ok).to.equal(true);
      await b.restoreFile('s2', 'mem', join(dir, 'r'));
      expect(readFileSync(join(dir, 'r')).equals(data)).to.equal(true);
      expect(await b.manifest('s2')).to.deep.equal(m);
    });

    it('keeps the chunks of an interrupted import through collections and restarts, and resumes it', async () => {
      const a = await SnapshotStore.open(join(dir, 'a'));
      const m = await snapshot(a, 's', 'j', { mem: prng(90, 2 * MiB) });
      const b = await SnapshotStore.open(join(dir, 'b'));
      const all = await b.beginImport(m);
      expect(all.sort()).to.deep.equal(hashesOf(m));
      const half = all.slice(0, all.length >> 1);
      for (const h of half) await b.writeChunkCompressed(h, await a.readChunkCompressed(h));
      // the transfer breaks; the agent restarts; a collection runs
      const b2 = await SnapshotStore.open(join(dir, 'b'));
      expect(await b2.pendingImports()).to.deep.equal(['s']);
      await b2.collectGarbage();
      const rest = await b2.beginImport(m); // resumes: only what did not arrive
      expect(rest.sort()).to.deep.equal(all.filter((h) => !half.includes(h)).sort());
      for (const h of rest) await b2.writeChunkCompressed(h, await a.readChunkCompressed(h));
      await b2.importManifest(m);
      expect(await b2.pendingImports()).to.deep.equal([]);
      expect(await b2.beginImport(m)).to.deep.equal([]); // already here
      expect((await b2.verify('s')).ok).to.equal(true);

      // an abandoned import's chunks are collected
      const m2 = await snapshot(a, 's2', 'j', { mem: prng(91, MiB) });
      const some = (await b2.beginImport(m2)).slice(0, 3);
      for (const h of some) await b2.writeChunkCompressed(h, await a.readChunkCompressed(h));
      await b2.abandonImport('s2');
      await b2.collectGarbage();
      expect(chunkFiles(join(dir, 'b'))).to.deep.equal(hashesOf(m));
    });

    it('refuses a chunk whose content does not match its name, and a damaged one', async () => {
      const a = await SnapshotStore.open(join(dir, 'a'));
      const b = await SnapshotStore.open(join(dir, 'b'));
      const m = await snapshot(a, 's', 'j', { f: prng(80, 300_000) });
      const [h0, h1] = hashesOf(m);
      if (!h0 || !h1) throw new Error('too few chunks');
      const bytes = await a.readChunkCompressed(h0);
      for (const bad of [
        () => b.writeChunkCompressed(h1, bytes), // right bytes, wrong name
        () => b.writeChunkCompressed(h0, Buffer.concat([bytes.subarray(0, 40), Buffer.from([(bytes[40] as number) ^ 1]), bytes.subarray(41)])),
        () => b.writeChunkCompressed(h0, Buffer.from([9, 1, 2, 3])), // unknown codec
      ]) {
        let err: unknown;
        try {
          await bad();
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(CorruptChunkError);
      }
      expect(await b.missingChunks([h0, h1])).to.deep.equal([h0, h1]);
      let err: unknown;
      try {
        await a.readChunkCompressed('0'.repeat(64));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(MissingChunkError);
    });
  });

  it('refuses bad ids, duplicate ids and duplicate file names', async () => {
    const store = await SnapshotStore.open(storeDir);
    for (const id of ['', '../x', '.hidden', 'a/b']) {
      let err: unknown;
      try {
        await store.beginSnapshot(id, 'j');
      } catch (e) {
        err = e;
      }
      expect(err, id).to.be.instanceOf(BrineError).with.property('code', 'INVALID_ARGUMENT');
    }
    const w = await store.beginSnapshot('s', 'j');
    let dup: unknown;
    try {
      await store.beginSnapshot('s', 'j');
    } catch (e) {
      dup = e;
    }
    expect(dup).to.be.instanceOf(BrineError).with.property('code', 'ALREADY_EXISTS');
    await w.addFile('f', Buffer.from('x'));
    let dupFile: unknown;
    try {
      await w.addFile('f', Buffer.from('y'));
    } catch (e) {
      dupFile = e;
    }
    expect(dupFile).to.be.instanceOf(BrineError).with.property('code', 'ALREADY_EXISTS');
    await w.commit();
    let again: unknown;
    try {
      await store.beginSnapshot('s', 'j');
    } catch (e) {
      again = e;
    }
    expect(again).to.be.instanceOf(BrineError).with.property('code', 'ALREADY_EXISTS');
    let nf: unknown;
    try {
      await store.restoreFile('nope', 'f', join(dir, 'r'));
    } catch (e) {
      nf = e;
    }
    expect(nf).to.be.instanceOf(BrineError).with.property('code', 'NOT_FOUND');
    expect(statSync(join(storeDir, 'store.json')).isFile()).to.equal(true);
  });
  it('reads chunks an older store compressed with brotli or deflate, after the default became zstd', async () => {
    const data = mixed(70);
    const old = await SnapshotStore.open(storeDir, { compression: { codec: 'brotli', level: 1 } });
    await snapshot(old, 'b', 'j', { mem: data.subarray(0, 3 * MiB) });
    const older = await SnapshotStore.open(storeDir, { compression: { codec: 'deflate', level: 1 } });
    await snapshot(older, 'd', 'j', { mem: mixed(71) });
    const store = await SnapshotStore.open(storeDir); // today's default
    await snapshot(store, 'z', 'j', { mem: data });
    const codecs = new Set<number>();
    for (const h of chunkFiles(storeDir)) codecs.add((await store.readChunkCompressed(h))[0] ?? -1);
    expect([...codecs]).to.include.members([1, 2, 3]); // deflate, brotli, zstd side by side (0: raw)
    for (const [id, want] of [['b', data.subarray(0, 3 * MiB)], ['d', mixed(71)], ['z', data]] as const) {
      const dest = join(dir, `out-${id}`);
      await store.restoreFile(id, 'mem', dest);
      expect(readFileSync(dest).equals(want)).to.equal(true);
      expect((await store.verify(id)).ok).to.equal(true);
    }
  });
  it('collectGarbageSoon: calls while a scan is queued share it, and it removes what nothing uses', async () => {
    const store = await SnapshotStore.open(storeDir);
    const keep = await snapshot(store, 'keep', 'j', { f: prng(80, MiB) });
    await snapshot(store, 'gone', 'j', { f: prng(81, MiB) });
    await store.delete('gone');
    const running = store.collectGarbage({ graceMs: 0 }); // the scan the next calls queue behind
    const a = store.collectGarbageSoon({ graceMs: 0 });
    const b = store.collectGarbageSoon({ graceMs: 0 });
    expect(a).to.equal(b); // one queued scan for the burst
    await running;
    await a;
    expect(chunkFiles(storeDir)).to.deep.equal(hashesOf(keep));
    expect(store.collectGarbageSoon({ graceMs: 0 })).to.not.equal(a); // once started, a new call queues another
    await store.collectGarbageSoon();
  });
});
