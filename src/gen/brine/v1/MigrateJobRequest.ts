// Original file: proto/brine/v1/coordinator.proto


export interface MigrateJobRequest {
  'id'?: (string);
  'to'?: (string);
  /**
   * a running job: skip the pre-copy (a checkpoint sent while it runs, so the final snapshot and
   * the downtime carry only what changed since); the move then takes less time in all
   */
  'noPrecopy'?: (boolean);
}

export interface MigrateJobRequest__Output {
  'id': (string);
  'to': (string);
  /**
   * a running job: skip the pre-copy (a checkpoint sent while it runs, so the final snapshot and
   * the downtime carry only what changed since); the move then takes less time in all
   */
  'noPrecopy': (boolean);
}
