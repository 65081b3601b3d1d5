// Original file: proto/brine/v1/coordinator.proto


export interface ReclaimNodesRequest {
  'site'?: (string);
  'nodes'?: (string)[];
  /**
   * duration such as "2m": how long the checkpoints may take; empty: the coordinator's default
   */
  'grace'?: (string);
}

export interface ReclaimNodesRequest__Output {
  'site': (string);
  'nodes': (string)[];
  /**
   * duration such as "2m": how long the checkpoints may take; empty: the coordinator's default
   */
  'grace': (string);
}
