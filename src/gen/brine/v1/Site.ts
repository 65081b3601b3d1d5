// Original file: proto/brine/v1/types.proto

import type { NodeInfo as _brine_v1_NodeInfo, NodeInfo__Output as _brine_v1_NodeInfo__Output } from '../../brine/v1/NodeInfo.js';
import type { PreemptedJob as _brine_v1_PreemptedJob, PreemptedJob__Output as _brine_v1_PreemptedJob__Output } from '../../brine/v1/PreemptedJob.js';

export interface Site {
  'name'?: (string);
  /**
   * "UP" | "DOWN"
   */
  'state'?: (string);
  'nodes'?: (_brine_v1_NodeInfo)[];
  'subnetPool'?: (string);
  'macRange'?: (string);
  'advertise'?: (string);
  'images'?: (string)[];
  'lastHeartbeat'?: (string);
  /**
   * only in the answer to ReclaimNodes: each job that had VMs on the reclaimed nodes
   */
  'preempted'?: (_brine_v1_PreemptedJob)[];
  /**
   * the site lets jobs that ask for it reach outside networks through NAT (its network.egress: nat)
   */
  'egress'?: (boolean);
  /**
   * the largest output disk a VM may have here, in MiB (its outputDisk.max); 0: none allowed
   */
  'maxOutputDiskMiB'?: (number);
}

export interface Site__Output {
  'name': (string);
  /**
   * "UP" | "DOWN"
   */
  'state': (string);
  'nodes': (_brine_v1_NodeInfo__Output)[];
  'subnetPool': (string);
  'macRange': (string);
  'advertise': (string);
  'images': (string)[];
  'lastHeartbeat': (string);
  /**
   * only in the answer to ReclaimNodes: each job that had VMs on the reclaimed nodes
   */
  'preempted': (_brine_v1_PreemptedJob__Output)[];
  /**
   * the site lets jobs that ask for it reach outside networks through NAT (its network.egress: nat)
   */
  'egress': (boolean);
  /**
   * the largest output disk a VM may have here, in MiB (its outputDisk.max); 0: none allowed
   */
  'maxOutputDiskMiB': (number);
}
