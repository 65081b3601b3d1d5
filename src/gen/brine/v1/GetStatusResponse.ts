// Original file: proto/brine/v1/agent.proto

import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from '../../brine/v1/ClusterStatus.js';

export interface GetStatusResponse {
  'clusters'?: (_brine_v1_ClusterStatus)[];
  /**
   * the grid this agent belongs to (empty: none yet)
   */
  'gridId'?: (string);
  /**
   * clusters kept although no coordinator places them here: their job is unknown to the grid's
   * coordinator (it started over an empty or restored state), so they are not destroyed
   */
  'keptJobs'?: (string)[];
}

export interface GetStatusResponse__Output {
  'clusters': (_brine_v1_ClusterStatus__Output)[];
  /**
   * the grid this agent belongs to (empty: none yet)
   */
  'gridId': (string);
  /**
   * clusters kept although no coordinator places them here: their job is unknown to the grid's
   * coordinator (it started over an empty or restored state), so they are not destroyed
   */
  'keptJobs': (string)[];
}
