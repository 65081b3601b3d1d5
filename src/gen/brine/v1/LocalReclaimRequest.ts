// Original file: proto/brine/v1/agent.proto


export interface LocalReclaimRequest {
  'nodes'?: (string)[];
  /**
   * duration such as "2m": how long the snapshots may take; empty: 2m
   */
  'grace'?: (string);
  /**
   * nodes this site does not have are left alone (listed in `ignoredNodes`) instead of refused
   */
  'ignoreUnknown'?: (boolean);
}

export interface LocalReclaimRequest__Output {
  'nodes': (string)[];
  /**
   * duration such as "2m": how long the snapshots may take; empty: 2m
   */
  'grace': (string);
  /**
   * nodes this site does not have are left alone (listed in `ignoredNodes`) instead of refused
   */
  'ignoreUnknown': (boolean);
}
