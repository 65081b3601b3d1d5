// Original file: proto/brine/v1/coordinator.proto


export interface HeartbeatResponse {
  /**
   * the jobs the coordinator places on this site; anything else the agent runs is fenced off
   */
  'placedJobs'?: (string)[];
}

export interface HeartbeatResponse__Output {
  /**
   * the jobs the coordinator places on this site; anything else the agent runs is fenced off
   */
  'placedJobs': (string)[];
}
