// Original file: proto/brine/v1/coordinator.proto

import type { Job as _brine_v1_Job, Job__Output as _brine_v1_Job__Output } from '../../brine/v1/Job.js';

export interface ListJobsResponse {
  'jobs'?: (_brine_v1_Job)[];
  /**
   * empty on the last page
   */
  'nextPageToken'?: (string);
}

export interface ListJobsResponse__Output {
  'jobs': (_brine_v1_Job__Output)[];
  /**
   * empty on the last page
   */
  'nextPageToken': (string);
}
