// Original file: proto/brine/v1/coordinator.proto


export interface SubmitJobRequest {
  'name'?: (string);
  'vms'?: (number);
  'cpus'?: (number);
  'memoryMiB'?: (number);
  'image'?: (string);
  /**
   * pins the job to this site; empty: any site with room
   */
  'site'?: (string);
  /**
   * duration such as "10m"; empty: the site's default
   */
  'checkpointEvery'?: (string);
  'owner'?: (string);
}

export interface SubmitJobRequest__Output {
  'name': (string);
  'vms': (number);
  'cpus': (number);
  'memoryMiB': (number);
  'image': (string);
  /**
   * pins the job to this site; empty: any site with room
   */
  'site': (string);
  /**
   * duration such as "10m"; empty: the site's default
   */
  'checkpointEvery': (string);
  'owner': (string);
}
