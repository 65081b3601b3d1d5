// Original file: proto/brine/v1/types.proto


/**
 * `brine output`: the files of an ended job's output disks, streamed file by file in pieces.
 */
export interface ReadOutputRequest {
  'jobId'?: (string);
  /**
   * empty: every VM of the job
   */
  'vm'?: (string);
}

/**
 * `brine output`: the files of an ended job's output disks, streamed file by file in pieces.
 */
export interface ReadOutputRequest__Output {
  'jobId': (string);
  /**
   * empty: every VM of the job
   */
  'vm': (string);
}
