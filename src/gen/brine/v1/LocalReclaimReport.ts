// Original file: proto/brine/v1/coordinator.proto

import type { LocalSuspension as _brine_v1_LocalSuspension, LocalSuspension__Output as _brine_v1_LocalSuspension__Output } from '../../brine/v1/LocalSuspension.js';
import type { Long } from '@grpc/proto-loader';

/**
 * The agent's LocalReclaim/LocalRelease calls not yet acknowledged by the coordinator. Sent with
 * every registration and heartbeat until an answer's `localReclaimAcked` equals `revision`.
 */
export interface LocalReclaimReport {
  /**
   * grows with every change the agent makes to it
   */
  'revision'?: (number | string | Long);
  /**
   * nodes the agent closed to new VMs (the coordinator marks them reclaimed)
   */
  'closedNodes'?: (string)[];
  /**
   * nodes the agent opened again (the coordinator releases them)
   */
  'releasedNodes'?: (string)[];
  'suspended'?: (_brine_v1_LocalSuspension)[];
}

/**
 * The agent's LocalReclaim/LocalRelease calls not yet acknowledged by the coordinator. Sent with
 * every registration and heartbeat until an answer's `localReclaimAcked` equals `revision`.
 */
export interface LocalReclaimReport__Output {
  /**
   * grows with every change the agent makes to it
   */
  'revision': (number);
  /**
   * nodes the agent closed to new VMs (the coordinator marks them reclaimed)
   */
  'closedNodes': (string)[];
  /**
   * nodes the agent opened again (the coordinator releases them)
   */
  'releasedNodes': (string)[];
  'suspended': (_brine_v1_LocalSuspension__Output)[];
}
