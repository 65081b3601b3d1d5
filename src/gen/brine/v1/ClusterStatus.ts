// Original file: proto/brine/v1/types.proto

import type { VmStatus as _brine_v1_VmStatus, VmStatus__Output as _brine_v1_VmStatus__Output } from '../../brine/v1/VmStatus.js';

export interface ClusterStatus {
  'jobId'?: (string);
  'network'?: (string);
  'vms'?: (_brine_v1_VmStatus)[];
  /**
   * only in GetStatus with includeNetworkXml
   */
  'networkXml'?: (string);
}

export interface ClusterStatus__Output {
  'jobId': (string);
  'network': (string);
  'vms': (_brine_v1_VmStatus__Output)[];
  /**
   * only in GetStatus with includeNetworkXml
   */
  'networkXml': (string);
}
