// Original file: proto/brine/v1/coordinator.proto


export interface NodeSpec {
  'name'?: (string);
  'uri'?: (string);
  'cpus'?: (number);
  'memoryMiB'?: (number);
}

export interface NodeSpec__Output {
  'name': (string);
  'uri': (string);
  'cpus': (number);
  'memoryMiB': (number);
}
