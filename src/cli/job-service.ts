// The coordinator's JobService for the CLI: only coordinator.proto's descriptor is loaded (not
// agent.proto's, which src/shared/proto.ts also loads), and from the JSON `npm run gen:proto`
// made of it (src/gen/descriptors/), not by parsing .proto text: start-up is a prolog's latency.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { LOADER_OPTIONS } from '../shared/proto-options.js';
import { descriptor } from '../gen/descriptors/coordinator.js';
import type { ProtoGrpcType } from '../gen/coordinator.js';

const coordinator = (grpc.loadPackageDefinition(fromJSON(descriptor, LOADER_OPTIONS)) as unknown as ProtoGrpcType).brine.v1;

export const JobService = coordinator.JobService;
