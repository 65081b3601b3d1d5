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
  /**
   * cloud-init user-data given to every VM in its NoCloud seed (`submit --user-data FILE`);
   * at most the coordinator's `limits.userDataMax` bytes (default 64 KiB); empty: none
   */
  'userData'?: (Buffer | Uint8Array | string);
  /**
   * extra keys of each VM's NoCloud meta-data (`submit --meta KEY=VALUE`); `instance-id` and
   * `local-hostname` are brine's
   */
  'meta'?: ({[key: string]: string});
  /**
   * NAT to outside networks (`submit --egress`): placed only on sites whose network.egress is nat
   */
  'egress'?: (boolean);
  /**
   * each VM gets an output disk of this many MiB (`submit --output-disk SIZE`), an ext4 volume
   * labelled brine-output, kept after the job ends for `brine output`; 0: none
   */
  'outputDiskMiB'?: (number);
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
  /**
   * cloud-init user-data given to every VM in its NoCloud seed (`submit --user-data FILE`);
   * at most the coordinator's `limits.userDataMax` bytes (default 64 KiB); empty: none
   */
  'userData': (Buffer);
  /**
   * extra keys of each VM's NoCloud meta-data (`submit --meta KEY=VALUE`); `instance-id` and
   * `local-hostname` are brine's
   */
  'meta': ({[key: string]: string});
  /**
   * NAT to outside networks (`submit --egress`): placed only on sites whose network.egress is nat
   */
  'egress': (boolean);
  /**
   * each VM gets an output disk of this many MiB (`submit --output-disk SIZE`), an ext4 volume
   * labelled brine-output, kept after the job ends for `brine output`; 0: none
   */
  'outputDiskMiB': (number);
}
