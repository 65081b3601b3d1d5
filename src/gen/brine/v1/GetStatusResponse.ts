// Original file: proto/brine/v1/agent.proto

import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from '../../brine/v1/ClusterStatus.js';

export interface GetStatusResponse {
  'clusters'?: (_brine_v1_ClusterStatus)[];
}

export interface GetStatusResponse__Output {
  'clusters': (_brine_v1_ClusterStatus__Output)[];
}
