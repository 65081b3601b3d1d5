// Original file: proto/brine/v1/coordinator.proto


export interface LogChunk {
  'vm'?: (string);
  'data'?: (Buffer | Uint8Array | string);
  /**
   * the site the bytes were read at
   */
  'site'?: (string);
}

export interface LogChunk__Output {
  'vm': (string);
  'data': (Buffer);
  /**
   * the site the bytes were read at
   */
  'site': (string);
}
