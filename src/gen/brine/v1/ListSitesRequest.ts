// Original file: proto/brine/v1/coordinator.proto


export interface ListSitesRequest {
}

export interface ListSitesRequest__Output {
}
