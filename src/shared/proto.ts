// Loads the `.proto` files' descriptors (parsed once by `npm run gen:proto` into
// src/gen/descriptors/, beside the types) with the same options the types were generated with,
// and exposes the typed service definitions and client constructors.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { LOADER_OPTIONS } from './proto-options.js';
import { descriptor as coordinatorDescriptor } from '../gen/descriptors/coordinator.js';
import { descriptor as agentDescriptor } from '../gen/descriptors/agent.js';
import type { ProtoGrpcType as CoordinatorProto } from '../gen/coordinator.js';
import type { ProtoGrpcType as AgentProto } from '../gen/agent.js';

export { PROTO_DIR, LOADER_OPTIONS, CLIENT_OPTIONS } from './proto-options.js';

function load<T>(descriptor: Record<string, unknown>): T {
  return grpc.loadPackageDefinition(fromJSON(descriptor, LOADER_OPTIONS)) as unknown as T;
}

const coordinator = load<CoordinatorProto>(coordinatorDescriptor).brine.v1;
const agent = load<AgentProto>(agentDescriptor).brine.v1;

export const JobService = coordinator.JobService;
export const RegistryService = coordinator.RegistryService;
export const AgentService = agent.AgentService;

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
