// The coordinator's side of the agent API (the network edge): one gRPC client per agent address.
import * as grpc from '@grpc/grpc-js';
import { AgentService, CLIENT_OPTIONS, type ClusterSpec, type ClusterStatus } from '../shared/proto.js';
import { fromGrpcError } from '../shared/errors.js';
import type { AgentServiceClient } from '../gen/brine/v1/AgentService.js';

export interface AgentGateway {
  deploy(address: string, operationId: string, cluster: ClusterSpec): Promise<ClusterStatus>;
  destroy(address: string, operationId: string, jobId: string): Promise<ClusterStatus>;
  close(): void;
}

export class GrpcAgentGateway implements AgentGateway {
  private readonly clients = new Map<string, AgentServiceClient>();

  constructor(private readonly timeoutMs = { deploy: 120_000, destroy: 60_000 }) {}

  private client(address: string): AgentServiceClient {
    let client = this.clients.get(address);
    if (!client) {
      client = new AgentService(address, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
      this.clients.set(address, client);
    }
    return client;
  }

  deploy(address: string, operationId: string, cluster: ClusterSpec): Promise<ClusterStatus> {
    return new Promise((resolve, reject) => {
      this.client(address).DeployCluster(
        { operationId, cluster },
        { deadline: Date.now() + this.timeoutMs.deploy },
        (err, res) => (err || !res ? reject(fromGrpcError(err, address)) : resolve(res)),
      );
    });
  }

  destroy(address: string, operationId: string, jobId: string): Promise<ClusterStatus> {
    return new Promise((resolve, reject) => {
      this.client(address).DestroyCluster(
        { operationId, jobId },
        { deadline: Date.now() + this.timeoutMs.destroy },
        (err, res) => (err || !res ? reject(fromGrpcError(err, address)) : resolve(res)),
      );
    });
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
