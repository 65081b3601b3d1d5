// Original file: proto/brine/v1/types.proto

import type { VmSnapshotInfo as _brine_v1_VmSnapshotInfo, VmSnapshotInfo__Output as _brine_v1_VmSnapshotInfo__Output } from '../../brine/v1/VmSnapshotInfo.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One coordinated snapshot of a whole cluster (DESIGN.md `snapshot`).
 */
export interface Snapshot {
  'id'?: (string);
  'job'?: (string);
  'createdAt'?: (string);
  /**
   * sites holding a complete, verified copy
   */
  'sites'?: (string)[];
  'vms'?: (_brine_v1_VmSnapshotInfo)[];
  'totalBytes'?: (number | string | Long);
  /**
   * bytes of chunks this snapshot added to the site's store
   */
  'newBytes'?: (number | string | Long);
  /**
   * spread between the first and the last VM paused
   */
  'pauseSkewMs'?: (number | string | Long);
  /**
   * the longest time any VM was paused
   */
  'downtimeMs'?: (number | string | Long);
  /**
   * no intact copy is left anywhere (every copy found damaged): never restored from
   */
  'damaged'?: (boolean);
  /**
   * "checkpoint" | "suspend"
   */
  'kind'?: (string);
  /**
   * sites whose copy a read found corrupt or incomplete (no longer in `sites`)
   */
  'damagedSites'?: (string)[];
}

/**
 * One coordinated snapshot of a whole cluster (DESIGN.md `snapshot`).
 */
export interface Snapshot__Output {
  'id': (string);
  'job': (string);
  'createdAt': (string);
  /**
   * sites holding a complete, verified copy
   */
  'sites': (string)[];
  'vms': (_brine_v1_VmSnapshotInfo__Output)[];
  'totalBytes': (number);
  /**
   * bytes of chunks this snapshot added to the site's store
   */
  'newBytes': (number);
  /**
   * spread between the first and the last VM paused
   */
  'pauseSkewMs': (number);
  /**
   * the longest time any VM was paused
   */
  'downtimeMs': (number);
  /**
   * no intact copy is left anywhere (every copy found damaged): never restored from
   */
  'damaged': (boolean);
  /**
   * "checkpoint" | "suspend"
   */
  'kind': (string);
  /**
   * sites whose copy a read found corrupt or incomplete (no longer in `sites`)
   */
  'damagedSites': (string)[];
}
