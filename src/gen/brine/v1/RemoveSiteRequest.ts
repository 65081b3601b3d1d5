// Original file: proto/brine/v1/coordinator.proto


export interface RemoveSiteRequest {
  'site'?: (string);
}

export interface RemoveSiteRequest__Output {
  'site': (string);
}
