// Issue 10.2's benchmark of the coordinator's store, in process (no gRPC, no placement):
// - durable commits/s: many concurrent "requests", each adding one job and awaiting its commit,
//   beside one fsynced write per request (the baseline, same run, same disk);
// - the cost of one commit with 10k live jobs: bytes written and ms, journal vs the whole-state
//   rewrite the store did before (baseline, same run);
// - a compaction of that state: total ms and the longest event-loop stall during it;
// - the same durable commits/s with `store: etcd` (a real 3-member etcd cluster on loopback,
//   scripts/etcd-cluster.sh), this process the elected leader: what HA costs per commit.
// Prints; asserts nothing.
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Store, type JobRecord } from '../src/coordinator/store.js';
import { writeAtomically } from '../src/coordinator/file-backend.js';
import { EtcdBackend } from '../src/coordinator/etcd-backend.js';
import { Leadership } from '../src/coordinator/leadership.js';
import { silentLogger } from '../src/shared/logger.js';

const COMMITS = Number(process.env.BENCH_STORE_COMMITS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_STORE_CONCURRENCY ?? 64);
const LIVE = Number(process.env.BENCH_STORE_LIVE ?? 10_000);
const ETCD_COMMITS = Number(process.env.BENCH_STORE_ETCD_COMMITS ?? 5_000);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function job(id: string): JobRecord {
  const at = new Date().toISOString();
  // about the size of a live job with some history (the issue's 18.8 MB for 10k jobs)
  return {
    id, name: `bench-${id}`, owner: 'bench', state: 'RUNNING', site: 'site-a', pinnedSite: '', subnet: '10.1.2.0/29', gateway: '10.1.2.1',
    vms: Array.from({ length: 4 }, (_, i) => ({ name: `bench-${id}-${i}`, node: `a${i}`, mac: `02:b1:10:00:00:0${i}`, ip: `10.1.2.${i + 2}`, state: 'RUNNING', domain: `brine-${id}-${i}`, console: '' })),
    vmCount: 4, cpus: 1, memoryMiB: 64, image: 'tiny', checkpointEvery: '30m', lastSnapshot: 's0000000001', createdAt: at,
    history: Array.from({ length: 12 }, (_, i) => ({ at, state: i % 2 ? 'RUNNING' : 'CHECKPOINTING', reason: `checkpoint s00000000${i}: requested by the periodic policy; snapshot 12.0 MiB (1.1 MiB new), downtime 40 ms` })),
    deployAttempts: 0,
  };
}

function fsyncRate(dir: string, n = 300): number {
  const t0 = performance.now();
  const fd = openSync(join(dir, 'f'), 'w');
  for (let i = 0; i < n; i++) {
    writeSync(fd, randomBytes(512));
    fsyncSync(fd);
  }
  closeSync(fd);
  return n / ((performance.now() - t0) / 1000);
}

async function commitRate(dir: string): Promise<{ perSec: number; records: number }> {
  return commitRateOf(await Store.open(dir), COMMITS);
}

async function commitRateOf(store: Store, commits: number): Promise<{ perSec: number; records: number }> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < commits) {
        const id = `j${next++}`;
        store.data.jobs[id] = job(id);
        await store.commit();
      }
    }),
  );
  const perSec = commits / ((performance.now() - t0) / 1000);
  const records = store.writes;
  await store.close();
  return { perSec, records };
}

/** The commit rate on a 3-member etcd cluster, or why it was not measured. */
async function etcdCommitRate(scratch: string): Promise<{ perSec: number; records: number } | string> {
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'skipped: etcd is not installed (bash scripts/setup-etcd.sh)';
  }
  const dir = join(scratch, 'etcd');
  const script = join(ROOT, 'scripts/etcd-cluster.sh');
  const endpoints = execFileSync('bash', [script, 'start', dir, '3'], { encoding: 'utf8' }).trim().split('\n').at(-1)?.split(',') ?? [];
  try {
    const lead = await Leadership.acquire({ endpoints, prefix: '/bench/', leaseTtlS: 10 }, 'bench', silentLogger);
    try {
      const { backend, loaded } = await EtcdBackend.open(lead.etcd, '/bench/', lead.guard, (err) => lead.lose(err));
      return await commitRateOf(Store.over(backend, loaded, { compactAfterBytes: Number.MAX_SAFE_INTEGER }), ETCD_COMMITS);
    } finally {
      await lead.resign();
    }
  } finally {
    execFileSync('bash', [script, 'stop', dir]);
  }
}

