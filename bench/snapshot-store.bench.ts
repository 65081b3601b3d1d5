// The snapshot store on real QEMU memory images. Prints; asserts nothing.
// Run: npx tsc -p . && node dist/bench/snapshot-store.bench.js
//
// Samples: two `virsh save` images of one running 128 MiB TCG guest (.brine/guest), taken ~10 s
// apart (save, restore, wait, save), kept in .brine/storebench/ (out of git) and reused by later
// runs. Made here when missing, with a throwaway domain `brine-storebench-<random>` that is
// removed afterwards (no other domain is touched). Without QEMU or the guest, a synthetic image in
// the same format is used instead, and the output says so.
//
// Prints, all in one run on the same files:
//   1. chunking: fixed vs content-defined at several sizes: share of the second image's bytes in
//      chunks the first did not have, and chunk+hash throughput (one core);
//   2. compression of the chosen chunks: stored size and (de)compression throughput (one core);
//   3. the store (chunk + hash + compress + fsync'd writes) against `cp` of the same file: wall
//      MB/s and MB per CPU-second (per core), with and without fsync; verified restore;
//   4. the second snapshot (10 s later): bytes written as a share of the first's.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import zstd from 'zstd-napi';
import {
  chunkStream,
  DEFAULT_CHUNKER,
  DEFAULT_COMPRESSION,
  fastCdcParams,
  fixedParams,
  nodeFs,
  SnapshotStore,
  type ChunkerParams,
  type StoreFs,
} from '../site-agent/snapshot-store/index.js';
import { pickGuest } from '../site-agent/domain-xml.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const GUEST = join(REPO, '.brine', 'guest');
const WORK = join(REPO, '.brine', 'storebench');
const URI = 'qemu:///system';
const GAP_S = 10;
const MB = 1e6;
const KiB = 1024;

const fmt = (n: number, d = 0): string => n.toFixed(d);
const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);
const now = (): number => Number(process.hrtime.bigint()) / 1e9;

interface Samples {
  a: string;
  b: string;
  kind: string;
}

async function virsh(...args: string[]): Promise<string> {
  return (await run('virsh', ['-q', '-c', URI, ...args], { timeout: 120_000 })).stdout;
}

