// Original file: proto/brine/v1/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatResponse {
  /**
   * the jobs the coordinator places on this site; anything else the agent runs is fenced off
   */
  'placedJobs'?: (string)[];
  'localReclaimAcked'?: (number | string | Long);
  /**
   * the coordinator's grid and epoch: the agent fences only on the word of its own grid's
   * coordinator, at an epoch no older than it has seen
   */
  'gridId'?: (string);
  'epoch'?: (number);
  /**
   * clusters the agent reported whose job this coordinator has never known (not live, not
   * archived): kept, never fenced (a coordinator started over an empty or restored state)
   */
  'unknownJobs'?: (string)[];
}

export interface HeartbeatResponse__Output {
  /**
   * the jobs the coordinator places on this site; anything else the agent runs is fenced off
   */
  'placedJobs': (string)[];
  'localReclaimAcked': (number);
  /**
   * the coordinator's grid and epoch: the agent fences only on the word of its own grid's
   * coordinator, at an epoch no older than it has seen
   */
  'gridId': (string);
  'epoch': (number);
  /**
   * clusters the agent reported whose job this coordinator has never known (not live, not
   * archived): kept, never fenced (a coordinator started over an empty or restored state)
   */
  'unknownJobs': (string)[];
}
