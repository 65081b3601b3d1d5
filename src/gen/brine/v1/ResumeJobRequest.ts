// Original file: proto/brine/v1/coordinator.proto


export interface ResumeJobRequest {
  'id'?: (string);
  /**
   * empty: the site it was suspended on
   */
  'site'?: (string);
}

export interface ResumeJobRequest__Output {
  'id': (string);
  /**
   * empty: the site it was suspended on
   */
  'site': (string);
}
