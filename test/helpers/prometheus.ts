// A real Prometheus (Debian's binary, run by hand: no systemd) on a free loopback port, with a
// temp storage dir and a generated scrape config, for the real-Prometheus tier (test/prometheus/).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './grid.js';

export const PROMETHEUS_BIN = process.env.BRINE_PROMETHEUS ?? '/usr/bin/prometheus';

export interface ScrapeJob {
  name: string;
  targets: string[];
}

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export class TestPrometheus {
  readonly dir = mkdtempSync(join(tmpdir(), 'brine-prom-'));
  port = 0;
  log = '';
  private child: ChildProcess | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(jobs: ScrapeJob[]): Promise<void> {
    this.port = await freePort();
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 900ms',
      'scrape_configs:',
      ...jobs.flatMap((j) => [`  - job_name: ${JSON.stringify(j.name)}`, '    static_configs:', `      - targets: ${JSON.stringify(j.targets)}`]),
    ].join('\n');
    const file = join(this.dir, 'prometheus.yml');
    writeFileSync(file, config + '\n');
    const child = spawn(
      PROMETHEUS_BIN,
      [`--config.file=${file}`, `--storage.tsdb.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${this.port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const add = (b: Buffer): void => void (this.log += b.toString());
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
    await waitFor('prometheus to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${this.log.slice(-2000)}`);
      const res = await fetch(`${this.url}/-/ready`);
      return res.status === 200;
    }, 30_000, 200);
  }

  /** An instant query through the HTTP API; the vector's series. */
  async query(promql: string): Promise<PromSeries[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSeries[] } };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${promql}: ${body.error ?? res.status}`);
    if (body.data.resultType !== 'vector') throw new Error(`query ${promql}: a ${body.data.resultType}, not a vector`);
    return body.data.result;
  }

  /** The single value of a query (undefined while it has no series). */
  async value(promql: string): Promise<number | undefined> {
    const r = await this.query(promql);
    if (r.length > 1) throw new Error(`query ${promql}: ${r.length} series`);
    return r[0] ? Number(r[0].value[1]) : undefined;
  }

  async targets(): Promise<Array<{ job: string; instance: string; health: string; lastError: string }>> {
    const res = await fetch(`${this.url}/api/v1/targets?state=active`);
    const body = (await res.json()) as { data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> } };
    return body.data.activeTargets.map((t) => ({ job: t.labels.job ?? '', instance: t.labels.instance ?? '', health: t.health, lastError: t.lastError }));
  }

  async close(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
