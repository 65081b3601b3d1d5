// Original file: proto/brine/v1/coordinator.proto

import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from '../../brine/v1/ClusterStatus.js';

export interface ReportStatusRequest {
  'site'?: (string);
  'session'?: (string);
  'cluster'?: (_brine_v1_ClusterStatus | null);
}

export interface ReportStatusRequest__Output {
  'site': (string);
  'session': (string);
  'cluster': (_brine_v1_ClusterStatus__Output | null);
}
