// Original file: proto/brine/v1/types.proto


/**
 * What an agent sees of one virtual cluster on its nodes.
 */
export interface VmStatus {
  'name'?: (string);
  'node'?: (string);
  'domain'?: (string);
  'state'?: (string);
  'console'?: (string);
}

/**
 * What an agent sees of one virtual cluster on its nodes.
 */
export interface VmStatus__Output {
  'name': (string);
  'node': (string);
  'domain': (string);
  'state': (string);
  'console': (string);
}
