// The snapshot store against the real world: a writer process killed with SIGKILL mid-snapshot,
// and a file system that really fills up (a 2 MiB tmpfs; needs root, skipped otherwise).
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SnapshotStore, StoreFullError, type SnapshotManifest } from '../../site-agent/snapshot-store/index.js';
import { storedChunks } from '../helpers/store-files.js';

const MiB = 1024 * 1024;
const STORE_MODULE = fileURLToPath(new URL('../../site-agent/snapshot-store/index.js', import.meta.url));

function prng(seed: number, n: number): Buffer {
  const key = createHash('sha256').update(`seed:${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

const chunkFiles = storedChunks;

const hashesOf = (m: SnapshotManifest): string[] => [...new Set(m.files.flatMap((f) => f.chunks.map((c) => c.hash)))].sort();

// A writer that never finishes: random data, 256 KiB every 10 ms, into snapshot `crashing`.
const CHILD = `
const [storeModule, storeDir] = process.argv.slice(1);
const { SnapshotStore } = await import(storeModule);
const { Readable } = await import('node:stream');
const { randomBytes } = await import('node:crypto');
const store = await SnapshotStore.open(storeDir);
const w = await store.beginSnapshot('crashing', 'job');
const endless = Readable.from((async function* () {
  for (;;) { await new Promise((r) => setTimeout(r, 10)); yield randomBytes(256 * 1024); }
})());
process.stdout.write('writing\\n');
await w.addFile('vm0/memory', endless);
`;

describe('snapshot store (processes, real file systems)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'brine-sstore-it-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a writer killed mid-snapshot leaves no manifest, and after collection no orphan chunk or temp file', async function () {
    this.timeout(30_000);
    const storeDir = join(dir, 'store');
    const store = await SnapshotStore.open(storeDir);
    const w = await store.beginSnapshot('before', 'job');
    const data = prng(1, 2 * MiB);
    await w.addFile('vm0/memory', data);
    const before = await w.commit();

    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, STORE_MODULE, storeDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)));
    try {
      // Kill it once it has written a good number of chunks of its own.
      const deadline = Date.now() + 20_000;
      while (chunkFiles(storeDir).length < hashesOf(before).length + 30) {
        if (Date.now() > deadline) throw new Error('the child wrote nothing');
        await sleep(20);
      }
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).to.equal('SIGKILL');
    const pid = child.pid as number;
    // A write cut short leaves a temp file: plant one in case the kill fell between writes.
    writeFileSync(join(storeDir, 'tmp', `${pid}-dead-999.pack`), 'half a pack');
    const written = chunkFiles(storeDir).filter((h) => !hashesOf(before).includes(h));
    expect(written.length).to.be.greaterThanOrEqual(30); // in its unsealed pack, or sealed ones

    const after = await SnapshotStore.open(storeDir);
    expect(existsSync(join(storeDir, 'manifests', 'crashing.json'))).to.equal(false);
    expect((await after.list()).map((s) => s.id)).to.deep.equal(['before']);
    expect(readdirSync(join(storeDir, 'tmp')).filter((f) => f.startsWith(`${pid}-`))).to.deep.equal([]); // open() cleans dead writers' temp files
    await after.collectGarbage({ graceMs: 0 });
    expect(chunkFiles(storeDir)).to.deep.equal(hashesOf(before));
    expect(readdirSync(join(storeDir, 'tmp'))).to.deep.equal([]);
    expect((await after.verify('before')).ok).to.equal(true);
    await after.restoreFile('before', 'vm0/memory', join(dir, 'r'));
    expect(readFileSync(join(dir, 'r')).equals(data)).to.equal(true);
    // and the id the dead writer used can be written now
    const again = await after.beginSnapshot('crashing', 'job');
    await again.addFile('f', Buffer.from('ok'));
    await again.commit();
  });

  describe('on a full file system (2 MiB tmpfs)', () => {
    let mnt: string;
    let mounted = false;
    before(function () {
      mnt = mkdtempSync(join(tmpdir(), 'brine-sstore-tmpfs-'));
      const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
      if (r.status !== 0) {
        rmSync(mnt, { recursive: true, force: true });
        this.skip(); // not root, or no mount in this container: the injected-ENOSPC unit tests still run
      }
      mounted = true;
    });
    after(() => {
      if (!mounted) return;
      spawnSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    });

    it('fails the snapshot with StoreFullError, keeps earlier snapshots intact, and recovers after collection', async () => {
      const storeDir = join(mnt, 'store');
      mkdirSync(storeDir);
      const store = await SnapshotStore.open(storeDir);
      const small = prng(2, 600 * 1024); // random: stored as is, 600 KiB
      const w1 = await store.beginSnapshot('s1', 'job');
      await w1.addFile('vm0/memory', small);
      await w1.commit();

      const w2 = await store.beginSnapshot('s2', 'job');
      let err: unknown;
      try {
        await w2.addFile('vm0/memory', prng(3, 3 * MiB));
        await w2.commit();
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(StoreFullError);
      expect((err as Error).message).to.contain('full');
      expect(readdirSync(join(storeDir, 'manifests'))).to.deep.equal(['s1.json']);
      expect(readdirSync(join(storeDir, 'tmp'))).to.deep.equal([]);
      expect((await store.verify('s1')).ok).to.equal(true);
      await store.restoreFile('s1', 'vm0/memory', join(dir, 'r'));
      expect(readFileSync(join(dir, 'r')).equals(small)).to.equal(true);

      // the failed snapshot's chunks are orphans: collected, the space is back
      await store.collectGarbage({ graceMs: 0 });
      const w3 = await store.beginSnapshot('s3', 'job');
      await w3.addFile('vm0/memory', prng(4, 600 * 1024));
      await w3.commit();
      expect((await store.list()).map((s) => s.id)).to.deep.equal(['s1', 's3']);
    });
  });
});
