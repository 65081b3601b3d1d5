// Original file: proto/brine/v1/coordinator.proto


export interface RegisterResponse {
  'session'?: (string);
  'heartbeatIntervalMs'?: (number);
}

export interface RegisterResponse__Output {
  'session': (string);
  'heartbeatIntervalMs': (number);
}
