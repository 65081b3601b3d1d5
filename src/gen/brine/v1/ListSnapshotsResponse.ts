// Original file: proto/brine/v1/coordinator.proto

import type { Snapshot as _brine_v1_Snapshot, Snapshot__Output as _brine_v1_Snapshot__Output } from '../../brine/v1/Snapshot.js';

export interface ListSnapshotsResponse {
  'snapshots'?: (_brine_v1_Snapshot)[];
}

export interface ListSnapshotsResponse__Output {
  'snapshots': (_brine_v1_Snapshot__Output)[];
}
