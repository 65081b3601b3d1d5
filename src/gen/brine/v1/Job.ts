// Original file: proto/brine/v1/types.proto

import type { JobState as _brine_v1_JobState, JobState__Output as _brine_v1_JobState__Output } from '../../brine/v1/JobState.js';
import type { Vm as _brine_v1_Vm, Vm__Output as _brine_v1_Vm__Output } from '../../brine/v1/Vm.js';
import type { Transition as _brine_v1_Transition, Transition__Output as _brine_v1_Transition__Output } from '../../brine/v1/Transition.js';

export interface Job {
  'id'?: (string);
  'name'?: (string);
  'owner'?: (string);
  'state'?: (_brine_v1_JobState);
  'site'?: (string);
  'subnet'?: (string);
  'gateway'?: (string);
  'vms'?: (_brine_v1_Vm)[];
  'checkpointEvery'?: (string);
  'lastSnapshot'?: (string);
  'createdAt'?: (string);
  'history'?: (_brine_v1_Transition)[];
  'vmCount'?: (number);
  'cpus'?: (number);
  'memoryMiB'?: (number);
  'image'?: (string);
  'pinnedSite'?: (string);
  /**
   * size of the user-data given at submit (its bytes are not shown); 0: none
   */
  'userDataBytes'?: (number);
  /**
   * the meta-data keys given at submit (`--meta`)
   */
  'meta'?: ({[key: string]: string});
  /**
   * the cluster's network is NATed to outside networks (`submit --egress`); false: isolated
   */
  'egress'?: (boolean);
  /**
   * size of each VM's output disk (`submit --output-disk`), in MiB; 0: none
   */
  'outputDiskMiB'?: (number);
  /**
   * an ended job with an output disk: until when `brine output` can copy it (RFC 3339), from
   * the site in `site`; empty: no output disk, or the job has not ended
   */
  'outputKeptUntil'?: (string);
}

export interface Job__Output {
  'id': (string);
  'name': (string);
  'owner': (string);
  'state': (_brine_v1_JobState__Output);
  'site': (string);
  'subnet': (string);
  'gateway': (string);
  'vms': (_brine_v1_Vm__Output)[];
  'checkpointEvery': (string);
  'lastSnapshot': (string);
  'createdAt': (string);
  'history': (_brine_v1_Transition__Output)[];
  'vmCount': (number);
  'cpus': (number);
  'memoryMiB': (number);
  'image': (string);
  'pinnedSite': (string);
  /**
   * size of the user-data given at submit (its bytes are not shown); 0: none
   */
  'userDataBytes': (number);
  /**
   * the meta-data keys given at submit (`--meta`)
   */
  'meta': ({[key: string]: string});
  /**
   * the cluster's network is NATed to outside networks (`submit --egress`); false: isolated
   */
  'egress': (boolean);
  /**
   * size of each VM's output disk (`submit --output-disk`), in MiB; 0: none
   */
  'outputDiskMiB': (number);
  /**
   * an ended job with an output disk: until when `brine output` can copy it (RFC 3339), from
   * the site in `site`; empty: no output disk, or the job has not ended
   */
  'outputKeptUntil': (string);
}
