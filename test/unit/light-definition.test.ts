// The CLI's light service definitions (src/cli/light-definition.ts) against @grpc/proto-loader's
// own, loaded from the same .proto file: same methods, same bytes on the wire, same decoded objects.
import { expect } from 'chai';
import { loadSync } from '@grpc/proto-loader';
import { serviceDefinitions } from '../../src/cli/light-definition.js';
import { descriptor } from '../../src/gen/descriptors/coordinator.js';
import { LOADER_OPTIONS } from '../../src/shared/proto-options.js';

type Method = { path: string; requestStream: boolean; responseStream: boolean; requestSerialize(v: object): Buffer; requestDeserialize(b: Buffer): object; responseSerialize(v: object): Buffer; responseDeserialize(b: Buffer): object };
type Service = Record<string, Method>;

describe('the CLI\'s light service definitions', () => {
  const light = serviceDefinitions(descriptor, LOADER_OPTIONS)['brine.v1.JobService'] as unknown as Service;
  const full = loadSync('brine/v1/coordinator.proto', LOADER_OPTIONS)['brine.v1.JobService'] as unknown as Service;

  it('has every method of JobService, with the same paths and streaming', () => {
    expect(Object.keys(light).sort()).to.deep.equal(Object.keys(full).sort());
    for (const [name, m] of Object.entries(full)) {
      expect({ path: light[name]?.path, req: light[name]?.requestStream, res: light[name]?.responseStream }, name).to.deep.equal({ path: m.path, req: m.requestStream, res: m.responseStream });
    }
  });

  it('encodes and decodes like proto-loader: enums as strings, int64 as numbers, defaults filled in', () => {
    const site = {
      name: 'site-a',
      state: 'UP',
      nodes: [{ name: 'a1', state: 'RECLAIMED', cpus: 4, memoryMiB: 4096, freeCpus: 0, freeMemoryMiB: 0 }],
      preempted: [{ job: 'j1', snapshot: 'l1', saved: true, reason: 'x' }],
    };
    const bytes = full.ReclaimNodes?.responseSerialize(site) as Buffer;
    expect(light.ReclaimNodes?.responseSerialize(site)).to.deep.equal(bytes);
    expect(light.ReclaimNodes?.responseDeserialize(bytes)).to.deep.equal(full.ReclaimNodes?.responseDeserialize(bytes));
    const event = { type: 'transfer.progress', state: 'SUSPENDED', bytesDone: 2 ** 40, etaMs: -1 };
    const ev = full.Watch?.responseSerialize(event) as Buffer;
    const decoded = light.Watch?.responseDeserialize(ev) as Record<string, unknown>;
    expect(decoded).to.deep.equal(full.Watch?.responseDeserialize(ev));
    expect(decoded).to.include({ state: 'SUSPENDED', bytesDone: 2 ** 40, etaMs: -1, job: '' });
    const req = { site: 'site-a', nodes: ['a1', 'a2'], grace: '2m' };
    expect(light.ReclaimNodes?.requestSerialize(req)).to.deep.equal(full.ReclaimNodes?.requestSerialize(req));
  });

  it('builds every method\'s own messages (defaults of each request and response) like proto-loader', () => {
    for (const [name, m] of Object.entries(full)) {
      const l = light[name] as Method;
      for (const [ser, de] of [['requestSerialize', 'requestDeserialize'], ['responseSerialize', 'responseDeserialize']] as const) {
        const bytes = m[ser]({});
        expect(l[ser]({}), `${name} ${ser}`).to.deep.equal(bytes);
        expect(l[de](bytes), `${name} ${de}`).to.deep.equal(m[de](bytes));
      }
    }
  });
});
