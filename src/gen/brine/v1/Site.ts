// Original file: proto/brine/v1/types.proto

import type { NodeInfo as _brine_v1_NodeInfo, NodeInfo__Output as _brine_v1_NodeInfo__Output } from '../../brine/v1/NodeInfo.js';

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
}
