// Original file: proto/brine/v1/coordinator.proto

import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from '../../brine/v1/ClusterStatus.js';

export interface HeartbeatRequest {
  'site'?: (string);
  'session'?: (string);
  'clusters'?: (_brine_v1_ClusterStatus)[];
}

export interface HeartbeatRequest__Output {
  'site': (string);
  'session': (string);
  'clusters': (_brine_v1_ClusterStatus__Output)[];
}
