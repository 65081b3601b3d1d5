// Original file: proto/brine/v1/agent.proto


export interface GetManifestRequest {
  'snapshotId'?: (string);
}

export interface GetManifestRequest__Output {
  'snapshotId': (string);
}
