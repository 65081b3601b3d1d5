// Original file: proto/brine/v1/agent.proto


export interface GetStatusRequest {
}

export interface GetStatusRequest__Output {
}
