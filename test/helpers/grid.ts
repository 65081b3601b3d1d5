// Integration-test harness: real brine-coordinator and brine-agent processes on loopback, with
// temporary data dirs and free ports, torn down (kill + rm) even when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { AgentService, CLIENT_OPTIONS, type ClusterStatus } from '../../src/shared/proto.js';
import { identityFiles } from '../../src/shared/ca.js';
import { clientCredentials, TLS_CLIENT_OPTIONS } from '../../src/shared/tls.js';
import { COORDINATOR_FILES, credentials, PKI_DIR, tlsYaml, transportOf } from './pki.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** The agent's own view of its clusters (from libvirt), straight from its AgentService. */
export async function agentStatus(port: number, options: { includeNetworkXml?: boolean } = {}): Promise<ClusterStatus[]> {
  // as the coordinator: only it may call an agent's control API
  const client = new AgentService(`127.0.0.1:${port}`, clientCredentials(transportOf(COORDINATOR_FILES), { roles: ['site'] }), { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS });
  try {
    return await new Promise((resolve, reject) =>
      client.GetStatus({ includeNetworkXml: options.includeNetworkXml ?? false }, { deadline: Date.now() + 5000 }, (err, res) =>
        err || !res ? reject(err) : resolve(res.clusters),
      ),
    );
  } finally {
    client.close();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface SiteOptions {
  name: string;
  /** `uri` defaults to test:///default */
  nodes?: Array<{ name: string; cpus: number; memoryMiB: number; uri?: string }>;
  subnetPool?: string;
  macRange?: string;
  /** the site's image catalog (name → {kernel, initrd, cmdline} or {disk}); default: `tiny` with dummy paths */
  images?: Record<string, unknown>;
  /** the site's network.egress (default: absent, i.e. none) */
  egress?: 'none' | 'nat';
  /** more top-level YAML for the site file (e.g. `pollInterval: 500ms`) */
  extra?: string;
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

/** A grid of real processes. */
export class TestGrid {
  readonly dir = mkdtempSync(join(tmpdir(), 'brine-it-'));
  coordinatorPort = 0;
  readonly procs = new Map<string, ManagedProcess>();
  readonly sitePorts = new Map<string, number>();
  private readonly logs: WriteStream[] = [];

  /** an HA grid's coordinators (startHaCoordinator): their ports, in order */
  readonly haPorts: number[] = [];

  /** The coordinator's address; an HA grid's are comma-separated (what the CLI takes). */
  get coordinator(): string {
    if (this.haPorts.length) return this.haPorts.map((p) => `127.0.0.1:${p}`).join(',');
    return `127.0.0.1:${this.coordinatorPort}`;
  }

  /**
   * Coordinator `coordinator-<i>` of an HA grid (`store: etcd` on `etcdEndpoints`), with its own
   * port and data dir; resolves once it leads or waits as a standby.
   */
  async startHaCoordinator(i: number, etcdEndpoints: string[], options: { extra?: string; wait?: boolean } = {}): Promise<ManagedProcess> {
    while (this.haPorts.length <= i) this.haPorts.push(await freePort());
    const name = `coordinator-${i}`;
    const file = join(this.dir, `${name}.yaml`);
    writeFileSync(
      file,
      `listen: 127.0.0.1:${this.haPorts[i]}\ndataDir: ${join(this.dir, name)}\nheartbeatTimeout: 10s\n${tlsYaml(COORDINATOR_FILES)}` +
        `store: etcd\netcd:\n  endpoints: [${etcdEndpoints.join(', ')}]\n  prefix: ${this.etcdPrefix}\n  leaseTtl: 2s\n${options.extra ?? ''}`,
    );
    const proc = this.spawn(name, 'bin/brine-coordinator.js', ['--config', file]);
    if (options.wait !== false) await waitFor(`${name} to lead or stand by`, () => /coordinator listening|standby: another coordinator leads/.test(proc.log));
    return proc;
  }

  /** The etcd key prefix of this grid's HA coordinators. */
  get etcdPrefix(): string {
    return `/${basename(this.dir)}/`;
  }

  /** The HA coordinator that serves now (`coordinator listening` in its log and still alive), if any. */
  haLeader(): string | undefined {
    for (const [name, p] of this.procs) {
      if (name.startsWith('coordinator-') && p.child.exitCode === null && p.child.signalCode === null && p.log.includes('coordinator listening')) return name;
    }
    return undefined;
  }

  async startCoordinator(options: { heartbeatTimeout?: string; extra?: string } = {}): Promise<void> {
    if (!this.coordinatorPort) this.coordinatorPort = await freePort();
    const file = join(this.dir, 'coordinator.yaml');
    writeFileSync(file, `listen: 127.0.0.1:${this.coordinatorPort}\ndataDir: ${join(this.dir, 'coordinator')}\nheartbeatTimeout: ${options.heartbeatTimeout ?? '3s'}\n${tlsYaml(COORDINATOR_FILES)}${options.extra ?? ''}`);
    this.spawn('coordinator', 'bin/brine-coordinator.js', ['--config', file]);
    await waitFor('the coordinator to listen', () => this.isListening('coordinator'));
  }

  siteConfig(site: SiteOptions, port: number): string {
    const letter = site.name.replace(/^site-/, '');
    const idx = [...this.sitePorts.keys()].indexOf(site.name);
    const nodes = site.nodes ?? [
      { name: `${letter}1`, cpus: 8, memoryMiB: 16384 },
      { name: `${letter}2`, cpus: 8, memoryMiB: 16384 },
    ];
    return [
      `site: ${site.name}`,
      `coordinator: [${this.coordinator.split(',').join(', ')}]`,
      `listen: 127.0.0.1:${port}`,
      `advertise: 127.0.0.1:${port}`,
      `dataDir: ${join(this.dir, site.name)}`,
      // the site's certificate from the tests' CA (startAgent makes it)
      tlsYaml(identityFiles(PKI_DIR, 'site', site.name)).trimEnd(),
      'nodes:',
      ...nodes.map((n) => `  - { name: ${n.name}, uri: "${n.uri ?? 'test:///default'}", cpus: ${n.cpus}, memoryMiB: ${n.memoryMiB} }`),
      'images:',
      ...(site.images
        ? Object.entries(site.images).map(([name, image]) => `  ${name}: ${JSON.stringify(image)}`)
        : [`  tiny: { kernel: /boot/none-vmlinuz, initrd: /boot/none-initrd, cmdline: console=ttyS0 }`]),
      'network:',
      `  subnetPool: ${site.subnetPool ?? `10.${150 + idx}.0.0/22`}`,
      `  macRange: "${site.macRange ?? `02:b1:${(0x10 + idx).toString(16)}:00:00:00/32`}"`,
      ...(site.egress ? [`  egress: ${site.egress}`] : []),
      ...(site.extra ? [site.extra] : []),
    ].join('\n') + '\n';
  }

  /** The data dir `siteConfig` gives a site (its VM consoles are in `consoles/` under it). */
  siteDataDir(site: string): string {
    return join(this.dir, site);
  }

  /** `args`: more brine-agent flags, e.g. `['--cleanup']`. */
  async startAgent(site: SiteOptions, options: { waitRegistered?: boolean; args?: string[] } = {}): Promise<void> {
    let port = this.sitePorts.get(site.name);
    if (!port) {
      port = await freePort();
      this.sitePorts.set(site.name, port);
    }
    const file = join(this.dir, `${site.name}.yaml`);
    await credentials('site', site.name);
    writeFileSync(file, this.siteConfig(site, port));
    this.spawn(site.name, 'bin/brine-agent.js', ['--config', file, ...(options.args ?? [])]);
    if (options.waitRegistered !== false) {
      await waitFor(`${site.name} to register`, () => (this.procs.get(site.name)?.log ?? '').includes('registered'));
    }
  }

  private isListening(name: string): boolean {
    return (this.procs.get(name)?.log ?? '').includes('listening');
  }

  spawn(name: string, bin: string, args: string[]): ManagedProcess {
    const running = this.procs.get(name);
    // a second one would replace it in `procs` and outlive close()
    if (running && running.child.exitCode === null && running.child.signalCode === null) throw new Error(`${name} is already running (pid ${running.child.pid}); kill it first`);
    const child = spawn(process.execPath, [join(REPO_ROOT, bin), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = createWriteStream(join(this.dir, `${name}.log`), { flags: 'a' });
    this.logs.push(out);
    const proc: ManagedProcess = {
      name,
      child,
      log: '',
      exited: new Promise((res) => child.on('exit', (code) => res(code))),
    };
    const onData = (b: Buffer): void => {
      proc.log += b.toString();
      out.write(b);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.procs.set(name, proc);
    return proc;
  }

  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const proc = this.procs.get(name);
    if (!proc) return null;
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
    const code = await proc.exited;
    this.procs.delete(name);
    return code;
  }

  /** Kills every process and removes the temp dir; prints the logs when a test failed. */
  async close(failed = false): Promise<void> {
    if (failed) {
      for (const p of this.procs.values()) process.stderr.write(`\n----- ${p.name} log -----\n${p.log.slice(-4000)}\n`);
    }
    await Promise.all([...this.procs.keys()].map((n) => this.kill(n, 'SIGKILL')));
    for (const l of this.logs) l.end();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
