// gRPC settings of the agent-to-agent transfer path, chosen deliberately (see bench/transfer.bench.ts
// and docs/design-notes.md "Transfers"):
// - ~1 MiB of stored chunks per `ChunkBatch` message (FastCDC 64 KiB average, ~30–64 KiB
//   compressed, at most 256 KiB + 1 each): grpc-js pays a fixed cost per message (framing, a
//   callback, a decode, an async-iterator step on each side) that at one chunk per message held a
//   transfer to 28–45 MiB/s on this machine (bench/transfer.bench.ts); per MiB it vanishes;
// - no gRPC-level compression (the default): chunks travel already compressed;
// - the receiver's HTTP/2 window (`grpc-node.flow_control_window`, stream and connection) is 16 MiB:
//   HTTP/2's default 64 KiB lets only one chunk be in flight, which caps throughput as soon as there
//   is any latency; 16 MiB covers ~1.3 Gbit/s × 100 ms and bounds what can be buffered per stream;
// - message limits are set to what the protocol needs, not left to defaults by accident.
import type { ChannelOptions } from '@grpc/grpc-js';
import { CLIENT_OPTIONS } from '../../src/shared/proto.js';

export const MiB = 1024 * 1024;

/** hashes asked per `ReadChunks` call: ~60–130 MiB of compressed chunks, a ~140 KB request; each
 * call costs a round trip and a drained pipe, and the source's slot is given up between calls
 * (n-to-1 turn-taking): ~0.5 s of data at loopback speed */
export const BATCH_CHUNKS = 2048;
/** stored chunk bytes packed into one `ChunkBatch` message (a message may exceed it by one chunk) */
export const MESSAGE_BYTES = 1 * MiB;
/**
 * received messages being verified and written at once on the destination (each one worker call
 * for all its chunks, then its appends): keeps both cores busy while the next message arrives;
 * bounds memory at 4 × ~1 MiB
 */
export const WRITE_CONCURRENCY = 4;
/** chunks read ahead from disk on the source per stream: a bit more than one message */
export const READ_AHEAD = 32;
/** at most this often a `TransferProgress` is sent (plus the first and the last) */
export const PROGRESS_INTERVAL_MS = 250;
/** a `ChunkBatch` is at most MESSAGE_BYTES + one chunk (the chunker's max 256 KiB + the codec byte) + framing */
const MAX_CHUNK_MESSAGE = MESSAGE_BYTES + 1 * MiB;
/** a `ReadChunksRequest` of BATCH_CHUNKS hashes is ~140 KB; a manifest of a 64 GiB snapshot ~100 MB */
const MAX_MANIFEST_MESSAGE = 256 * MiB;

/** Channel options of the destination's client to a source agent. */
export const TRANSFER_CLIENT_OPTIONS: ChannelOptions = {
  ...CLIENT_OPTIONS,
  'grpc-node.flow_control_window': 16 * MiB,
  'grpc.max_receive_message_length': MAX_MANIFEST_MESSAGE,
  'grpc.max_send_message_length': 4 * MiB,
  // a source that dies mid-stream is noticed in ~15 s even if no RST ever comes
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 0,
  // one channel per transfer: never share a connection (and its window) with another transfer
  'grpc.use_local_subchannel_pool': 1,
};

/** Options of the agent's gRPC server (it serves the source side). */
export const TRANSFER_SERVER_OPTIONS: ChannelOptions = {
  // requests are small (the largest is a ReadChunks batch, ~140 KB); refuse anything absurd
  'grpc.max_receive_message_length': 4 * MiB,
  // the largest reply is a manifest (GetManifest); chunks are ≤ MAX_CHUNK_MESSAGE
  'grpc.max_send_message_length': Math.max(MAX_MANIFEST_MESSAGE, MAX_CHUNK_MESSAGE),
  // HTTP/2 session memory (bytes queued for sending across streams): the default 10 MB would make
  // Node refuse new streams (ENHANCE_YOUR_CALM) when several destinations each have a 16 MiB
  // window open; the source's own backpressure (write() → 'drain') keeps the real use bounded.
  'grpc-node.max_session_memory': 256 * MiB,
  'grpc.keepalive_permit_without_calls': 1,
};

export const PRIORITY_METADATA = 'brine-priority';
