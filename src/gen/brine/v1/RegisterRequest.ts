// Original file: proto/brine/v1/coordinator.proto

import type { NodeSpec as _brine_v1_NodeSpec, NodeSpec__Output as _brine_v1_NodeSpec__Output } from '../../brine/v1/NodeSpec.js';
import type { ClusterStatus as _brine_v1_ClusterStatus, ClusterStatus__Output as _brine_v1_ClusterStatus__Output } from '../../brine/v1/ClusterStatus.js';
import type { LocalReclaimReport as _brine_v1_LocalReclaimReport, LocalReclaimReport__Output as _brine_v1_LocalReclaimReport__Output } from '../../brine/v1/LocalReclaimReport.js';

export interface RegisterRequest {
  'site'?: (string);
  /**
   * host:port where the coordinator reaches this agent's AgentService
   */
  'advertise'?: (string);
  'nodes'?: (_brine_v1_NodeSpec)[];
  'images'?: (string)[];
  'subnetPool'?: (string);
  'macRange'?: (string);
  /**
   * random per agent process: tells a restarted agent from a second one
   */
  'instance'?: (string);
  /**
   * what already runs on the site's nodes (adopted after an agent restart)
   */
  'clusters'?: (_brine_v1_ClusterStatus)[];
  'defaultCheckpointEvery'?: (string);
  /**
   * snapshots kept per job at this site (config snapshots.keep)
   */
  'snapshotsKeep'?: (number);
  /**
   * other sites each checkpoint of this site is copied to (config snapshots.replicas; 0: none)
   */
  'snapshotsReplicas'?: (number);
  /**
   * what the agent did by itself while the coordinator was unreachable (unset: nothing new)
   */
  'localReclaim'?: (_brine_v1_LocalReclaimReport | null);
  /**
   * the grid this agent belongs to (its data dir remembers it; empty: none yet) and the highest
   * coordinator epoch it has seen: a coordinator of another grid, or an older epoch, is refused
   */
  'gridId'?: (string);
  'epoch'?: (number);
  /**
   * the site's config allows NAT egress for jobs that ask for it (network.egress: nat)
   */
  'egress'?: (boolean);
  /**
   * the largest output disk per VM it allows, in MiB (outputDisk.max; 0: none)
   */
  'maxOutputDiskMiB'?: (number);
}

export interface RegisterRequest__Output {
  'site': (string);
  /**
   * host:port where the coordinator reaches this agent's AgentService
   */
  'advertise': (string);
  'nodes': (_brine_v1_NodeSpec__Output)[];
  'images': (string)[];
  'subnetPool': (string);
  'macRange': (string);
  /**
   * random per agent process: tells a restarted agent from a second one
   */
  'instance': (string);
  /**
   * what already runs on the site's nodes (adopted after an agent restart)
   */
  'clusters': (_brine_v1_ClusterStatus__Output)[];
  'defaultCheckpointEvery': (string);
  /**
   * snapshots kept per job at this site (config snapshots.keep)
   */
  'snapshotsKeep': (number);
  /**
   * other sites each checkpoint of this site is copied to (config snapshots.replicas; 0: none)
   */
  'snapshotsReplicas': (number);
  /**
   * what the agent did by itself while the coordinator was unreachable (unset: nothing new)
   */
  'localReclaim': (_brine_v1_LocalReclaimReport__Output | null);
  /**
   * the grid this agent belongs to (its data dir remembers it; empty: none yet) and the highest
   * coordinator epoch it has seen: a coordinator of another grid, or an older epoch, is refused
   */
  'gridId': (string);
  'epoch': (number);
  /**
   * the site's config allows NAT egress for jobs that ask for it (network.egress: nat)
   */
  'egress': (boolean);
  /**
   * the largest output disk per VM it allows, in MiB (outputDisk.max; 0: none)
   */
  'maxOutputDiskMiB': (number);
}
