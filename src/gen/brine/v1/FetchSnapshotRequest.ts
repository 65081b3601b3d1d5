// Original file: proto/brine/v1/agent.proto


export interface FetchSnapshotRequest {
  'operationId'?: (string);
  'snapshotId'?: (string);
  'jobId'?: (string);
  /**
   * host:port of the agent that holds the snapshot
   */
  'source'?: (string);
  /**
   * a resume someone waits for (true) goes before background replication (false)
   */
  'urgent'?: (boolean);
  /**
   * signed by the coordinator for this snapshot and this destination; shown to the source
   */
  'ticket'?: (string);
}

export interface FetchSnapshotRequest__Output {
  'operationId': (string);
  'snapshotId': (string);
  'jobId': (string);
  /**
   * host:port of the agent that holds the snapshot
   */
  'source': (string);
  /**
   * a resume someone waits for (true) goes before background replication (false)
   */
  'urgent': (boolean);
  /**
   * signed by the coordinator for this snapshot and this destination; shown to the source
   */
  'ticket': (string);
}
