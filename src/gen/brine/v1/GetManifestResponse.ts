// Original file: proto/brine/v1/agent.proto


export interface GetManifestResponse {
  'manifestJson'?: (string);
}

export interface GetManifestResponse__Output {
  'manifestJson': (string);
}
