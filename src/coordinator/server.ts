// Assembles a running coordinator: store, coordinator core, gRPC server with health checking.
import { mkdir } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '../shared/logger.js';
import { BrineError } from '../shared/errors.js';
import { IDLE_SERVER_OPTIONS, serverCredentials, type Transport } from '../shared/tls.js';
import { JobService, RegistryService } from '../shared/proto.js';
import { GrpcAgentGateway } from './agents.js';
import type { CoordinatorConfig } from './config.js';
import { Coordinator } from './coordinator.js';
import { jobServiceHandlers, registryServiceHandlers } from './service.js';
import { Store, type StoreOptions } from './store.js';
import { EtcdBackend } from './etcd-backend.js';
import { Leadership } from './leadership.js';
import { CoordinatorMetrics } from './metrics.js';
import { grpcMetricsInterceptor } from '../shared/grpc-metrics.js';
import { serveMetrics, type HttpEndpoint } from '../shared/metrics-http.js';
import { serveDashboard } from './dashboard/server.js';
import { establishIdentity, type GridIdentity } from './identity.js';
import { startRetention } from './retention.js';

export class CoordinatorServer {
  private constructor(
    readonly coordinator: Coordinator,
    private readonly server: grpc.Server,
    private readonly agents: GrpcAgentGateway,
    readonly port: number,
    private readonly http: { metrics?: CoordinatorMetrics | undefined; endpoints: HttpEndpoint[] },
    private readonly store: Store,
    private readonly stopRetention: () => void,
    /** `store: etcd`: this coordinator's leadership (it leads while it serves) */
    readonly leadership: Leadership | undefined,
  ) {}

  /** `transport`: TLS from the config's `tls`, or plaintext under --insecure (../shared/tls.ts). */
  /** `init`: begin a new grid on a data dir that lost its state (./identity.ts). */
  static async create(config: CoordinatorConfig, log: Logger, transport: Transport, options: { init?: boolean } = {}): Promise<CoordinatorServer> {
    const storeOptions: StoreOptions = {
      log,
      ...(config.commitDelay ? { commitDelayMs: config.commitDelay } : {}),
      ...(config.journal.compactAfter ? { compactAfterBytes: config.journal.compactAfter * 1024 * 1024 } : {}),
    };
    let leadership: Leadership | undefined;
    let store: Store;
    if (config.store === 'etcd' && config.etcd) {
      // the data dir keeps only the grid-id marker (./identity.ts); a standby waits here, serving nothing, until it leads
      await mkdir(config.dataDir, { recursive: true });
      const settings = { endpoints: config.etcd.endpoints, prefix: config.etcd.prefix, leaseTtlS: Math.ceil(config.etcd.leaseTtl / 1000) };
      leadership = await Leadership.acquire(settings, config.listen, log);
      const lead = leadership;
      try {
        const { backend, loaded } = await EtcdBackend.open(lead.etcd, settings.prefix, lead.guard, (err) => lead.lose(err), log);
        store = Store.over(backend, loaded, storeOptions);
      } catch (err) {
        await lead.resign();
        throw err;
      }
    } else {
      store = await Store.open(config.dataDir, storeOptions);
    }
    let grid: GridIdentity;
    try {
      grid = await establishIdentity(config.dataDir, store, { init: options.init === true, log });
    } catch (err) {
      await store.close();
      await leadership?.resign();
      throw err;
    }
    const agents = new GrpcAgentGateway(transport);
    agents.setIdentity(grid);
    const coordinator = new Coordinator({ config, store, agents, log });
    const metrics = config.metrics ? new CoordinatorMetrics(coordinator, log) : undefined;
    const server = new grpc.Server({
      'grpc.max_concurrent_streams': 1000,
      ...IDLE_SERVER_OPTIONS,
      ...(metrics ? { interceptors: [grpcMetricsInterceptor(metrics.registry)] } : {}),
    });
    const limits = {
      minCheckpointEveryMs: config.limits.minCheckpointEvery,
      maxRunningVms: config.limits.perUser.runningVms,
      maxPendingJobs: config.limits.perUser.pendingJobs,
      userDataMaxBytes: config.limits.userDataMaxKiB * 1024,
    };
    server.addService(JobService.service, jobServiceHandlers(coordinator, log, { insecure: transport.kind === 'insecure', limits, jobs: store }));
    server.addService(
      RegistryService.service,
      registryServiceHandlers(coordinator, log, {
        insecure: transport.kind === 'insecure',
        onRegistered: (site, advertise) => agents.learn(advertise, site),
        grid,
        knowsJob: (id) => store.knows(id),
      }),
    );
    const health = new HealthImplementation({ '': 'SERVING', 'brine.v1.JobService': 'SERVING', 'brine.v1.RegistryService': 'SERVING' });
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(config.listen, serverCredentials(transport), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const endpoints: HttpEndpoint[] = [];
    // plain-HTTP side endpoints, each only when its key is set
    const http: Array<[key: string, address: string, serve: () => Promise<HttpEndpoint>]> = [];
    if (metrics && config.metrics) {
      const address = config.metrics.listen;
      http.push(['metrics.listen', address, () => serveMetrics(address, metrics.registry, log)]);
    }
    if (config.dashboard) {
      const address = config.dashboard.listen;
      http.push(['dashboard.listen', address, () => serveDashboard(address, coordinator, log)]);
    }
    for (const [key, address, serve] of http) {
      try {
        endpoints.push(await serve());
      } catch (err) {
        server.forceShutdown();
        await Promise.all(endpoints.map((e) => e.close()));
        throw new BrineError('INTERNAL', `${key}: cannot listen on ${address}: ${(err as Error).message}; give a free address`, { field: key, cause: err });
      }
    }
    coordinator.start();
    const keepMs = config.jobs.keepEndedFor;
    const stopRetention = startRetention(store, { keepMs, everyMs: Math.max(1000, Math.min(keepMs / 10, 3600_000)), now: () => Date.now(), log });
    log.info({ listen: config.listen, port, dataDir: config.dataDir, store: config.store, grid: grid.gridId, epoch: grid.epoch }, 'coordinator listening');
    return new CoordinatorServer(coordinator, server, agents, port, { metrics, endpoints }, store, stopRetention, leadership);
  }

  async close(): Promise<void> {
    this.coordinator.stop();
    this.stopRetention();
    this.http.metrics?.close();
    await Promise.all(this.http.endpoints.map((e) => e.close()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.agents.close();
    await this.store.close();
    await this.leadership?.resign();
  }
}
