// Original file: proto/brine/v1/coordinator.proto


export interface LogsRequest {
  'job'?: (string);
  /**
   * empty: every VM of the job
   */
  'vm'?: (string);
  'follow'?: (boolean);
}

export interface LogsRequest__Output {
  'job': (string);
  /**
   * empty: every VM of the job
   */
  'vm': (string);
  'follow': (boolean);
}
