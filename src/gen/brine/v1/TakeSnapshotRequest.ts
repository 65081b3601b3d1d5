// Original file: proto/brine/v1/agent.proto


export interface TakeSnapshotRequest {
  'operationId'?: (string);
  'jobId'?: (string);
  /**
   * chosen by the coordinator, so a retried call never makes a second snapshot
   */
  'snapshotId'?: (string);
  /**
   * "checkpoint" | "suspend"
   */
  'kind'?: (string);
}

export interface TakeSnapshotRequest__Output {
  'operationId': (string);
  'jobId': (string);
  /**
   * chosen by the coordinator, so a retried call never makes a second snapshot
   */
  'snapshotId': (string);
  /**
   * "checkpoint" | "suspend"
   */
  'kind': (string);
}
