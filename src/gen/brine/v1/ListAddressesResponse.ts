// Original file: proto/brine/v1/coordinator.proto

import type { Lease as _brine_v1_Lease, Lease__Output as _brine_v1_Lease__Output } from '../../brine/v1/Lease.js';

export interface ListAddressesResponse {
  'leases'?: (_brine_v1_Lease)[];
}

export interface ListAddressesResponse__Output {
  'leases': (_brine_v1_Lease__Output)[];
}
