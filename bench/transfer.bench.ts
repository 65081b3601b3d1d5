// Snapshot transfer throughput between two agent-side stores in two processes on loopback, against
// plain TCP between two Node processes and rsync of the same files. Prints; asserts nothing.
// Run: npx tsc -p . && node dist/bench/transfer.bench.js   (needs rsync: installed with apt if missing)
//
// Data: the real QEMU memory images in .brine/storebench/*.img (made by snapshot-store.bench) when
// present, topped up to ~256 MiB with synthetic data (half random, half zero pages, in 4 KiB pages)
// if they are smaller; synthetic only otherwise. The output says which.
//
// brine: a child process (the source agent) stores the files as one snapshot and serves them with
// the agent's real handlers and server options; this process (the destination) runs the real
// SnapshotFetcher into an empty store: GetManifest, beginImport, ReadChunks batches, verify
// (decompress + SHA-256) and write every chunk, importManifest. Variants: the transfer's 16 MiB
// HTTP/2 window and grpc-js's default 64 KiB one; with and without fsync.
// CPU: user+system seconds of the source process (asked over its stdin) and of this process
// during each run, per GiB of snapshot data that travelled; peak RSS of both.
// 64 GiB synthetic: the source also holds a snapshot whose manifest repeats the 256 MiB one's
// chunks 256 times (~64 GiB, ~740k chunk refs, the same ~2.9k distinct chunks; made with
// importManifest, no 64 GiB on disk). Its transfer carries the same bytes as the 256 MiB one, so
// the difference between the two rows is what grows with snapshot size (manifest, hash sets,
// missing-chunk checks, batch bookkeeping): CPU per GiB carried must stay close, not grow ×256.
// TCP: a child process streams the same files over node:net; this one writes them to a file (fsync).
// rsync: `rsync --daemon` on a loopback port serves the files' directory; `rsync -a --whole-file`
// pulls them into an empty directory (both processes on this host, over TCP).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../src/shared/logger.js';
import { AgentService } from '../src/shared/proto.js';
import type { AgentServiceClient } from '../src/gen/brine/v1/AgentService.js';
import { createAgentHandlers, type ClusterBackend, type SnapshotBackend } from '../site-agent/service.js';
import { nodeFs, parseManifest, SnapshotStore, type SnapshotManifest, type StoreFs } from '../site-agent/snapshot-store/index.js';
import { z } from 'zod';
import { writeFile } from 'node:fs/promises';
import { BATCH_CHUNKS, createTransfers, SnapshotFetcher, TRANSFER_CLIENT_OPTIONS, TRANSFER_SERVER_OPTIONS } from '../site-agent/transfer/index.js';

const MiB = 1024 * 1024;
const TARGET = 256 * MiB;
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const now = (): number => performance.now() / 1000;

// ---------------------------------------------------------------------------------------------
// child roles

const SYNTHETIC_COPIES = 256;

/** ~64 GiB of refs to the chunks `m` already has: no new data on disk. */
function syntheticManifest(m: SnapshotManifest): SnapshotManifest {
  const chunks = m.files.flatMap((f) => f.chunks);
  const size = chunks.reduce((n, c) => n + c.size, 0);
  const files = Array.from({ length: SYNTHETIC_COPIES }, (_, i) => ({ name: `copy-${i}`, kind: 'memory' as const, size, chunks }));
  return { ...m, id: 'bench-64g', files, totalBytes: size * SYNTHETIC_COPIES, newBytes: 0, newStoredBytes: 0 };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function sourceAgent(filesDir: string, storeDir: string): Promise<void> {
  const store = await SnapshotStore.open(storeDir);
  const w = await store.beginSnapshot('bench', 'bench-job');
  for (const f of readdirSync(filesDir).sort()) await w.addFile(f, join(filesDir, f));
  const m = await w.commit();
  const big = syntheticManifest(m);
  await store.importManifest(big);
  // One line in → one line out: the parent reads our CPU time and peak RSS around each run.
  createInterface({ input: process.stdin }).on('line', () => {
    process.stdout.write(JSON.stringify({ cpu: cpuSeconds(), maxRss: process.resourceUsage().maxRSS * 1024 }) + '\n');
  });
  const t = createTransfers({ store, transfer: { maxConcurrent: 4, bandwidthMiBps: 1e6 }, logger: silentLogger });
  const server = new grpc.Server(TRANSFER_SERVER_OPTIONS);
  server.addService(AgentService.service, createAgentHandlers({ clusters: {} as ClusterBackend, snapshots: {} as SnapshotBackend, site: { nodes: [], images: {} }, logger: silentLogger, transfers: t.handlers }));
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  process.stdout.write(JSON.stringify({ port, storedBytes: m.newStoredBytes, totalBytes: m.totalBytes, bigRefs: big.files.reduce((n, f) => n + f.chunks.length, 0), bigBytes: big.totalBytes }) + '\n');
}

async function tcpSender(filesDir: string): Promise<void> {
  const server = createServer((sock) => {
    void (async () => {
      for (const f of readdirSync(filesDir).sort()) {
        for await (const buf of createReadStream(join(filesDir, f), { highWaterMark: MiB })) {
          if (!sock.write(buf as Buffer)) await new Promise((r) => sock.once('drain', r));
        }
      }
      sock.end();
    })();
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 }) + '\n');
  });
}

