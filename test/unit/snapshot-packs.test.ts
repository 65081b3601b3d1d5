// The store's pack files (issue 9): a crash mid-pack, damage inside a pack, what the collector
// reclaims (whole packs, repacking) and what it must not touch, and stores written in the layout
// before packs (one file per chunk), converted at open.
import { expect } from 'chai';
import { createCipheriv, createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorruptChunkError, nodeFs, parseManifest, SnapshotStore, type SnapshotManifest, type StoreFs } from '../../site-agent/snapshot-store/index.js';
import { EARLY_SYNC_BYTES } from '../../site-agent/snapshot-store/pack-writer.js';
import { encodeChunkSync } from '../../site-agent/snapshot-store/codec.js';
import { Chunker } from '../../site-agent/snapshot-store/chunker.js';
import type { Logger } from '../../src/shared/logger.js';
import { chunkRecord, flipStoredByte, packEntries, storedChunks } from '../helpers/store-files.js';

const MiB = 1024 * 1024;

function prng(seed: number, n: number): Buffer {
  const key = createHash('sha256').update(`packs:${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** Half random, half text: compressible chunks (stored as zstd), unlike pure random ones (raw). */
function textish(seed: number, n: number): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0, i = 0; off < n; off += 8192, i++) parts.push(i % 2 ? prng(seed * 1000 + i, 4096) : Buffer.alloc(4096, `line ${seed}:${i} `), Buffer.alloc(4096, i % 7));
  return Buffer.concat(parts).subarray(0, n);
}

const hashesOf = (m: SnapshotManifest): string[] => [...new Set(m.files.flatMap((f) => f.chunks.map((c) => c.hash)))].sort();

function packBytes(storeDir: string): number {
  const dir = join(storeDir, 'packs');
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** A logger that keeps what it is told. */
function capturing(): Logger & { lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ level, msg, fields });
    };
  const log = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

describe('snapshot store: pack files', () => {
  let dir: string;
  let storeDir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brine-packs-'));
    storeDir = join(dir, 'store');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function snapshot(store: SnapshotStore, id: string, files: Record<string, Buffer | Readable>): Promise<SnapshotManifest> {
    const w = await store.beginSnapshot(id, 'j');
    for (const [name, data] of Object.entries(files)) await w.addFile(name, data);
    return w.commit();
  }

  async function same(store: SnapshotStore, id: string, name: string, want: Buffer): Promise<void> {
    const dest = join(dir, `out-${id}-${name.replace(/\W/g, '_')}`);
    await store.restoreFile(id, name, dest);
    expect(readFileSync(dest).equals(want), `${id}/${name} restored byte for byte`).to.equal(true);
    rmSync(dest);
  }

  it('one pack per commit, rotated at the target size; every chunk of the snapshot is in a sealed pack', async () => {
    const store = await SnapshotStore.open(storeDir, { packBytes: MiB });
    const data = prng(1, 5 * MiB);
    const m = await snapshot(store, 's', { f: data });
    const packs = readdirSync(join(storeDir, 'packs'));
    expect(packs.length).to.be.within(4, 7); // ~5 MiB of random (raw) chunks in 1 MiB packs
    const inPacks = new Set(packs.flatMap((p) => packEntries(join(storeDir, 'packs', p)).map((e) => e.hash)));
    for (const h of hashesOf(m)) expect(inPacks.has(h), h).to.equal(true);
    expect(readdirSync(join(storeDir, 'tmp'))).to.deep.equal([]);
    await same(store, 's', 'f', data);
  });

  it('an open pack is fdatasynced early as it grows; a write-back error seen only by such an early sync fails the commit', async () => {
    let syncs = 0;
    let failNext = false;
    const fs: StoreFs = {
      ...nodeFs,
      async createAppend(path) {
        const f = await nodeFs.createAppend(path);
        return {
          append: (parts) => f.append(parts),
          async datasync() {
            syncs++;
            if (failNext) {
              // the kernel reports a write-back error to one fsync caller only: later ones succeed
              failNext = false;
              throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5 });
            }
            await f.datasync();
          },
          close: () => f.close(),
        };
      },
    };
    const store = await SnapshotStore.open(storeDir, { fs });
    const data = prng(90, 3 * EARLY_SYNC_BYTES);
    await snapshot(store, 's1', { f: data });
    // 12 MiB in one 16 MiB pack: at least one early sync as it grew (one at a time: how many
    // depends on the disk's speed), then the seal's own; without early syncs only the seal's
    expect(syncs).to.be.at.least(2);
    await same(store, 's1', 'f', data);

    syncs = 0;
    failNext = true; // the first early sync of the next pack fails
    const w = await store.beginSnapshot('s2', 'j');
    let err: unknown;
    try {
      await w.addFile('f', prng(91, 3 * EARLY_SYNC_BYTES));
      await w.commit();
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/EIO/);
    expect((await store.list()).map((m) => m.id), 'no manifest names chunks that may not be on disk').to.deep.equal(['s1']);
    await same(store, 's1', 'f', data);
  });

  it('a crash mid-pack: the unsealed pack of a dead process is removed at open, the store reads as before', async () => {
    const store = await SnapshotStore.open(storeDir);
    const data = textish(2, 3 * MiB);
    const m = await snapshot(store, 'kept', { f: data });
    // What a process killed mid-pack leaves: a pack in tmp/ cut in the middle of a record,
    // named by a pid that is no longer alive.
    const [sealed] = readdirSync(join(storeDir, 'packs'));
    const torn = join(storeDir, 'tmp', `999999999-dead-1.pack`);
    copyFileSync(join(storeDir, 'packs', sealed as string), torn);
    truncateSync(torn, Math.floor(statSync(torn).size / 2) + 3);
    const again = await SnapshotStore.open(storeDir);
    expect(readdirSync(join(storeDir, 'tmp'))).to.deep.equal([]);
    expect((await again.list()).map((s) => s.id)).to.deep.equal(['kept']);
    expect((await again.verify('kept')).ok).to.equal(true);
    expect(storedChunks(storeDir)).to.deep.equal(hashesOf(m));
    await same(again, 'kept', 'f', data);
  });

  it('a sealed pack whose index (trailer) is damaged is still read, by scanning its records (logged)', async () => {
    const data = textish(3, 2 * MiB);
    const m = await snapshot(await SnapshotStore.open(storeDir), 's', { f: data });
    const [name] = readdirSync(join(storeDir, 'packs'));
    const path = join(storeDir, 'packs', name as string);
    const bytes = readFileSync(path);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0xff; // inside the trailer's entries
    writeFileSync(path, bytes);
    // A new process (a fresh directory name for the in-process state): the index is rebuilt from disk.
    const moved = join(dir, 'moved');
    mkdirSync(moved);
    for (const sub of readdirSync(storeDir)) copyDir(join(storeDir, sub), join(moved, sub));
    const log = capturing();
    const store = await SnapshotStore.open(moved, { logger: log });
    expect(log.lines.some((l) => l.level === 'warn' && /pack index unreadable/.test(l.msg))).to.equal(true);
    expect((await store.verify('s')).ok).to.equal(true);
    expect(store.chunkHashes()).to.include.members(hashesOf(m));
    await same(store, 's', 'f', data);
  });

  it('damage inside a pack names the chunk and the file, and leaves its neighbours in the same pack readable', async () => {
    const store = await SnapshotStore.open(storeDir);
    const data = textish(4, 4 * MiB);
    const m = await snapshot(store, 's', { a: data.subarray(0, 2 * MiB), b: data.subarray(2 * MiB) });
    const fileB = m.files.find((f) => f.name === 'b');
    const victim = fileB?.chunks[2];
    if (!victim) throw new Error('too few chunks');
    const rec = chunkRecord(storeDir, victim.hash);
    expect(rec.offset).to.be.greaterThan(0);
    flipStoredByte(storeDir, victim.hash, rec.length >> 1);
    let err: unknown;
    try {
      await store.restoreFile('s', 'b', join(dir, 'out'));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CorruptChunkError);
    expect(err).to.include({ snapshotId: 's', file: 'b', chunk: victim.hash, code: 'DATA_LOSS' });
    expect(existsSync(join(dir, 'out'))).to.equal(false);
    await same(store, 's', 'a', data.subarray(0, 2 * MiB)); // same pack, other chunks intact
    const v = await store.verify('s');
    expect(v.damaged.map((d) => [d.file, d.chunk, d.problem])).to.deep.equal([['b', victim.hash, 'corrupt']]);
  });

  it('collection reclaims the space of pruned snapshots (whole packs, and repacking mostly unused ones) without touching live chunks', async () => {
    const store = await SnapshotStore.open(storeDir);
    const a = prng(5, 4 * MiB);
    const b = Buffer.concat([a.subarray(0, MiB), prng(6, 2 * MiB)]); // shares a's first MiB
    const c = prng(7, 2 * MiB);
    await snapshot(store, 'a', { f: a });
    const mb = await snapshot(store, 'b', { f: b });
    await snapshot(store, 'c', { f: c });
    const before = packBytes(storeDir);
    expect(before).to.be.greaterThan(8 * MiB);
    await store.delete('a');
    await store.delete('c');
    const r = await store.collectGarbage();
    expect(r.removedPacks).to.equal(2); // c's pack whole; a's after copying the MiB b shares
    expect(r.repackedPacks).to.equal(1);
    expect(r.removedBytes).to.be.greaterThan(5 * MiB);
    const after = packBytes(storeDir);
    // what is left: b's 3 MiB (random, stored raw) plus record and trailer overhead
    expect(after).to.be.within(3 * MiB, 3 * MiB + 64 * 1024);
    expect(storedChunks(storeDir)).to.deep.equal(hashesOf(mb));
    expect((await store.verify('b')).ok).to.equal(true);
    await same(store, 'b', 'f', b);
    // a new handle (a restart) finds the same from the packs alone
    const moved = join(dir, 'restart');
    copyDir(storeDir, moved);
    const fresh = await SnapshotStore.open(moved);
    expect(fresh.chunkHashes()).to.deep.equal(hashesOf(mb));
    await same(fresh, 'b', 'f', b);
    // nothing left to do
    const again = await store.collectGarbage();
    expect([again.removedPacks, again.removedChunks]).to.deep.equal([0, 0]);
  });

  it('collections racing a writer that reuses chunks of a pack being repacked never lose them', async function () {
    this.timeout(30_000);
    const store = await SnapshotStore.open(storeDir, { packBytes: 512 * 1024 });
    const old = textish(8, 3 * MiB);
    await snapshot(store, 'old', { f: old });
    await store.delete('old');
    // The writer reuses the deleted snapshot's middle MiB and adds new data, slowly; collections
    // run all along (repacking and removing old's packs as they go).
    const data = Buffer.concat([old.subarray(MiB, 2 * MiB), textish(9, MiB)]);
    const slow = Readable.from(
      (async function* () {
        for (let off = 0; off < data.length; off += 64 * 1024) {
          await sleep(10);
          yield data.subarray(off, off + 64 * 1024);
        }
      })(),
    );
    const w = await store.beginSnapshot('live', 'j');
    const adding = w.addFile('f', slow);
    let done = false;
    void adding.finally(() => (done = true));
    let removed = 0;
    while (!done) {
      removed += (await store.collectGarbage({ maxUnused: 0 })).removedChunks;
      await sleep(3);
    }
    await adding;
    const [m] = await Promise.all([w.commit(), store.collectGarbage({ maxUnused: 0 })]);
    expect(removed).to.be.greaterThan(0);
    expect((await store.verify('live')).ok).to.equal(true);
    await same(store, 'live', 'f', data);
    await store.collectGarbage({ maxUnused: 0 });
    expect(storedChunks(storeDir)).to.deep.equal(hashesOf(m));
  });

  it('reads a store written in the layout before packs (one file per chunk): converted at open, with a log line', async () => {
    // A fixture writer for format 1: store.json, chunks/ab/<sha256> (codec byte + payload, in
    // several codecs as older versions wrote them), manifests/<id>.json.
    const files = { mem: textish(10, 3 * MiB), xml: Buffer.from('<domain type="qemu"/>') };
    const chunks = new Map<string, Buffer>();
    const manifestFiles = Object.entries(files).map(([name, data]) => {
      const c = new Chunker();
      const parts = [...c.push(data), ...c.finish()];
      const refs = parts.map((p, i) => {
        const hash = createHash('sha256').update(p).digest('hex');
        const codec = (['zstd', 'brotli', 'deflate', 'none'] as const)[i % 4] ?? 'zstd';
        chunks.set(hash, encodeChunkSync(p, { codec, level: 1 }));
        return { hash, size: p.length };
      });
      return { name, size: data.length, chunks: refs };
    });
    const total = manifestFiles.reduce((n, f) => n + f.size, 0);
    const manifest = parseManifest(
      { format: 1, id: 'old-1', job: 'j', createdAt: '2026-01-01T00:00:00.000Z', chunker: { algo: 'fastcdc', version: 1, minSize: 16384, avgSize: 65536, maxSize: 262144 }, files: manifestFiles, totalBytes: total, newBytes: total, newStoredBytes: 0, meta: {} },
      'fixture',
    );
    mkdirSync(join(storeDir, 'manifests'), { recursive: true });
    mkdirSync(join(storeDir, 'tmp'));
    mkdirSync(join(storeDir, 'imports'));
    writeFileSync(join(storeDir, 'store.json'), JSON.stringify({ format: 1 }) + '\n');
    for (const [hash, bytes] of chunks) {
      mkdirSync(join(storeDir, 'chunks', hash.slice(0, 2)), { recursive: true });
      writeFileSync(join(storeDir, 'chunks', hash.slice(0, 2), hash), bytes);
    }
    writeFileSync(join(storeDir, 'manifests', 'old-1.json'), JSON.stringify(manifest) + '\n');

    const log = capturing();
    const store = await SnapshotStore.open(storeDir, { logger: log });
    const said = log.lines.filter((l) => l.level === 'info').map((l) => l.msg);
    expect(said.some((m) => /converting a format-1 store/.test(m))).to.equal(true);
    expect(said.some((m) => /converted to pack files/.test(m))).to.equal(true);
    expect(existsSync(join(storeDir, 'chunks'))).to.equal(false);
    expect(JSON.parse(readFileSync(join(storeDir, 'store.json'), 'utf8'))).to.deep.equal({ format: 2 });
    expect(storedChunks(storeDir)).to.deep.equal([...chunks.keys()].sort());
    expect((await store.list()).map((s) => s.id)).to.deep.equal(['old-1']);
    expect((await store.verify('old-1')).ok).to.equal(true);
    for (const [name, data] of Object.entries(files)) await same(store, 'old-1', name, data);
    // and it goes on as a pack store: a new snapshot of the same data writes nothing new
    const m2 = await snapshot(store, 'new-1', { mem: files.mem });
    expect(m2.newBytes).to.equal(0);
  });
});

function copyDir(from: string, to: string): void {
  if (statSync(from).isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const f of readdirSync(from)) copyDir(join(from, f), join(to, f));
  } else copyFileSync(from, to);
}
