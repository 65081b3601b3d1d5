// Original file: proto/brine/v1/agent.proto


export interface LocalReleaseRequest {
  'nodes'?: (string)[];
  'ignoreUnknown'?: (boolean);
}

export interface LocalReleaseRequest__Output {
  'nodes': (string)[];
  'ignoreUnknown': (boolean);
}
