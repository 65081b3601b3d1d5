// Original file: proto/brine/v1/coordinator.proto


export interface ReleaseNodesRequest {
  'site'?: (string);
  'nodes'?: (string)[];
}

export interface ReleaseNodesRequest__Output {
  'site': (string);
  'nodes': (string)[];
}