async function qemuAvailable(): Promise<string | undefined> {
  if (!existsSync(join(GUEST, 'vmlinuz')) || !existsSync(join(GUEST, 'initrd.img'))) return 'no test guest in .brine/guest (npm run build:guest)';
  try {
    const caps = await virsh('capabilities');
    if (!/<domain type='(qemu|kvm)'/.test(caps)) return 'libvirt offers no qemu/kvm domain';
  } catch (err) {
    return `no libvirt QEMU driver (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
  return undefined;
}

/** Two save images of one guest, GAP_S apart; returns a description. */
async function makeQemuSamples(a: string, b: string): Promise<void> {
  const caps = await virsh('capabilities');
  const { type } = pickGuest(caps);
  const name = `brine-storebench-${randomBytes(4).toString('hex')}`;
  const consolePath = join(WORK, `${name}.console`);
  const cmdline = (await readFile(join(GUEST, 'cmdline'), 'utf8')).trim();
  const xml = `<domain type='${type}'>
  <name>${name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${join(GUEST, 'vmlinuz')}</kernel><initrd>${join(GUEST, 'initrd.img')}</initrd><cmdline>${cmdline}</cmdline></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <serial type='file'><source path='${consolePath}' append='on'/><target port='0'/></serial>
    <controller type='usb' model='none'/><memballoon model='none'/>
  </devices>
</domain>
`;
  const xmlPath = join(WORK, `${name}.xml`);
  await writeFile(xmlPath, xml);
  try {
    await virsh('define', xmlPath);
    await virsh('start', name);
    const deadline = Date.now() + 120_000;
    while (!(await readFile(consolePath, 'utf8').catch(() => '')).includes('tick ')) {
      if (Date.now() > deadline) throw new Error(`guest ${name} printed no tick in 120 s`);
      await sleep(500);
    }
    await sleep(5000);
    await virsh('save', name, a);
    await virsh('restore', a);
    await sleep(GAP_S * 1000);
    await virsh('save', name, b);
  } finally {
    await virsh('destroy', name).catch(() => undefined);
    await virsh('undefine', name).catch(() => undefined);
    await rm(xmlPath, { force: true });
    await rm(consolePath, { force: true });
  }
}

/**
 * A stand-in with the same structure as a QEMU migration stream (8-byte page headers, zero pages
 * as 9 bytes), 128 MiB of guest RAM, 40% zero pages; the second has 2% of pages changed and 0.5%
 * turned from zero to non-zero or back.
 */
async function makeSyntheticSamples(a: string, b: string): Promise<void> {
  const pages = 32 * 1024;
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const content: Array<Buffer | null> = [];
  for (let i = 0; i < pages; i++) content.push(rnd() < 0.4 ? null : pageData(i, 0));
  const write = async (path: string, pg: Array<Buffer | null>): Promise<void> => {
    const parts: Buffer[] = [Buffer.from('LibvirtQemudSave synthetic\n')];
    for (let i = 0; i < pg.length; i++) {
      const hdr = Buffer.alloc(8);
      hdr.writeBigUInt64BE(BigInt(i * 4096) | (pg[i] ? 0x08n : 0x02n));
      parts.push(hdr, pg[i] ?? Buffer.of(0));
    }
    await writeFile(path, Buffer.concat(parts));
  };
  await write(a, content);
  const second = content.map((p, i) => {
    const r = rnd();
    if (r < 0.005) return p ? null : pageData(i, 1);
    if (r < 0.025 && p) return pageData(i, 1);
    return p;
  });
  await write(b, second);
  function pageData(i: number, gen: number): Buffer {
    // half text-like (compressible), half random-like
    const h = createHash('sha256').update(`${i}:${gen}`).digest();
    if (i % 2) return Buffer.alloc(4096, `page ${i} generation ${gen} `);
    return Buffer.concat(Array.from({ length: 128 }, (_, k) => createHash('sha256').update(h).update(String(k)).digest()));
  }
}

async function samples(): Promise<Samples> {
  await mkdir(WORK, { recursive: true });
  const a = join(WORK, 'mem1.img');
  const b = join(WORK, 'mem2.img');
  if (existsSync(a) && existsSync(b)) return { a, b, kind: `reused QEMU save images from ${WORK}` };
  const why = await qemuAvailable();
  if (!why) {
    await makeQemuSamples(a, b);
    return { a, b, kind: `new QEMU save images (128 MiB TCG guest, ${GAP_S} s apart), kept in ${WORK}` };
  }
  const sa = join(WORK, 'synthetic1.img');
  const sb = join(WORK, 'synthetic2.img');
  await makeSyntheticSamples(sa, sb);
  return { a: sa, b: sb, kind: `SYNTHETIC images (no QEMU: ${why}); figures are not those of a real guest` };
}

// ---------------------------------------------------------------------------------------------

const readStream = (file: string) => createReadStream(file, { highWaterMark: 1024 * 1024 });

async function chunkAndHash(file: string, params: ChunkerParams): Promise<{ sizes: Map<string, number>; chunks: number; bytes: number; seconds: number }> {
  const sizes = new Map<string, number>();
  let chunks = 0;
  let bytes = 0;
  const t = now();
  for await (const c of chunkStream(readStream(file), params)) {
    sizes.set(createHash('sha256').update(c).digest('hex'), c.length);
    chunks++;
    bytes += c.length;
  }
  return { sizes, chunks, bytes, seconds: now() - t };
}

async function chunkingTable(s: Samples): Promise<void> {
  const configs: Array<[string, ChunkerParams]> = [
    ['fixed 64 KiB', fixedParams(64 * KiB)],
    ['fixed 256 KiB', fixedParams(256 * KiB)],
    ['fixed 1 MiB', fixedParams(1024 * KiB)],
    ['FastCDC avg 16 KiB', fastCdcParams(16 * KiB)],
    ['FastCDC avg 32 KiB', fastCdcParams(32 * KiB)],
    ['FastCDC avg 64 KiB', fastCdcParams(64 * KiB)],
    ['FastCDC avg 256 KiB', fastCdcParams(256 * KiB)],
  ];
  console.log('\n1. Chunking (second image against the first; chunk+SHA-256 on one core, best of 2 passes)');
  console.log(`   ${pad('chunking', 22)}${lpad('chunks', 8)}${lpad('mean', 10)}${lpad('new bytes', 12)}${lpad('new %', 8)}${lpad('MB/s', 7)}`);
  for (const [label, p] of configs) {
    const a = await chunkAndHash(s.a, p);
    const b = await chunkAndHash(s.b, p);
    let fresh = 0;
    for (const [h, size] of b.sizes) if (!a.sizes.has(h)) fresh += size;
    const mbs = Math.max(a.bytes / a.seconds, b.bytes / b.seconds) / MB;
    console.log(
      `   ${pad(label + (p.algo === DEFAULT_CHUNKER.algo && p.avgSize === DEFAULT_CHUNKER.avgSize ? ' *' : ''), 22)}${lpad(String(b.chunks), 8)}${lpad(`${fmt(b.bytes / b.chunks / KiB, 1)}K`, 10)}${lpad(`${fmt(fresh / MB, 2)} MB`, 12)}${lpad(fmt((100 * fresh) / b.bytes, 2), 8)}${lpad(fmt(mbs), 7)}`,
    );
  }
  console.log('   (* the store\'s chunking)');
}

async function compressionTable(s: Samples): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of chunkStream(readStream(s.a), DEFAULT_CHUNKER)) chunks.push(Buffer.from(c));
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const brotli = (q: number) => (c: Buffer) =>
    zlib.brotliCompressSync(c, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: q, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: c.length } });
  const codecs: Array<[string, ((c: Buffer) => Buffer) | null, (d: Buffer) => Buffer]> = [
    ['none', null, (d) => d],
    ['deflate 1', (c) => zlib.deflateRawSync(c, { level: 1 }), (d) => zlib.inflateRawSync(d)],
    ['deflate 6', (c) => zlib.deflateRawSync(c, { level: 6 }), (d) => zlib.inflateRawSync(d)],
    ['brotli 1', brotli(1), (d) => zlib.brotliDecompressSync(d)],
    ['brotli 4', brotli(4), (d) => zlib.brotliDecompressSync(d)],
    ['zstd -1', (c) => zstd.compress(c, { compressionLevel: -1 }), (d) => zstd.decompress(d)],
    ['zstd 1', (c) => zstd.compress(c, { compressionLevel: 1 }), (d) => zstd.decompress(d)],
    ['zstd 3', (c) => zstd.compress(c, { compressionLevel: 3 }), (d) => zstd.decompress(d)],
  ];
  console.log(`\n2. Compression of the first image's chunks (${chunks.length} chunks, ${fmt(total / MB, 1)} MB; one core; a chunk that does not shrink is stored raw)`);
  console.log(`   ${pad('codec', 12)}${lpad('stored', 10)}${lpad('%', 7)}${lpad('comp MB/s', 11)}${lpad('decomp MB/s', 13)}`);
  for (const [label, comp, decomp] of codecs) {
    if (!comp) {
      console.log(`   ${pad(label, 12)}${lpad(`${fmt(total / MB, 1)} MB`, 10)}${lpad('100.0', 7)}${lpad('-', 11)}${lpad('-', 13)}`);
      continue;
    }
    let t = now();
    const out = chunks.map((c) => {
      const z = comp(c);
      return z.length < c.length ? z : null;
    });
    const ct = now() - t;
    t = now();
    for (const z of out) if (z) decomp(z);
    const dt = now() - t;
    const stored = out.reduce((n, z, i) => n + (z ? z.length : (chunks[i] as Buffer).length), 0);
    console.log(
      `   ${pad(label + (label === `${DEFAULT_COMPRESSION.codec} ${DEFAULT_COMPRESSION.level}` ? ' *' : ''), 12)}${lpad(`${fmt(stored / MB, 1)} MB`, 10)}${lpad(fmt((100 * stored) / total, 1), 7)}${lpad(fmt(total / MB / ct), 11)}${lpad(fmt(total / MB / dt), 13)}`,
    );
  }
  console.log("   (* the store's codec)");
}

/** No file writes at all: the pipeline alone (read, chunk, hash, compress). */
const nullFs: StoreFs = {
  writeNew: async () => undefined,
  createAppend: async () => ({ append: async () => undefined, datasync: async () => undefined, close: async () => undefined }),
  rename: async () => undefined,
  unlink: async () => undefined,
  fsyncDir: async () => undefined,
};

/** The real calls without any fsync: what durability costs. */
const noSyncFs: StoreFs = {
  async writeNew(path, data) {
    await writeFile(path, data, { flag: 'wx' });
  },
  async createAppend(path) {
    const f = await nodeFs.createAppend(path);
    return { append: (parts) => f.append(parts), datasync: async () => undefined, close: () => f.close() };
  },
  rename: nodeFs.rename,
  unlink: nodeFs.unlink,
  fsyncDir: async () => undefined,
};

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = now();
  const value = await fn();
  const wall = now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

async function storeTable(s: Samples): Promise<void> {
  const size = (await stat(s.a)).size;
  const dir = join(WORK, 'bench-run');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  try {
    // Warm the page cache for both images: every row reads from memory, as cp does.
    for (const f of [s.a, s.b]) for await (const _ of readStream(f)) void _;
    const row = (label: string, bytes: number, wall: number, cpu?: number): void =>
      console.log(`   ${pad(label, 40)}${lpad(fmt(wall, 2), 7)} s${lpad(fmt(bytes / MB / wall), 7)} MB/s${cpu === undefined ? '' : `${lpad(fmt(bytes / MB / cpu), 7)} MB/s per core`}`);
    console.log(`\n3. Store vs cp (${fmt(size / MB, 1)} MB image, page cache warm; per core = bytes / CPU seconds of all threads, codec workers included)`);
    const cp = await timed(() => run('cp', [s.a, join(dir, 'cp.img')]));
    row('cp', size, cp.wall);
    await rm(join(dir, 'cp.img'));
    const cpSync = await timed(async () => {
      await run('cp', [s.a, join(dir, 'cp.img')]);
      const fh = await open(join(dir, 'cp.img'), 'r');
      await fh.sync();
      await fh.close();
    });
    row('cp + fsync', size, cpSync.wall);

    const snap = async (store: SnapshotStore, id: string, file: string) => {
      const w = await store.beginSnapshot(id, 'bench');
      await w.addFile('vm0/memory', file, { vm: 'vm0', kind: 'memory' });
      return w.commit();
    };
    // The codec workers start on first use: warm them (and the JIT) on a small store first.
    const warm = await SnapshotStore.open(join(dir, 'warm'), { fs: nullFs });
    const ww = await warm.beginSnapshot('w', 'bench');
    await ww.addFile('f', createReadStream(s.a, { end: 16 * 1024 * 1024 }));
    await ww.commit();
    const nothing = await SnapshotStore.open(join(dir, 'null'), { fs: nullFs });
    const nl = await timed(() => snap(nothing, 's1', s.a));
    row('store pipeline only: chunk+hash+compress', size, nl.wall, nl.cpu);
    const noSync = await SnapshotStore.open(join(dir, 'nosync'), { fs: noSyncFs });
    const ns = await timed(() => snap(noSync, 's1', s.a));
    row('  + packs written, no fsync', size, ns.wall, ns.cpu);

    // Baseline in the same run: the codec the store used before issue 9 (brotli 1), same layout.
    const old = await SnapshotStore.open(join(dir, 'brotli'), { compression: { codec: 'brotli', level: 1 } });
    const ob = await timed(() => snap(old, 's1', s.a));
    row('baseline: first snapshot, brotli 1', size, ob.wall, ob.cpu);
    const obr = await timed(() => old.restoreFile('s1', 'vm0/memory', join(dir, 'restored-brotli.img')));
    row('baseline: restore, brotli 1', size, obr.wall, obr.cpu);
    await rm(join(dir, 'brotli'), { recursive: true, force: true });

    const store = await SnapshotStore.open(join(dir, 'store'));
    const first = await timed(() => snap(store, 's1', s.a));
    row('store, first snapshot (+ fsync, as used)', size, first.wall, first.cpu);
    const second = await timed(() => snap(store, 's2', s.b));
    row(`store, second snapshot (${GAP_S} s later)`, size, second.wall, second.cpu);
    const dest = join(dir, 'restored.img');
    const restore = await timed(() => store.restoreFile('s1', 'vm0/memory', dest));
    row('restore (every chunk verified)', size, restore.wall, restore.cpu);
    const same = createHash('sha256').update(await readFile(dest)).digest('hex') === createHash('sha256').update(await readFile(s.a)).digest('hex');
    const v = await timed(() => store.verify('s2'));
    row('verify (second snapshot)', size, v.wall, v.cpu);

    const m1 = first.value;
    const m2 = second.value;
    console.log(`\n4. Second snapshot (${GAP_S} s after the first), ${DEFAULT_CHUNKER.algo} avg ${DEFAULT_CHUNKER.avgSize / KiB} KiB, ${DEFAULT_COMPRESSION.codec} ${DEFAULT_COMPRESSION.level}`);
    console.log(`   first:  ${fmt(m1.totalBytes / MB, 1)} MB of data, wrote ${fmt(m1.newStoredBytes / MB, 2)} MB (${fmt(m1.newBytes / MB, 1)} MB of new chunks before compression)`);
    console.log(
      `   second: ${fmt(m2.totalBytes / MB, 1)} MB of data, wrote ${fmt(m2.newStoredBytes / MB, 2)} MB (${fmt(m2.newBytes / MB, 2)} MB of new chunks before compression)` +
        ` = ${fmt((100 * m2.newStoredBytes) / m1.newStoredBytes, 2)} % of the first's bytes written, ${fmt((100 * m2.newBytes) / m2.totalBytes, 2)} % of its data new`,
    );
    console.log(`   restored image identical to the original: ${same ? 'yes' : 'NO'}; verify: ${v.value.ok ? 'ok' : 'DAMAGED'}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const s = await samples();
  const [sa, sb] = [(await stat(s.a)).size, (await stat(s.b)).size];
  console.log(`snapshot store benchmark — samples: ${s.kind}`);
  console.log(`   ${s.a} (${fmt(sa / MB, 1)} MB), ${s.b} (${fmt(sb / MB, 1)} MB); ${process.versions.node ? `node ${process.versions.node}` : ''}, load ${(await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ').slice(0, 3).join(' ')}`);
  await chunkingTable(s);
  await compressionTable(s);
  await storeTable(s);
}

await main();