async function bigState(dir: string): Promise<{ journalMs: number; journalBytes: number; rewriteMs: number; rewriteBytes: number; compactMs: number; compactBytes: number; stallMs: number; syncMs: number }> {
  const store = await Store.open(dir, { compactAfterBytes: Number.MAX_SAFE_INTEGER });
  for (let i = 0; i < LIVE; i++) store.data.jobs[`j${i}`] = job(`j${i}`);
  await store.commit();
  await store.compact();
  // one commit: one job changes state (median of 20)
  const times: number[] = [];
  const sync: number[] = [];
  let bytes = 0;
  for (let r = 0; r < 20; r++) {
    const before = store.journalBytes;
    const t0 = performance.now();
    const j = store.data.jobs[`j${r}`] as JobRecord;
    j.history.push({ at: new Date().toISOString(), state: 'RUNNING', reason: 'checkpoint done' });
    const p = store.commit();
    sync.push(performance.now() - t0);
    await p;
    times.push(performance.now() - t0);
    bytes = store.journalBytes - before;
  }
  times.sort((a, b) => a - b);
  sync.sort((a, b) => a - b);
  // the baseline: what the store did before, the whole state rewritten per commit
  // (on plain objects: the store's own are behind its change-tracking proxies)
  const plain = { version: 1, jobs: Object.fromEntries(Array.from({ length: LIVE }, (_, i) => [`j${i}`, job(`j${i}`)])), sites: {}, leases: [], snapshots: {} };
  const rewrite: number[] = [];
  let rewriteBytes = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    rewriteBytes = await writeAtomically(join(dir, 'whole.json'), [JSON.stringify(plain)]);
    rewrite.push(performance.now() - t0);
  }
  rewrite.sort((a, b) => a - b);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const c = await store.compact();
  h.disable();
  await store.close();
  return {
    journalMs: times[10] as number,
    journalBytes: bytes,
    syncMs: sync[10] as number,
    rewriteMs: rewrite[2] as number,
    rewriteBytes,
    compactMs: c.ms,
    compactBytes: c.bytes,
    stallMs: h.max / 1e6,
  };
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'brine-bench-store-'));
  try {
    const fsyncPerSec = fsyncRate(scratch);
    const rate = await commitRate(join(scratch, 'rate'));
    const big = await bigState(join(scratch, 'big'));
    const etcd = await etcdCommitRate(scratch);
    const f = (n: number, d = 0): string => n.toFixed(d);
    const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
    console.log(`\nbrine coordinator store benchmark — 2 cores\n`);
    console.log(`durable commits/s (${COMMITS} jobs added, ${CONCURRENCY} requests in flight): ${f(rate.perSec)}/s in ${rate.records} journal records`);
    console.log(`  baseline, same disk: one fsynced write per request: ${f(fsyncPerSec)}/s`);
    console.log(`one commit with ${LIVE} live jobs (one job changed, median of 20):`);
    console.log(`  journal: ${f(big.journalBytes)} bytes appended, ${f(big.journalMs, 1)} ms to durable (${f(big.syncMs, 2)} ms on the event loop)`);
    console.log(`  baseline, whole-state rewrite (the store before the journal): ${mb(big.rewriteBytes)}, ${f(big.rewriteMs)} ms`);
    console.log(`compaction of that state in the background: ${mb(big.compactBytes)} in ${f(big.compactMs)} ms, longest event-loop stall ${f(big.stallMs, 1)} ms`);
    console.log(`durable commits/s on etcd (store: etcd; 3 members on loopback, same disk; ${ETCD_COMMITS} jobs, ${CONCURRENCY} in flight): ${typeof etcd === 'string' ? etcd : `${f(etcd.perSec)}/s in ${etcd.records} transactions`}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
