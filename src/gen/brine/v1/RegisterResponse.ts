// Original file: proto/brine/v1/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface RegisterResponse {
  'session'?: (string);
  'heartbeatIntervalMs'?: (number);
  /**
   * the LocalReclaimReport.revision now recorded (0: none); the agent forgets what it reported
   */
  'localReclaimAcked'?: (number | string | Long);
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
   * the LocalReclaimReport.revision now recorded (0: none); the agent forgets what it reported
   */
  'localReclaimAcked': (number);
  /**
   * the coordinator's grid and epoch (incremented at each start)
   */
  'gridId': (string);
  'epoch': (number);
}
