// Original file: proto/brine/v1/agent.proto


export interface GetManifestRequest {
  'snapshotId'?: (string);
  /**
   * the coordinator's ticket for this snapshot and the calling site (FetchSnapshotRequest.ticket)
   */
  'ticket'?: (string);
}

export interface GetManifestRequest__Output {
  'snapshotId': (string);
  /**
   * the coordinator's ticket for this snapshot and the calling site (FetchSnapshotRequest.ticket)
   */
  'ticket': (string);
}
