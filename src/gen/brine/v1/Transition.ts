// Original file: proto/brine/v1/types.proto

import type { JobState as _brine_v1_JobState, JobState__Output as _brine_v1_JobState__Output } from '../../brine/v1/JobState.js';

export interface Transition {
  'at'?: (string);
  'state'?: (_brine_v1_JobState);
  'reason'?: (string);
}

export interface Transition__Output {
  'at': (string);
  'state': (_brine_v1_JobState__Output);
  'reason': (string);
}
