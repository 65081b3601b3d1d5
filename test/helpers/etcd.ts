// A real 3-member etcd cluster on loopback for the HA tier, started and stopped by the project's
// own script (scripts/etcd-cluster.sh).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './grid.js';

const run = promisify(execFile);

export class EtcdCluster {
  private constructor(
    readonly dir: string,
    readonly endpoints: string[],
  ) {}

  static async start(members = 3): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'brine-etcd-'));
    try {
      const { stdout } = await run('bash', [join(REPO_ROOT, 'scripts/etcd-cluster.sh'), 'start', dir, String(members)], { timeout: 60_000 });
      const line = stdout.trim().split('\n').at(-1) ?? '';
      return new EtcdCluster(dir, line.split(','));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async stop(): Promise<void> {
    await run('bash', [join(REPO_ROOT, 'scripts/etcd-cluster.sh'), 'stop', this.dir], { timeout: 60_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
