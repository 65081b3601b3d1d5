// Original file: proto/brine/v1/agent.proto


export interface PruneSnapshotsResponse {
  'deleted'?: (string)[];
}

export interface PruneSnapshotsResponse__Output {
  'deleted': (string)[];
}
