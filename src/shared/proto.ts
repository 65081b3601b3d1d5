// Loads the `.proto` files at run time with the same options the types were generated with
// (package.json `gen:proto`), and exposes the typed service definitions and client constructors.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import type { ProtoGrpcType as CoordinatorProto } from '../gen/coordinator.js';
import type { ProtoGrpcType as AgentProto } from '../gen/agent.js';

export const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));

export const LOADER_OPTIONS: Options = {
  keepCase: true,
  // int64 fields are byte counts and milliseconds: far below 2^53, so plain numbers in JSON.
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

function load<T>(file: string): T {
  return grpc.loadPackageDefinition(loadSync(file, LOADER_OPTIONS)) as unknown as T;
}

const coordinator = load<CoordinatorProto>('brine/v1/coordinator.proto').brine.v1;
const agent = load<AgentProto>('brine/v1/agent.proto').brine.v1;

export const JobService = coordinator.JobService;
export const RegistryService = coordinator.RegistryService;
export const AgentService = agent.AgentService;

/** Channel options for every client: fail fast when the peer is down, keep connections alive. */
export const CLIENT_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.enable_retries': 0,
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

export type { JobState__Output as JobState } from '../gen/brine/v1/JobState.js';
export type { Job__Output as Job } from '../gen/brine/v1/Job.js';
export type { Site__Output as Site } from '../gen/brine/v1/Site.js';
export type { NodeInfo__Output as NodeInfo } from '../gen/brine/v1/NodeInfo.js';
export type { Vm__Output as Vm } from '../gen/brine/v1/Vm.js';
export type { Lease__Output as Lease } from '../gen/brine/v1/Lease.js';
export type { Event__Output as BrineEvent } from '../gen/brine/v1/Event.js';
export type { Transition__Output as Transition } from '../gen/brine/v1/Transition.js';
export type { ClusterStatus__Output as ClusterStatus } from '../gen/brine/v1/ClusterStatus.js';
export type { VmStatus__Output as VmStatus } from '../gen/brine/v1/VmStatus.js';
export type { ClusterSpec__Output as ClusterSpec } from '../gen/brine/v1/ClusterSpec.js';
export type { NodeSpec__Output as NodeSpec } from '../gen/brine/v1/NodeSpec.js';
export type { Snapshot__Output as Snapshot } from '../gen/brine/v1/Snapshot.js';
