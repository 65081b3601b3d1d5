// brine-agent --config FILE [--log-level L] [--cleanup]
//
// One per site: opens libvirt on the site's nodes, adopts what already runs there, serves
// AgentService (and grpc.health.v1.Health) on `listen`, registers with the coordinator and
// heartbeats. SIGINT/SIGTERM stop it gracefully; with --cleanup it first destroys every cluster of
// its site (the VMs otherwise keep running on QEMU nodes, to be adopted by the next agent).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { BrineError } from '../src/shared/errors.js';
import { createLogger, type Logger } from '../src/shared/logger.js';
import { AgentService } from '../src/shared/proto.js';
import { formatDuration } from '../src/shared/units.js';
import { ClusterManager } from './clusters.js';
import { loadSiteConfig, type SiteConfig } from './config.js';
import { GrpcRegistry, loadInstanceId, Registrar } from './registration.js';
import { createAgentHandlers } from './service.js';
import { Consoles } from './consoles.js';
import { e2fsOutputDisks } from './output-disk.js';
import { Outputs } from './outputs.js';
import { systemTimers } from '../src/shared/clock.js';
import { SnapshotStore, storeDir } from './snapshot-store/index.js';
import { ClusterSnapshots } from './snapshots.js';
import { createTransfers, TRANSFER_CLIENT_OPTIONS, TRANSFER_SERVER_OPTIONS, type Transfers } from './transfer/index.js';
import { clientCredentials, IDLE_SERVER_OPTIONS, TLS_CLIENT_OPTIONS, INSECURE_WARNING, serverCredentials, transportFrom, type Transport } from '../src/shared/tls.js';
import { guardAgentHandlers } from './authz.js';
import { GridMembership } from './grid-membership.js';
import { TicketVerifier } from '../src/shared/ticket.js';
import { grpcMetricsInterceptor } from '../src/shared/grpc-metrics.js';
import { serveMetrics, type HttpEndpoint } from '../src/shared/metrics-http.js';
import { AgentMetrics } from './metrics.js';
import { storeStats } from './store-stats.js';
import { LocalReclaims, localReclaimFile } from './local-reclaim.js';

const USAGE = 'usage: brine-agent --config FILE [--log-level debug|info|warn|error] [--cleanup] [--insecure]';
/** how long a fenced cluster's consoles and output disks are kept when no destroy asks for longer */
const FENCE_KEEP_MS = 60 * 60_000;

function die(message: string, code: number): never {
  process.stderr.write(`brine-agent: ${message}\n`);
  process.exit(code);
}

function parseCommandLine(): { config: string; logLevel: string; cleanup: boolean; insecure: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        'log-level': { type: 'string' },
        cleanup: { type: 'boolean', default: false },
        insecure: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    die(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!values.config) die(`--config is required\n${USAGE}`, 2);
  const logLevel = values['log-level'] ?? process.env.BRINE_LOG_LEVEL ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    die(`--log-level: expected debug, info, warn or error, got "${logLevel}"`, 2);
  }
  return { config: values.config, logLevel, cleanup: values.cleanup ?? false, insecure: values.insecure ?? false };
}

/** One agent per data dir: a second one on the same host would fight over the same VMs. */
async function lockDataDir(dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'agent.pid');
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) die(`another brine-agent (pid ${pid}) is using the data dir ${dataDir}; stop it first`, 1);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(file, `${process.pid}\n`);
  return file;
}

function bind(server: grpc.Server, address: string, transport: Transport): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, serverCredentials(transport), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

