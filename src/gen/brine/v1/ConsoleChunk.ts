// Original file: proto/brine/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface ConsoleChunk {
  'vm'?: (string);
  /**
   * where `data` starts in the console
   */
  'offset'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
  /**
   * where the console was read from: "running" | "kept" | "snapshot"
   */
  'source'?: (string);
}

export interface ConsoleChunk__Output {
  'vm': (string);
  /**
   * where `data` starts in the console
   */
  'offset': (number);
  'data': (Buffer);
  /**
   * where the console was read from: "running" | "kept" | "snapshot"
   */
  'source': (string);
}
