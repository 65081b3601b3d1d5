// Original file: proto/brine/v1/coordinator.proto


export interface ListSnapshotsRequest {
  'job'?: (string);
}

export interface ListSnapshotsRequest__Output {
  'job': (string);
}
