// Original file: proto/brine/v1/types.proto


export interface PreemptedJob {
  'job'?: (string);
  /**
   * the final snapshot, complete on disk at the site (empty if none could be taken)
   */
  'snapshot'?: (string);
  /**
   * true once `snapshot` is durable (or the job held no VM there any more)
   */
  'saved'?: (boolean);
  'reason'?: (string);
  /**
   * the reclaimed nodes its VMs were on: free of brine VMs only if `saved`
   */
  'nodes'?: (string)[];
}

export interface PreemptedJob__Output {
  'job': (string);
  /**
   * the final snapshot, complete on disk at the site (empty if none could be taken)
   */
  'snapshot': (string);
  /**
   * true once `snapshot` is durable (or the job held no VM there any more)
   */
  'saved': (boolean);
  'reason': (string);
  /**
   * the reclaimed nodes its VMs were on: free of brine VMs only if `saved`
   */
  'nodes': (string)[];
}
