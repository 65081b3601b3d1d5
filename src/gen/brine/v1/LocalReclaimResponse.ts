// Original file: proto/brine/v1/agent.proto

import type { PreemptedJob as _brine_v1_PreemptedJob, PreemptedJob__Output as _brine_v1_PreemptedJob__Output } from '../../brine/v1/PreemptedJob.js';

export interface LocalReclaimResponse {
  /**
   * each job that had VMs on the nodes: its suspend snapshot and whether it is durable
   */
  'preempted'?: (_brine_v1_PreemptedJob)[];
  /**
   * asked nodes on which no brine VM runs now (they may be handed to the batch scheduler)
   */
  'freeNodes'?: (string)[];
  /**
   * every node of the site closed to new VMs now
   */
  'closedNodes'?: (string)[];
  'ignoredNodes'?: (string)[];
}

export interface LocalReclaimResponse__Output {
  /**
   * each job that had VMs on the nodes: its suspend snapshot and whether it is durable
   */
  'preempted': (_brine_v1_PreemptedJob__Output)[];
  /**
   * asked nodes on which no brine VM runs now (they may be handed to the batch scheduler)
   */
  'freeNodes': (string)[];
  /**
   * every node of the site closed to new VMs now
   */
  'closedNodes': (string)[];
  'ignoredNodes': (string)[];
}
