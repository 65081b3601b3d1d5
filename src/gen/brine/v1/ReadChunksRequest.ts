// Original file: proto/brine/v1/agent.proto


export interface ReadChunksRequest {
  'snapshotId'?: (string);
  'hashes'?: (string)[];
}

export interface ReadChunksRequest__Output {
  'snapshotId': (string);
  'hashes': (string)[];
}
