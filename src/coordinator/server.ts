// Assembles a running coordinator: store, coordinator core, gRPC server with health checking.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '../shared/logger.js';
import { JobService, RegistryService } from '../shared/proto.js';
import { GrpcAgentGateway } from './agents.js';
import type { CoordinatorConfig } from './config.js';
import { Coordinator } from './coordinator.js';
import { jobServiceHandlers, registryServiceHandlers } from './service.js';
import { Store } from './store.js';

export class CoordinatorServer {
  private constructor(
    readonly coordinator: Coordinator,
    private readonly server: grpc.Server,
    private readonly agents: GrpcAgentGateway,
    readonly port: number,
  ) {}

  static async create(config: CoordinatorConfig, log: Logger): Promise<CoordinatorServer> {
    const store = await Store.open(config.dataDir, config.commitDelay ? { commitDelayMs: config.commitDelay } : {});
    const agents = new GrpcAgentGateway();
    const coordinator = new Coordinator({ config, store, agents, log });
    const server = new grpc.Server({ 'grpc.max_concurrent_streams': 1000 });
    server.addService(JobService.service, jobServiceHandlers(coordinator, log));
    server.addService(RegistryService.service, registryServiceHandlers(coordinator, log));
    const health = new HealthImplementation({ '': 'SERVING', 'brine.v1.JobService': 'SERVING', 'brine.v1.RegistryService': 'SERVING' });
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(config.listen, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    coordinator.start();
    log.info({ listen: config.listen, port, dataDir: config.dataDir }, 'coordinator listening');
    return new CoordinatorServer(coordinator, server, agents, port);
  }

  async close(): Promise<void> {
    this.coordinator.stop();
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
  }
}
