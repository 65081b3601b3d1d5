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
  /**
   * the job's cloud-init user-data and extra meta-data: the agent builds each VM's NoCloud seed
   * from them at every deploy and restore (SubmitJobRequest.userData, .meta)
   */
  'userData'?: (Buffer | Uint8Array | string);
  'meta'?: ({[key: string]: string});
  /**
   * the cluster's network forwards to outside networks through NAT; false: isolated (the default)
   */
  'egress'?: (boolean);
  /**
   * each VM gets an output disk of this many MiB (ext4, labelled brine-output); 0: none
   */
  'outputDiskMiB'?: (number);
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
  /**
   * the job's cloud-init user-data and extra meta-data: the agent builds each VM's NoCloud seed
   * from them at every deploy and restore (SubmitJobRequest.userData, .meta)
   */
  'userData': (Buffer);
  'meta': ({[key: string]: string});
  /**
   * the cluster's network forwards to outside networks through NAT; false: isolated (the default)
   */
  'egress': (boolean);
  /**
   * each VM gets an output disk of this many MiB (ext4, labelled brine-output); 0: none
   */
  'outputDiskMiB': (number);
}
