// Original file: proto/brine/v1/agent.proto


export interface DestroyClusterRequest {
  'operationId'?: (string);
  'jobId'?: (string);
}

export interface DestroyClusterRequest__Output {
  'operationId': (string);
  'jobId': (string);
}
