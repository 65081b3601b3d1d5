// The reclaim's fallback when the coordinator cannot be reached: the site's own agent knows what
// runs on its nodes (GetStatus, read-only). Loaded only on that path: it parses agent.proto.
import * as grpc from '@grpc/grpc-js';
import { AgentService, CLIENT_OPTIONS, type ClusterStatus } from '../shared/proto.js';
import { UnavailableError } from '../shared/errors.js';
import { TLS_CLIENT_OPTIONS } from '../shared/tls.js';
import { cliCredentials } from './credentials.js';

const STATUS_TIMEOUT_MS = 3_000;

export interface VmOnNode {
  job: string;
  vm: string;
  node: string;
}

/** The brine VMs the agent at `address` runs on `nodes` (throws UnavailableError if it does not answer). */
export async function vmsOnNodes(address: string, nodes: readonly string[]): Promise<VmOnNode[]> {
  const client = new AgentService(address, cliCredentials(process.env, 'site'), { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS });
  try {
    const clusters = await new Promise<ClusterStatus[]>((resolve, reject) =>
      client.GetStatus({ includeNetworkXml: false }, new grpc.Metadata({ waitForReady: false }), { deadline: Date.now() + STATUS_TIMEOUT_MS }, (err, res) => {
        if (err) reject(new UnavailableError(`the site's agent at ${address} did not answer either: ${err.details}`, err));
        else resolve(res?.clusters ?? []);
      }),
    );
    return onNodes(clusters, nodes);
  } finally {
    client.close();
  }
}

/** Pure: which of the clusters' VMs sit on one of `nodes`. */
export function onNodes(clusters: readonly ClusterStatus[], nodes: readonly string[]): VmOnNode[] {
  const wanted = new Set(nodes);
  return clusters.flatMap((c) => c.vms.filter((v) => wanted.has(v.node)).map((v) => ({ job: c.jobId, vm: v.name, node: v.node })));
}