// ---------------------------------------------------------------------------------------------
// helpers

interface Child {
  child: ChildProcess;
  info: Record<string, number>;
  /** the next line it prints */
  nextLine(): Promise<string>;
}

function startChild(args: string[]): Promise<Child> {
  const child = spawn(process.execPath, [SELF, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: Array<(l: string) => void> = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const nextLine = (): Promise<string> => new Promise((r) => waiting.push(r));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`child ${args[0]} exited with ${code}`)));
    void nextLine().then((line) => resolve({ child, info: JSON.parse(line) as Record<string, number>, nextLine }));
  });
}

const usageSchema = z.object({ cpu: z.number(), maxRss: z.number() });

async function childUsage(c: Child): Promise<z.infer<typeof usageSchema>> {
  const line = c.nextLine();
  c.child.stdin?.write('usage\n');
  return usageSchema.parse(JSON.parse(await line));
}

function synthetic(seed: number, n: number): Buffer {
  // 4 KiB pages: half pseudo-random, half zero (a memory image's mix, roughly)
  const key = createHash('sha256').update(`bench:${seed}`).digest().subarray(0, 16);
  const rnd = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
  for (let p = 0; p < n; p += 8192) rnd.fill(0, p, Math.min(n, p + 4096));
  return rnd;
}

function prepareFiles(dir: string): string {
  const bench = join(REPO, '.brine', 'storebench');
  const imgs = existsSync(bench) ? readdirSync(bench).filter((f) => f.endsWith('.img')).sort() : [];
  let total = 0;
  const kinds: string[] = [];
  for (const f of imgs) {
    // hard links would let rsync cheat nothing, but a copy keeps the bench's dir self-contained
    execFileSync('cp', [join(bench, f), join(dir, f)]);
    total += statSync(join(dir, f)).size;
  }
  if (imgs.length > 0) kinds.push(`real QEMU memory images (${imgs.join(', ')}: ${(total / MiB).toFixed(0)} MiB)`);
  let i = 0;
  while (total < TARGET) {
    const n = Math.min(64 * MiB, TARGET - total);
    writeFileSync(join(dir, `synthetic-${i}.bin`), synthetic(i, n));
    total += n;
    i++;
  }
  if (i > 0) kinds.push(`synthetic data (${i} file(s), half random / half zero pages${imgs.length ? ', to reach ~256 MiB' : ': no real images found under .brine/storebench'})`);
  return `${(total / MiB).toFixed(0)} MiB: ${kinds.join(' + ')}`;
}

interface Row {
  what: string;
  seconds: number;
  plainMiB: number;
  wireMiB: number;
  note: string;
  /** CPU seconds per GiB of snapshot data carried, source and destination */
  srcCpuPerGiB?: number;
  dstCpuPerGiB?: number;
}

/** The real calls without fsync: separates the transfer path's speed from the disk's fsync cost. */
const noSyncFs: StoreFs = {
  writeNew: (path, data) => writeFile(path, data, { flag: 'wx' }),
  async createAppend(path) {
    const f = await nodeFs.createAppend(path);
    return { append: (parts) => f.append(parts), datasync: async () => undefined, close: () => f.close() };
  },
  rename: nodeFs.rename,
  unlink: nodeFs.unlink,
  fsyncDir: async () => undefined,
};

