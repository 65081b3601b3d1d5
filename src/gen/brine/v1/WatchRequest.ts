// Original file: proto/brine/v1/coordinator.proto


export interface WatchRequest {
  'job'?: (string);
}

export interface WatchRequest__Output {
  'job': (string);
}
