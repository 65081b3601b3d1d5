// Original file: proto/brine/v1/agent.proto

import type { VmSpec as _brine_v1_VmSpec, VmSpec__Output as _brine_v1_VmSpec__Output } from '../../brine/v1/VmSpec.js';

export interface ClusterSpec {
  'jobId'?: (string);
  'jobName'?: (string);
  'image'?: (string);
  'cpus'?: (number);
  'memoryMiB'?: (number);
  'subnet'?: (string);
  'gateway'?: (string);
  'vms'?: (_brine_v1_VmSpec)[];
}

export interface ClusterSpec__Output {
  'jobId': (string);
  'jobName': (string);
  'image': (string);
  'cpus': (number);
  'memoryMiB': (number);
  'subnet': (string);
  'gateway': (string);
  'vms': (_brine_v1_VmSpec__Output)[];
}