/** The real calls, with the time spent waiting for each fsync/fdatasync counted (the note says it). */
function timedFs(): { fs: StoreFs; syncs: { n: number; ms: number } } {
  const syncs = { n: 0, ms: 0 };
  const timed = async <T>(p: () => Promise<T>): Promise<T> => {
    const t0 = now();
    try {
      return await p();
    } finally {
      syncs.n++;
      syncs.ms += (now() - t0) * 1000;
    }
  };
  const fs: StoreFs = {
    writeNew: (path, data) => timed(() => nodeFs.writeNew(path, data)),
    async createAppend(path) {
      const f = await nodeFs.createAppend(path);
      return { append: (parts) => f.append(parts), datasync: () => timed(() => f.datasync()), close: () => f.close() };
    },
    rename: nodeFs.rename,
    unlink: nodeFs.unlink,
    fsyncDir: (path) => timed(() => nodeFs.fsyncDir(path)),
  };
  return { fs, syncs };
}

async function brineRun(src: Child, dir: string, label: string, window: number | undefined, fsync = true, snapshotId = 'bench'): Promise<Row> {
  const storeDir = join(dir, `dst-${label.replace(/\W/g, '_')}`);
  const timing = timedFs();
  const store = await SnapshotStore.open(storeDir, { fs: fsync ? timing.fs : noSyncFs, ...(process.env.BENCH_PACK_MIB ? { packBytes: Number(process.env.BENCH_PACK_MIB) * MiB } : {}) });
  const opts: grpc.ChannelOptions = { ...TRANSFER_CLIENT_OPTIONS };
  if (window === undefined) delete opts['grpc-node.flow_control_window'];
  else opts['grpc-node.flow_control_window'] = window;
  const fetcher = new SnapshotFetcher({
    store,
    maxConcurrent: 2,
    bandwidthMiBps: 1e6,
    logger: silentLogger,
    connect: (a) => new AgentService(a, grpc.credentials.createInsecure(), opts) as unknown as AgentServiceClient,
  });
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const srcBefore = await childUsage(src);
  const cpu0 = cpuSeconds();
  const t0 = now();
  const r = await fetcher.fetch({ snapshotId, source: `127.0.0.1:${src.info.port ?? 0}`, urgent: true });
  const s = now() - t0;
  const dstCpu = cpuSeconds() - cpu0;
  const srcAfter = await childUsage(src);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  rmSync(storeDir, { recursive: true, force: true });
  const gib = r.bytesDone / (1024 * MiB);
  return {
    what: `brine FetchSnapshot (${label})`,
    seconds: s,
    plainMiB: r.bytesDone / MiB,
    wireMiB: r.wireBytes / MiB,
    srcCpuPerGiB: (srcAfter.cpu - srcBefore.cpu) / gib,
    dstCpuPerGiB: dstCpu / gib,
    note: `${r.chunksDone} chunks, verified${fsync ? ` + fsync'd (${timing.syncs.n} syncs, ${timing.syncs.ms.toFixed(0)} ms waited on them)` : ', no fsync'}; dest RSS peak +${((peak - rss0) / MiB).toFixed(0)} MiB, source peak RSS ${(srcAfter.maxRss / MiB).toFixed(0)} MiB (whole life)`,
  };
}

const wireOnly = z.object({ chunks: z.array(z.object({ hash: z.string(), data: z.instanceof(Uint8Array) })) });

/**
 * The transfer path alone: GetManifest + ReadChunks batches from the real source, each chunk
 * received and dropped (no verify, no store). Separates the wire (gRPC, windows, messages) from
 * the destination store's cost.
 */
