// Original file: proto/brine/v1/coordinator.proto

import type { Site as _brine_v1_Site, Site__Output as _brine_v1_Site__Output } from '../../brine/v1/Site.js';

export interface ListSitesResponse {
  'sites'?: (_brine_v1_Site)[];
}

export interface ListSitesResponse__Output {
  'sites': (_brine_v1_Site__Output)[];
}
