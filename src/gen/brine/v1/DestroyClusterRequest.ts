// Original file: proto/brine/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface DestroyClusterRequest {
  'operationId'?: (string);
  'jobId'?: (string);
  /**
   * > 0: the job ended; its VMs' consoles are kept this long (for `brine logs`), then deleted
   */
  'keepConsolesForMs'?: (number | string | Long);
  /**
   * > 0: the job ended; its VMs' output disks are kept this long (for `brine output`), then deleted
   */
  'keepOutputForMs'?: (number | string | Long);
}

export interface DestroyClusterRequest__Output {
  'operationId': (string);
  'jobId': (string);
  /**
   * > 0: the job ended; its VMs' consoles are kept this long (for `brine logs`), then deleted
   */
  'keepConsolesForMs': (number);
  /**
   * > 0: the job ended; its VMs' output disks are kept this long (for `brine output`), then deleted
   */
  'keepOutputForMs': (number);
}
