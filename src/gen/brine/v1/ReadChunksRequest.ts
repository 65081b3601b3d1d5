// Original file: proto/brine/v1/agent.proto


export interface ReadChunksRequest {
  'snapshotId'?: (string);
  'hashes'?: (string)[];
  /**
   * as in GetManifestRequest
   */
  'ticket'?: (string);
}

export interface ReadChunksRequest__Output {
  'snapshotId': (string);
  'hashes': (string)[];
  /**
   * as in GetManifestRequest
   */
  'ticket': (string);
}
