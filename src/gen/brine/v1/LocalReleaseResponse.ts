// Original file: proto/brine/v1/agent.proto


export interface LocalReleaseResponse {
  'closedNodes'?: (string)[];
  'ignoredNodes'?: (string)[];
}

export interface LocalReleaseResponse__Output {
  'closedNodes': (string)[];
  'ignoredNodes': (string)[];
}
