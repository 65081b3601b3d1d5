// Original file: proto/brine/v1/coordinator.proto

import type { JobState as _brine_v1_JobState, JobState__Output as _brine_v1_JobState__Output } from '../../brine/v1/JobState.js';

export interface Event {
  'at'?: (string);
  /**
   * "job.state" | "job.placed" | "vm.state" | "site.up" | "site.down"
   */
  'type'?: (string);
  'job'?: (string);
  'site'?: (string);
  'state'?: (_brine_v1_JobState);
  'reason'?: (string);
  'vm'?: (string);
  /**
   * for "vm.state": the VM's own state (RUNNING, SHUTOFF, CRASHED, MISSING…)
   */
  'vmState'?: (string);
}

export interface Event__Output {
  'at': (string);
  /**
   * "job.state" | "job.placed" | "vm.state" | "site.up" | "site.down"
   */
  'type': (string);
  'job': (string);
  'site': (string);
  'state': (_brine_v1_JobState__Output);
  'reason': (string);
  'vm': (string);
  /**
   * for "vm.state": the VM's own state (RUNNING, SHUTOFF, CRASHED, MISSING…)
   */
  'vmState': (string);
}
