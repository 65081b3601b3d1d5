// Original file: proto/brine/v1/coordinator.proto


export interface MigrateJobRequest {
  'id'?: (string);
  'to'?: (string);
}

export interface MigrateJobRequest__Output {
  'id': (string);
  'to': (string);
}
