// Original file: proto/brine/v1/coordinator.proto

import type { JobState as _brine_v1_JobState, JobState__Output as _brine_v1_JobState__Output } from '../../brine/v1/JobState.js';
import type { Long } from '@grpc/proto-loader';

export interface Event {
  'at'?: (string);
  /**
   * "job.state" | "job.placed" | "vm.state" | "site.up" | "site.down" | "snapshot.taken" |
   * "snapshot.replicated" | "snapshot.damaged" | "transfer.progress"
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
  /**
   * for "transfer.progress": a snapshot travelling to `site`
   */
  'snapshot'?: (string);
  'bytesDone'?: (number | string | Long);
  'bytesTotal'?: (number | string | Long);
  'rateBps'?: (number | string | Long);
  /**
   * estimated time left at the current rate; -1 while unknown (no rate yet)
   */
  'etaMs'?: (number | string | Long);
}

export interface Event__Output {
  'at': (string);
  /**
   * "job.state" | "job.placed" | "vm.state" | "site.up" | "site.down" | "snapshot.taken" |
   * "snapshot.replicated" | "snapshot.damaged" | "transfer.progress"
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
  /**
   * for "transfer.progress": a snapshot travelling to `site`
   */
  'snapshot': (string);
  'bytesDone': (number);
  'bytesTotal': (number);
  'rateBps': (number);
  /**
   * estimated time left at the current rate; -1 while unknown (no rate yet)
   */
  'etaMs': (number);
}
