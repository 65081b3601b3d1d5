// Issue 14's benchmark: what the metrics cost. The same real coordinator + agent grid (test
// driver) is run with and without `metrics.listen` (scraped every second while it works, as
// Prometheus would): acknowledged submits/s and gRPC health checks/s through the interceptor; then
// the time of one scrape of the coordinator and of the agent with those jobs in place. Baseline:
// the same figures without metrics, in the same run. Prints; asserts nothing.
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { loadSync } from '@grpc/proto-loader';
import { CLIENT_OPTIONS, JobService, type Job } from '../src/shared/proto.js';
import type { JobServiceClient } from '../src/gen/brine/v1/JobService.js';
import { freePort, TestGrid } from '../test/helpers/grid.js';
import { ADMIN_FILES, transportOf } from '../test/helpers/pki.js';
import { clientCredentials, TLS_CLIENT_OPTIONS } from '../src/shared/tls.js';

const SUBMITS = Number(process.env.BENCH_SUBMITS ?? 300);
const CONCURRENCY = 32;
const CHECKS = 2000;
const creds = (): grpc.ChannelCredentials => clientCredentials(transportOf(ADMIN_FILES), { roles: ['coordinator'] });

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await fn(next++);
  }));
}

function submit(client: JobServiceClient, i: number): Promise<Job> {
  return new Promise((resolve, reject) =>
    client.SubmitJob({ name: `m${i}`, vms: 1, cpus: 1, memoryMiB: 64, image: 'tiny', owner: 'bench' }, (err, res) => (err || !res ? reject(err) : resolve(res))),
  );
}

async function healthRate(address: string): Promise<number> {
  const require = createRequire(import.meta.url);
  const protoPath = join(require.resolve('grpc-health-check/package.json'), '..', 'proto', 'health', 'v1', 'health.proto');
  const pkg = grpc.loadPackageDefinition(loadSync(protoPath)) as unknown as {
    grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials, o?: grpc.ChannelOptions) => grpc.Client & { Check: (req: object, cb: (e: unknown) => void) => void } } } };
  };
  const client = new pkg.grpc.health.v1.Health(address, creds(), TLS_CLIENT_OPTIONS);
  const t0 = performance.now();
  await pool(CHECKS, CONCURRENCY, () => new Promise<void>((res, rej) => client.Check({ service: '' }, (e) => (e ? rej(e) : res()))));
  client.close();
  return CHECKS / ((performance.now() - t0) / 1000);
}

async function scrapeMs(port: number, n = 20): Promise<{ p50: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    bytes = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).length;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n / 2)] as number, bytes };
}

interface Row {
  scenario: string;
  submitsPerSec: number;
  healthPerSec: number;
  coordinatorScrape?: { p50: number; bytes: number };
  agentScrape?: { p50: number; bytes: number };
}

async function run(withMetrics: boolean): Promise<Row> {
  const grid = new TestGrid();
  const ports = { coordinator: await freePort(), agent: await freePort() };
  let scraping: NodeJS.Timeout | undefined;
  try {
    await grid.startCoordinator({ heartbeatTimeout: '30s', extra: withMetrics ? `metrics: { listen: "127.0.0.1:${ports.coordinator}" }\n` : '' });
    await grid.startAgent({
      name: 'site-a',
      nodes: [{ name: 'a1', cpus: 4096, memoryMiB: 1 << 24 }],
      ...(withMetrics ? { extra: `metrics: { listen: "127.0.0.1:${ports.agent}" }` } : {}),
    });
    if (withMetrics) {
      scraping = setInterval(() => {
        for (const p of [ports.coordinator, ports.agent]) void fetch(`http://127.0.0.1:${p}/metrics`).then((r) => r.text(), (err: Error) => process.stderr.write(`scrape failed: ${err.message}\n`));
      }, 1000);
    }
    const client = new JobService(grid.coordinator, creds(), { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS });
    const t0 = performance.now();
    await pool(SUBMITS, CONCURRENCY, (i) => submit(client, i));
    const submitsPerSec = SUBMITS / ((performance.now() - t0) / 1000);
    client.close();
    const healthPerSec = await healthRate(grid.coordinator);
    if (scraping) clearInterval(scraping);
    return {
      scenario: withMetrics ? 'metrics on, scraped every 1 s' : 'baseline: metrics off',
      submitsPerSec,
      healthPerSec,
      ...(withMetrics ? { coordinatorScrape: await scrapeMs(ports.coordinator), agentScrape: await scrapeMs(ports.agent) } : {}),
    };
  } finally {
    if (scraping) clearInterval(scraping);
    await grid.close();
  }
}

async function main(): Promise<void> {
  const rows = [await run(false), await run(true)];
  const f = (n: number | undefined, d = 0): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d));
  console.log(`\nbrine metrics benchmark — ${SUBMITS} one-VM jobs, ${CONCURRENCY} in flight, ${CHECKS} health checks, 1 agent (test driver), 2 cores\n`);
  const table = [
    ['scenario', 'acked submits/s', 'gRPC health checks/s', 'coordinator scrape p50 ms (text KiB)', 'agent scrape p50 ms (text KiB)'],
    ...rows.map((r) => [
      r.scenario,
      f(r.submitsPerSec),
      f(r.healthPerSec),
      r.coordinatorScrape ? `${f(r.coordinatorScrape.p50, 1)} (${f(r.coordinatorScrape.bytes / 1024, 1)})` : '-',
      r.agentScrape ? `${f(r.agentScrape.p50, 1)} (${f(r.agentScrape.bytes / 1024, 1)})` : '-',
    ]),
  ];
  const widths = (table[0] as string[]).map((_, c) => Math.max(...table.map((r) => (r[c] as string).length)));
  for (const r of table) console.log(r.map((cell, c) => cell.padEnd(widths[c] as number)).join('  '));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