async function main(): Promise<void> {
  const args = parseCommandLine();
  let config: SiteConfig;
  try {
    config = loadSiteConfig(args.config);
  } catch (err) {
    die(err instanceof BrineError ? `invalid config: ${err.message}` : String(err), 2);
  }
  let transport: Transport;
  try {
    transport = transportFrom(config.tls, args.insecure, 'brine-agent');
  } catch (err) {
    die(err instanceof BrineError ? `invalid config: ${err.message}` : String(err), 2);
  }
  if (transport.kind === 'insecure') process.stderr.write(`brine-agent: ${INSECURE_WARNING}\n`);
  // The manager and the registrar add `site` to their own child loggers.
  const root: Logger = createLogger('brine-agent', args.logLevel);
  const log = root.child({ site: config.site });
  const pidFile = await lockDataDir(config.dataDir);

  let manager: ClusterManager;
  try {
    manager = await ClusterManager.open({
      site: config.site,
      dataDir: config.dataDir,
      nodes: config.nodes,
      images: config.images,
      egress: config.egress,
      maxOutputDiskMiB: config.maxOutputDiskMiB,
      pollIntervalMs: config.pollInterval,
      logger: root,
    });
  } catch (err) {
    log.error({ err: (err as Error).message }, 'cannot open libvirt');
    await rm(pidFile, { force: true });
    die((err as Error).message, err instanceof BrineError && err.code === 'INVALID_ARGUMENT' ? 2 : 1);
  }
  // Before adoption and registration: a snapshot an earlier agent left half done has its VMs
  // running again (or its suspend finished) and its work files removed, so what is adopted and
  // reported is a settled state.
  let snapshots: ClusterSnapshots;
  let transfers: Transfers;
  let consoles: Consoles;
  let outputs: Outputs;
  const metrics = config.metrics ? new AgentMetrics(config.site, log) : undefined;
  let local: LocalReclaims;
  try {
    // The logger: a store of the layout before packs is converted here, and says so.
    const store = await SnapshotStore.open(storeDir(config.dataDir), { logger: root.child({ component: 'snapshot-store' }) });
    metrics?.watchStore(() => storeStats(store));
    consoles = new Consoles({ clusters: manager, store, dataDir: config.dataDir, timers: systemTimers, log });
    await consoles.sweep();
    outputs = new Outputs({ clusters: manager, store, tool: e2fsOutputDisks, dataDir: config.dataDir, log });
    await outputs.clearWork();
    await outputs.sweep();
    // a fenced cluster may be a job that just ended: its files stay an hour, or as long as the
    // coordinator's destroy then asks (jobs.keepEndedFor)
    manager.setFenceHook(async (job) => {
      await consoles.keep(job, FENCE_KEEP_MS);
      await outputs.keep(job, FENCE_KEEP_MS);
    });
    snapshots = new ClusterSnapshots({ clusters: manager, store, dataDir: config.dataDir, site: config, logger: root });
    const recovered = await snapshots.recover();
    if (recovered.length > 0) log.warn({ recovered }, 'recovered interrupted snapshots');
    // after the recovery: a local suspend cut short is then either committed or undone
    local = await LocalReclaims.open({
      site: config.site,
      nodes: config.nodes.map((n) => n.name),
      clusters: manager,
      snapshots,
      store,
      file: localReclaimFile(config.dataDir),
      logger: root,
    });
    // Imports an earlier agent left unfinished keep their chunks (the store protects them); the
    // coordinator's next FetchSnapshot of each resumes it with only what is still missing.
    const pending = await store.pendingImports();
    if (pending.length > 0) log.info({ snapshots: pending }, 'unfinished snapshot transfers: they resume when fetched again');
    // transfers: the source must be another site of the grid
    const peer = clientCredentials(transport, { roles: ['site'] });
    transfers = createTransfers({
      store,
      transfer: config.transfer,
      logger: log,
      connect: (address) => new AgentService(address, peer, { ...TRANSFER_CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS }),
      ...(metrics ? { metrics } : {}),
    });
    metrics?.watchSchedulers({ fetcher: transfers.fetcher.scheduler, source: transfers.source.scheduler });
  } catch (err) {
    log.error({ err: (err as Error).message }, 'cannot open the snapshot store, recover interrupted snapshots or read the local reclaims');
    await manager.close();
    await rm(pidFile, { force: true });
    die((err as Error).message, 1);
  }
  let membership: GridMembership;
  try {
    membership = await GridMembership.load(config.dataDir);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'cannot read the grid membership');
    await manager.close();
    await rm(pidFile, { force: true });
    die((err as Error).message, 1);
  }
  if (membership.gridId) log.info({ grid: membership.gridId, epoch: membership.epoch }, 'member of grid');
  const adopted = await manager.adopt();
  log.info({ clusters: adopted.map((c) => c.jobId) }, adopted.length > 0 ? 'adopted running clusters' : 'no cluster of this site in libvirt');

  // Server options sized for serving snapshot chunks to other agents (transfer/options.ts).
  const server = new grpc.Server({
    ...TRANSFER_SERVER_OPTIONS,
    ...IDLE_SERVER_OPTIONS,
    ...(metrics ? { interceptors: [grpcMetricsInterceptor(metrics.registry)] } : {}),
  });
  const handlers = createAgentHandlers({
    clusters: metrics ? metrics.instrumentClusters(manager) : manager,
    snapshots: metrics ? metrics.instrumentSnapshots(snapshots) : snapshots,
    consoles,
    outputs,
    site: config,
    logger: log,
    transfers: transfers.handlers,
    local,
    membership,
  });
  const reads = transport.kind === 'insecure' ? ({ insecure: true } as const) : ({ insecure: false, tickets: new TicketVerifier(transport.tls.ca) } as const);
  server.addService(AgentService.service, guardAgentHandlers(handlers, log, reads, config.site, membership));
  const health = new HealthImplementation({ '': 'SERVING', 'brine.v1.AgentService': 'SERVING' });
  health.addToServer(server);
  try {
    await bind(server, config.listen, transport);
  } catch (err) {
    await manager.close();
    await rm(pidFile, { force: true });
    die(`cannot listen on ${config.listen}: ${(err as Error).message}`, 1);
  }
  let metricsEndpoint: HttpEndpoint | undefined;
  if (metrics && config.metrics) {
    try {
      metricsEndpoint = await serveMetrics(config.metrics.listen, metrics.registry, log);
    } catch (err) {
      server.forceShutdown();
      await manager.close();
      await rm(pidFile, { force: true });
      die(`metrics.listen: cannot listen on ${config.metrics.listen}: ${(err as Error).message}; give a free address`, 1);
    }
  }
  log.info({ listen: config.listen, advertise: config.advertise, nodes: config.nodes.map((n) => `${n.name}@${n.uri}`) }, 'agent serving');

  const registry = new GrpcRegistry(config.coordinator, clientCredentials(transport, { roles: ['coordinator'] }));
  let stopping: Promise<void> | null = null;
  const shutdown = (code: number, cleanup: boolean): Promise<void> => {
    stopping ??= (async () => {
      log.info({ cleanup }, 'stopping');
      health.setStatus('', 'NOT_SERVING');
      health.setStatus('brine.v1.AgentService', 'NOT_SERVING');
      await registrar.stop();
      await manager.stopPolling();
      if (cleanup) {
        try {
          const jobs = await manager.destroyAll('agent stopped with --cleanup');
          log.info({ jobs }, 'destroyed every cluster of this site');
        } catch (err) {
          log.error({ err: (err as Error).message }, 'cleanup failed');
          code = code || 1;
        }
      }
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 5_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      registry.close();
      await metricsEndpoint?.close();
      await manager.close();
      await rm(pidFile, { force: true });
      log.info({ code }, 'stopped');
      process.exit(code);
    })();
    return stopping;
  };

  const registrar = new Registrar({
    describe: {
      site: config.site,
      advertise: config.advertise,
      nodes: config.nodes.map((n) => {
        const g = manager.nodeGuest(n.name);
        return { name: n.name, uri: n.uri, cpus: n.cpus, memoryMiB: n.memoryMiB, arch: g?.arch ?? '', domainType: g?.type ?? '', domainTypes: g?.types ?? [], cpuModel: g?.cpuModel ?? '' };
      }),
      images: Object.keys(config.images),
      subnetPool: config.network.subnetPool,
      macRange: config.network.macRange,
      defaultCheckpointEvery: formatDuration(config.snapshots.every),
      snapshotsKeep: config.snapshots.keep,
      snapshotsReplicas: config.snapshots.replicas,
      egress: config.egress,
      maxOutputDiskMiB: config.maxOutputDiskMiB,
    },
    instance: await loadInstanceId(config.dataDir),
    // a cluster being suspended locally stays in the heartbeats (paused) until the report has it
    clusters: { status: async () => local.overlay(await manager.status()), fenceMark: () => manager.fenceMark(), fence: (jobs, mark) => manager.fence(jobs, mark) },
    local,
    membership,
    registry,
    coordinator: config.coordinator.join(', '),
    logger: root,
    onFatal: (message, exitCode) => {
      process.stderr.write(`brine-agent: ${message}\n`);
      void shutdown(exitCode, false);
    },
  });
  manager.onChange((status) => registrar.report(status));
  manager.startPolling();
  registrar.start();

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'signal received');
    void shutdown(0, args.cleanup);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`brine-agent: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
