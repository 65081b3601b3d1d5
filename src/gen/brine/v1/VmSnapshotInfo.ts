// Original file: proto/brine/v1/types.proto

import type { Long } from '@grpc/proto-loader';

export interface VmSnapshotInfo {
  'name'?: (string);
  /**
   * bytes captured for this VM (memory image + disk + XML), before dedup and compression
   */
  'bytes'?: (number | string | Long);
}

export interface VmSnapshotInfo__Output {
  'name': (string);
  /**
   * bytes captured for this VM (memory image + disk + XML), before dedup and compression
   */
  'bytes': (number);
}
