// Original file: proto/brine/v1/agent.proto


export interface PruneSnapshotsRequest {
  'jobId'?: (string);
  'keep'?: (number);
}

export interface PruneSnapshotsRequest__Output {
  'jobId': (string);
  'keep': (number);
}
