// Original file: proto/brine/v1/coordinator.proto

import type { Snapshot as _brine_v1_Snapshot, Snapshot__Output as _brine_v1_Snapshot__Output } from '../../brine/v1/Snapshot.js';

/**
 * A cluster the agent suspended by itself: its snapshot is complete in the site's store.
 */
export interface LocalSuspension {
  'job'?: (string);
  'snapshot'?: (_brine_v1_Snapshot | null);
  /**
   * the reclaimed nodes it had VMs on
   */
  'nodes'?: (string)[];
  'at'?: (string);
}

/**
 * A cluster the agent suspended by itself: its snapshot is complete in the site's store.
 */
export interface LocalSuspension__Output {
  'job': (string);
  'snapshot': (_brine_v1_Snapshot__Output | null);
  /**
   * the reclaimed nodes it had VMs on
   */
  'nodes': (string)[];
  'at': (string);
}
