// Original file: proto/brine/v1/agent.proto


export interface VmSpec {
  'name'?: (string);
  'node'?: (string);
  'mac'?: (string);
  'ip'?: (string);
}

export interface VmSpec__Output {
  'name': (string);
  'node': (string);
  'mac': (string);
  'ip': (string);
}
