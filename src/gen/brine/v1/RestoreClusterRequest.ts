// Original file: proto/brine/v1/agent.proto

import type { ClusterSpec as _brine_v1_ClusterSpec, ClusterSpec__Output as _brine_v1_ClusterSpec__Output } from '../../brine/v1/ClusterSpec.js';

export interface RestoreClusterRequest {
  'operationId'?: (string);
  /**
   * where and how the cluster runs now (nodes, MACs, IPs: may differ from the snapshot's)
   */
  'cluster'?: (_brine_v1_ClusterSpec | null);
  'snapshotId'?: (string);
}

export interface RestoreClusterRequest__Output {
  'operationId': (string);
  /**
   * where and how the cluster runs now (nodes, MACs, IPs: may differ from the snapshot's)
   */
  'cluster': (_brine_v1_ClusterSpec__Output | null);
  'snapshotId': (string);
}
