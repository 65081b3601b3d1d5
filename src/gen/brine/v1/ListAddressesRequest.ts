// Original file: proto/brine/v1/coordinator.proto


export interface ListAddressesRequest {
  'site'?: (string);
}

export interface ListAddressesRequest__Output {
  'site': (string);
}