async function wireRun(src: Child): Promise<Row | string> {
  const client = new AgentService(`127.0.0.1:${src.info.port ?? 0}`, grpc.credentials.createInsecure(), TRANSFER_CLIENT_OPTIONS) as unknown as AgentServiceClient;
  try {
    const srcBefore = await childUsage(src);
    const cpu0 = cpuSeconds();
    const t0 = now();
    const json = await new Promise<string>((res, rej) => client.getManifest({ snapshotId: 'bench' }, (e, r) => (e ? rej(e) : res(r?.manifestJson ?? ''))));
    const m = parseManifest(JSON.parse(json), 'bench manifest');
    const sizes = new Map(m.files.flatMap((f) => f.chunks.map((c) => [c.hash, c.size] as const)));
    const hashes = [...sizes.keys()];
    let plain = 0;
    let wire = 0;
    for (let i = 0; i < hashes.length; i += BATCH_CHUNKS) {
      const call = client.readChunks({ snapshotId: 'bench', hashes: hashes.slice(i, i + BATCH_CHUNKS) });
      for await (const raw of call as AsyncIterable<unknown>) {
        const msg = wireOnly.safeParse(raw);
        if (!msg.success) return 'ReadChunks only: this build sends one chunk per message (skipped)';
        for (const c of msg.data.chunks) {
          plain += sizes.get(c.hash) ?? 0;
          wire += c.data.length;
        }
      }
    }
    const s = now() - t0;
    const gib = plain / (1024 * MiB);
    const dstCpu = cpuSeconds() - cpu0;
    const srcAfter = await childUsage(src);
    return { what: 'ReadChunks only (received, dropped)', seconds: s, plainMiB: plain / MiB, wireMiB: wire / MiB, srcCpuPerGiB: (srcAfter.cpu - srcBefore.cpu) / gib, dstCpuPerGiB: dstCpu / gib, note: 'the wire path alone: no verify, no store' };
  } finally {
    client.close();
  }
}

async function tcpRun(port: number, dir: string): Promise<Row> {
  const out = join(dir, 'tcp.out');
  const fh = await open(out, 'w');
  const t0 = now();
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const ws = createWriteStream(out, { fd: fh.fd, autoClose: false } as Parameters<typeof createWriteStream>[1]);
    sock.on('data', (b: Buffer) => (bytes += b.length));
    sock.pipe(ws);
    ws.on('finish', resolve);
    sock.on('error', reject);
  });
  await fh.sync();
  await fh.close();
  const s = now() - t0;
  rmSync(out, { force: true });
  return { what: 'plain TCP (node:net, 2 processes)', seconds: s, plainMiB: bytes / MiB, wireMiB: bytes / MiB, note: 'raw bytes to one file + fsync; no hashing, no compression' };
}

function ensureRsync(): boolean {
  if (spawnSync('rsync', ['--version']).status === 0) return true;
  process.stdout.write('rsync is not installed: installing it with apt-get (for the comparison only)…\n');
  const r = spawnSync('sh', ['-c', 'apt-get install -y rsync >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y rsync >/dev/null 2>&1)'], { stdio: 'inherit' });
  return r.status === 0 && spawnSync('rsync', ['--version']).status === 0;
}

