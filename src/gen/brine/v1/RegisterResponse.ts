// Original file: proto/brine/v1/coordinator.proto


export interface RegisterResponse {
  'session'?: (string);
  'heartbeatIntervalMs'?: (number);
  /**
   * the coordinator's grid and epoch (incremented at each start)
   */
  'gridId'?: (string);
  'epoch'?: (number);
}

export interface RegisterResponse__Output {
  'session': (string);
  'heartbeatIntervalMs': (number);
  /**
   * the coordinator's grid and epoch (incremented at each start)
   */
  'gridId': (string);
  'epoch': (number);
}
