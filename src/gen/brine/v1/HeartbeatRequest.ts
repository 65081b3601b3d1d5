// Original file: proto/brine/v1/coordinator.proto

import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from '../../brine/v1/ClusterStatus.js';
import type { LocalReclaimReport as _brine_v1_LocalReclaimReport, LocalReclaimReport__Output as _brine_v1_LocalReclaimReport__Output } from '../../brine/v1/LocalReclaimReport.js';

export interface HeartbeatRequest {
  'site'?: (string);
  'session'?: (string);
  'clusters'?: (_brine_v1_ClusterStatus)[];
  'localReclaim'?: (_brine_v1_LocalReclaimReport | null);
}

export interface HeartbeatRequest__Output {
  'site': (string);
  'session': (string);
  'clusters': (_brine_v1_ClusterStatus__Output)[];
  'localReclaim': (_brine_v1_LocalReclaimReport__Output | null);
}
