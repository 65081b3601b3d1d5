// Original file: proto/brine/v1/coordinator.proto


export interface SnapshotJobRequest {
  'id'?: (string);
}

export interface SnapshotJobRequest__Output {
  'id': (string);
}
