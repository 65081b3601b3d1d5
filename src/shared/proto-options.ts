// How the `.proto` files are loaded and dialled, apart from loading them: the CLI parses only
// coordinator.proto (src/cli/job-service.ts) and must not pay for agent.proto at start-up.
import { fileURLToPath } from 'node:url';
import type { ChannelOptions } from '@grpc/grpc-js';
import type { Options } from '@grpc/proto-loader';

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

/** Channel options for every client: fail fast when the peer is down, keep connections alive. */
export const CLIENT_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.enable_retries': 0,
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
};
