// Original file: proto/brine/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface TransferProgress {
  'snapshotId'?: (string);
  'bytesDone'?: (number | string | Long);
  'bytesTotal'?: (number | string | Long);
  'chunksDone'?: (number);
  'chunksTotal'?: (number);
  /**
   * bytes per second over the transfer so far
   */
  'rateBps'?: (number | string | Long);
  'done'?: (boolean);
  /**
   * "queued" | "transferring" | "done"
   */
  'phase'?: (string);
}

export interface TransferProgress__Output {
  'snapshotId': (string);
  'bytesDone': (number);
  'bytesTotal': (number);
  'chunksDone': (number);
  'chunksTotal': (number);
  /**
   * bytes per second over the transfer so far
   */
  'rateBps': (number);
  'done': (boolean);
  /**
   * "queued" | "transferring" | "done"
   */
  'phase': (string);
}
