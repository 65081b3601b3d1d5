// The reclaim's and release's fallback when the coordinator cannot be reached: the site's own
// agent (LocalReclaim/LocalRelease, with the site's certificate) suspends the VMs on the nodes and
// closes them, and tells the coordinator once it is back. Loaded only on that path: it loads
// agent.proto's definitions.
import * as grpc from '@grpc/grpc-js';
import { AgentService, CLIENT_OPTIONS } from '../shared/proto.js';
import { fromGrpcError, UnavailableError, type BrineError } from '../shared/errors.js';
import { TLS_CLIENT_OPTIONS } from '../shared/tls.js';
import { cliCredentials } from './credentials.js';
import type { AgentServiceClient } from '../gen/brine/v1/AgentService.js';
import type { LocalReclaimResponse__Output } from '../gen/brine/v1/LocalReclaimResponse.js';
import type { LocalReleaseResponse__Output } from '../gen/brine/v1/LocalReleaseResponse.js';

/** Beyond the grace period: the agent answers at its end, with what was not saved. */
const MARGIN_MS = 30_000;
const RELEASE_TIMEOUT_MS = 10_000;

function withClient<T>(address: string, fn: (client: AgentServiceClient, done: (err: grpc.ServiceError | null, res: T | undefined) => void) => void): Promise<T> {
  const client = new AgentService(address, cliCredentials(process.env, 'site'), { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS });
  return new Promise<T>((resolve, reject) =>
    fn(client, (err, res) => {
      client.close();
      if (err) reject(toError(err, address));
      else if (res === undefined) reject(new UnavailableError(`the site's agent at ${address} gave an empty answer`));
      else resolve(res);
    }),
  );
}

function toError(err: grpc.ServiceError, address: string): BrineError {
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
    return new UnavailableError(`the site's agent at ${address} did not answer either: ${err.details}`, err);
  }
  return fromGrpcError(err, address);
}

const failFast = (): grpc.Metadata => new grpc.Metadata({ waitForReady: false });

export function localReclaim(address: string, nodes: readonly string[], grace: string, graceMs: number, ignoreUnknown: boolean): Promise<LocalReclaimResponse__Output> {
  return withClient(address, (client, done) =>
    client.LocalReclaim({ nodes: [...nodes], grace, ignoreUnknown }, failFast(), { deadline: Date.now() + graceMs + MARGIN_MS }, done),
  );
}

export function localRelease(address: string, nodes: readonly string[], ignoreUnknown: boolean): Promise<LocalReleaseResponse__Output> {
  return withClient(address, (client, done) => client.LocalRelease({ nodes: [...nodes], ignoreUnknown }, failFast(), { deadline: Date.now() + RELEASE_TIMEOUT_MS }, done));
}
