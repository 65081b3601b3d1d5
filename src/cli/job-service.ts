// The coordinator's JobService for the CLI: only coordinator.proto is parsed (not agent.proto,
// which src/shared/proto.ts also loads), since proto parsing is most of a prolog's start-up.
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { LOADER_OPTIONS } from '../shared/proto-options.js';
import type { ProtoGrpcType } from '../gen/coordinator.js';

const coordinator = (grpc.loadPackageDefinition(loadSync('brine/v1/coordinator.proto', LOADER_OPTIONS)) as unknown as ProtoGrpcType).brine.v1;

export const JobService = coordinator.JobService;
