// Original file: proto/brine/v1/types.proto


export interface Vm {
  'name'?: (string);
  'node'?: (string);
  'mac'?: (string);
  'ip'?: (string);
  /**
   * "PENDING" | "RUNNING" | "PAUSED" | "SHUTOFF" | "CRASHED" | "MISSING"
   */
  'state'?: (string);
  'domain'?: (string);
  'console'?: (string);
}

export interface Vm__Output {
  'name': (string);
  'node': (string);
  'mac': (string);
  'ip': (string);
  /**
   * "PENDING" | "RUNNING" | "PAUSED" | "SHUTOFF" | "CRASHED" | "MISSING"
   */
  'state': (string);
  'domain': (string);
  'console': (string);
}
