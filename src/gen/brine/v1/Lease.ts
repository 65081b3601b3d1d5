// Original file: proto/brine/v1/types.proto


export interface Lease {
  'site'?: (string);
  'job'?: (string);
  /**
   * empty for the cluster's subnet and gateway lease
   */
  'vm'?: (string);
  'mac'?: (string);
  'ip'?: (string);
  'subnet'?: (string);
  /**
   * "reserved" | "active" | "releasing" | "free"
   */
  'state'?: (string);
}

export interface Lease__Output {
  'site': (string);
  'job': (string);
  /**
   * empty for the cluster's subnet and gateway lease
   */
  'vm': (string);
  'mac': (string);
  'ip': (string);
  'subnet': (string);
  /**
   * "reserved" | "active" | "releasing" | "free"
   */
  'state': (string);
}
