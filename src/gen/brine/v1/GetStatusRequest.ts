// Original file: proto/brine/v1/agent.proto


export interface GetStatusRequest {
  /**
   * adds libvirt's own XML of each cluster's network (for operators and tests)
   */
  'includeNetworkXml'?: (boolean);
}

export interface GetStatusRequest__Output {
  /**
   * adds libvirt's own XML of each cluster's network (for operators and tests)
   */
  'includeNetworkXml': (boolean);
}
