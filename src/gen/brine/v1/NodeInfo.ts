// Original file: proto/brine/v1/types.proto


export interface NodeInfo {
  'name'?: (string);
  /**
   * "UP" | "RECLAIMED" | "DOWN"
   */
  'state'?: (string);
  'cpus'?: (number);
  'memoryMiB'?: (number);
  'freeCpus'?: (number);
  'freeMemoryMiB'?: (number);
  'uri'?: (string);
  /**
   * what its agent registered: guest architecture, domain type of new VMs, host CPU model
   */
  'arch'?: (string);
  'domainType'?: (string);
  'cpuModel'?: (string);
}

export interface NodeInfo__Output {
  'name': (string);
  /**
   * "UP" | "RECLAIMED" | "DOWN"
   */
  'state': (string);
  'cpus': (number);
  'memoryMiB': (number);
  'freeCpus': (number);
  'freeMemoryMiB': (number);
  'uri': (string);
  /**
   * what its agent registered: guest architecture, domain type of new VMs, host CPU model
   */
  'arch': (string);
  'domainType': (string);
  'cpuModel': (string);
}
