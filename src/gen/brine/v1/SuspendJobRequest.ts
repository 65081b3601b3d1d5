// Original file: proto/brine/v1/coordinator.proto


export interface SuspendJobRequest {
  'id'?: (string);
}

export interface SuspendJobRequest__Output {
  'id': (string);
}
