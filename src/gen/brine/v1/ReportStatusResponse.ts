// Original file: proto/brine/v1/coordinator.proto


export interface ReportStatusResponse {
}

export interface ReportStatusResponse__Output {
}
