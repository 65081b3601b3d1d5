// Original file: proto/brine/v1/agent.proto

import type { ClusterSpec as _brine_v1_ClusterSpec, ClusterSpec__Output as _brine_v1_ClusterSpec__Output } from '../../brine/v1/ClusterSpec.js';

export interface DeployClusterRequest {
  'operationId'?: (string);
  'cluster'?: (_brine_v1_ClusterSpec | null);
}

export interface DeployClusterRequest__Output {
  'operationId': (string);
  'cluster': (_brine_v1_ClusterSpec__Output | null);
}
