// Original file: proto/brine/v1/agent.proto

import type { ChunkData as _brine_v1_ChunkData, ChunkData__Output as _brine_v1_ChunkData__Output } from '../../brine/v1/ChunkData.js';

/**
 * Consecutive chunks of a ReadChunks answer, ~1 MiB together: the per-message cost of grpc-js
 * (framing, a callback, a decode) is paid per MiB, not per ~40 KiB chunk.
 */
export interface ChunkBatch {
  'chunks'?: (_brine_v1_ChunkData)[];
}

/**
 * Consecutive chunks of a ReadChunks answer, ~1 MiB together: the per-message cost of grpc-js
 * (framing, a callback, a decode) is paid per MiB, not per ~40 KiB chunk.
 */
export interface ChunkBatch__Output {
  'chunks': (_brine_v1_ChunkData__Output)[];
}
