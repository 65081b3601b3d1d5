// Original file: proto/brine/v1/types.proto

import type { Long } from '@grpc/proto-loader';

export interface OutputChunk {
  'vm'?: (string);
  /**
   * relative to the root of the VM's output disk, '/'-separated, never '..' or absolute
   */
  'path'?: (string);
  /**
   * the file's permission bits (e.g. 0644)
   */
  'mode'?: (number);
  /**
   * the file's whole size; `data` is its bytes from `offset`
   */
  'size'?: (number | string | Long);
  'offset'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
}

export interface OutputChunk__Output {
  'vm': (string);
  /**
   * relative to the root of the VM's output disk, '/'-separated, never '..' or absolute
   */
  'path': (string);
  /**
   * the file's permission bits (e.g. 0644)
   */
  'mode': (number);
  /**
   * the file's whole size; `data` is its bytes from `offset`
   */
  'size': (number);
  'offset': (number);
  'data': (Buffer);
}
