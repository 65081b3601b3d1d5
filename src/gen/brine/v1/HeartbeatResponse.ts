// Original file: proto/brine/v1/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatResponse {
  /**
   * the jobs the coordinator places on this site; anything else the agent runs is fenced off
   */
  'placedJobs'?: (string)[];
  'localReclaimAcked'?: (number | string | Long);
}

export interface HeartbeatResponse__Output {
  /**
   * the jobs the coordinator places on this site; anything else the agent runs is fenced off
   */
  'placedJobs': (string)[];
  'localReclaimAcked': (number);
}
