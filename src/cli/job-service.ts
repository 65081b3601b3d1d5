// The coordinator's JobService for the CLI: only coordinator.proto's descriptor is loaded (not
// agent.proto's, which src/shared/proto.ts also loads), from the JSON `npm run gen:proto` made of
// it (src/gen/descriptors/) rather than by parsing .proto text, and with protobufjs's light build
// (./light-definition.ts) rather than all of proto-loader: start-up is a prolog's latency.
import * as grpc from '@grpc/grpc-js';
import { LOADER_OPTIONS } from '../shared/proto-options.js';
import { descriptor } from '../gen/descriptors/coordinator.js';
import type { ProtoGrpcType } from '../gen/coordinator.js';
import { serviceDefinitions } from './light-definition.js';

const coordinator = (grpc.loadPackageDefinition(serviceDefinitions(descriptor, LOADER_OPTIONS)) as unknown as ProtoGrpcType).brine.v1;

export const JobService = coordinator.JobService;
