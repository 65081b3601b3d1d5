// Original file: proto/brine/v1/agent.proto


export interface ChunkData {
  'hash'?: (string);
  /**
   * as stored: one codec byte + payload
   */
  'data'?: (Buffer | Uint8Array | string);
}

export interface ChunkData__Output {
  'hash': (string);
  /**
   * as stored: one codec byte + payload
   */
  'data': (Buffer);
}