async function rsyncRun(filesDir: string, dir: string): Promise<Row | string> {
  if (!ensureRsync()) return 'rsync unavailable (apt-get install rsync failed): skipped';
  const port = await new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
  const conf = join(dir, 'rsyncd.conf');
  writeFileSync(conf, `use chroot = no\nport = ${port}\naddress = 127.0.0.1\npid file = ${join(dir, 'rsyncd.pid')}\nlog file = ${join(dir, 'rsyncd.log')}\n[snap]\npath = ${filesDir}\nread only = yes\nuid = ${process.getuid?.() ?? 0}\ngid = ${process.getgid?.() ?? 0}\n`);
  const daemon = spawn('rsync', ['--daemon', '--no-detach', `--config=${conf}`], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 50; i++) {
      if (spawnSync('rsync', [`rsync://127.0.0.1:${port}/`]).status === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const dest = join(dir, 'rsync-dst');
    mkdirSync(dest);
    const t0 = now();
    const r = spawnSync('rsync', ['-a', '--whole-file', `rsync://127.0.0.1:${port}/snap/`, `${dest}/`]);
    spawnSync('sync', ['-f', dest]);
    const s = now() - t0;
    if (r.status !== 0) return `rsync failed: ${r.stderr.toString().trim()}`;
    const bytes = readdirSync(dest).reduce((n, f) => n + statSync(join(dest, f)).size, 0);
    rmSync(dest, { recursive: true, force: true });
    return { what: 'rsync daemon on loopback', seconds: s, plainMiB: bytes / MiB, wireMiB: bytes / MiB, note: 'rsync -a --whole-file rsync://127.0.0.1 → empty dir, then sync' };
  } finally {
    await new Promise((r) => (daemon.exitCode !== null ? r(null) : (daemon.once('exit', r), daemon.kill('SIGTERM'))));
  }
}

async function main(): Promise<void> {
  const [role, a1, a2] = process.argv.slice(2);
  if (role === 'source') return sourceAgent(a1 as string, a2 as string);
  if (role === 'tcp') return tcpSender(a1 as string);

  const dir = mkdtempSync(join(tmpdir(), 'brine-transfer-bench-'));
  const filesDir = join(dir, 'files');
  mkdirSync(filesDir);
  const children: ChildProcess[] = [];
  try {
    const data = prepareFiles(filesDir);
    console.log(`\nSnapshot transfer on loopback (${process.platform}, ${(await import('node:os')).cpus().length} cores, node ${process.version})`);
    console.log(`data: ${data}`);
    const t0 = now();
    const src = await startChild(['source', filesDir, join(dir, 'src-store')]);
    children.push(src.child);
    console.log(`source agent (child process) stored it in ${(now() - t0).toFixed(1)} s: ${((src.info.storedBytes ?? 0) / MiB).toFixed(0)} MiB compressed`);
    const rows: Array<Row | string> = [];
    rows.push(await wireRun(src));
    const base = await brineRun(src, dir, '16 MiB window', 16 * MiB);
    rows.push(base);
    rows.push(await brineRun(src, dir, 'default 64 KiB window', undefined));
    rows.push(await brineRun(src, dir, '16 MiB window, no fsync', 16 * MiB, false));
    const big = await brineRun(src, dir, `64 GiB synthetic, ${((src.info.bigRefs ?? 0) / 1000).toFixed(0)}k refs`, 16 * MiB, true, 'bench-64g');
    const bigGiB = (src.info.bigBytes ?? 0) / (1024 * MiB);
    const perSnapGiB = (((big.srcCpuPerGiB ?? 0) + (big.dstCpuPerGiB ?? 0)) * (big.plainMiB / 1024)) / bigGiB;
    big.note += `; ${bigGiB.toFixed(0)} GiB of snapshot, only its distinct chunks travel: src+dst ${perSnapGiB.toFixed(2)} CPU s per GiB of snapshot`;
    rows.push(big);
    const tcp = await startChild(['tcp', filesDir]);
    children.push(tcp.child);
    const tcpRow = await tcpRun(tcp.info.port ?? 0, dir);
    rows.push(tcpRow);
    const rsync = await rsyncRun(filesDir, dir);
    rows.push(rsync);

    const rate = (r: Row): number => r.plainMiB / r.seconds;
    const cpu = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2));
    console.log('');
    console.log(
      `${'method'.padEnd(48)}${'time s'.padStart(8)}${'data MiB/s'.padStart(12)}${'wire MiB'.padStart(10)}${'×TCP'.padStart(7)}${'×rsync'.padStart(8)}${'src CPU'.padStart(9)}${'dst CPU'.padStart(9)}  notes`,
    );
    for (const r of rows) {
      if (typeof r === 'string') {
        console.log(r);
        continue;
      }
      const vsRsync = typeof rsync === 'string' ? '-' : (rate(r) / rate(rsync)).toFixed(2);
      console.log(
        `${r.what.padEnd(48)}${r.seconds.toFixed(2).padStart(8)}${rate(r).toFixed(0).padStart(12)}${r.wireMiB.toFixed(0).padStart(10)}${(rate(r) / rate(tcpRow)).toFixed(2).padStart(7)}${vsRsync.padStart(8)}${cpu(r.srcCpuPerGiB).padStart(9)}${cpu(r.dstCpuPerGiB).padStart(9)}  ${r.note}`,
      );
    }
    console.log('src/dst CPU: user+system CPU seconds per GiB of snapshot data carried, of the source process and of the destination process.');
    const cpuOf = (r: Row): number => ((r.srcCpuPerGiB ?? 0) + (r.dstCpuPerGiB ?? 0)) * (r.plainMiB / 1024);
    const refs = (src.info.bigRefs ?? 0) * (1 - 1 / SYNTHETIC_COPIES);
    console.log(
      `64 GiB synthetic vs 256 MiB (same bytes carried): +${(cpuOf(big) - cpuOf(base)).toFixed(2)} CPU s for +${(refs / 1000).toFixed(0)}k chunk refs = ${(((cpuOf(big) - cpuOf(base)) / refs) * 1e6).toFixed(1)} µs per ref (src+dst); ` +
        `a real 64 GiB snapshot would add that per ref to the per-GiB cost above, not a factor of its size.`,
    );
    console.log('data MiB/s: snapshot bytes delivered per second (brine sends chunks compressed: wire < data).');
  } finally {
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'))))));
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
