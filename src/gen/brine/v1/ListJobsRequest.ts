// Original file: proto/brine/v1/coordinator.proto


/**
 * Paged, oldest first. Live jobs only unless `all` (or a `state` filter naming an end state).
 */
export interface ListJobsRequest {
  /**
   * jobs per page: 0 = the default (500), at most 5000
   */
  'pageSize'?: (number);
  /**
   * from a previous answer's nextPageToken; empty: the first page
   */
  'pageToken'?: (string);
  /**
   * ended jobs too (those kept for jobs.keepEndedFor)
   */
  'all'?: (boolean);
  /**
   * only jobs in these states (JobState names)
   */
  'states'?: (string)[];
  /**
   * only jobs created within this long (a duration: "1h", "2d"); empty: no limit
   */
  'since'?: (string);
}

/**
 * Paged, oldest first. Live jobs only unless `all` (or a `state` filter naming an end state).
 */
export interface ListJobsRequest__Output {
  /**
   * jobs per page: 0 = the default (500), at most 5000
   */
  'pageSize': (number);
  /**
   * from a previous answer's nextPageToken; empty: the first page
   */
  'pageToken': (string);
  /**
   * ended jobs too (those kept for jobs.keepEndedFor)
   */
  'all': (boolean);
  /**
   * only jobs in these states (JobState names)
   */
  'states': (string)[];
  /**
   * only jobs created within this long (a duration: "1h", "2d"); empty: no limit
   */
  'since': (string);
}
