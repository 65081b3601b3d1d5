// kill -9 of the real coordinator process during a stream of gRPC submits: after each restart,
// every submit that was acknowledged is there (journal + group commit, ../../src/coordinator/store.ts).
// The journal is compacted every MiB, so over the cycles kills also land around compactions.
import { expect } from 'chai';
import type * as grpc from '@grpc/grpc-js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_OPTIONS, JobService, type Job } from '../../src/shared/proto.js';
import type { JobServiceClient } from '../../src/gen/brine/v1/JobService.js';
import { clientCredentials, TLS_CLIENT_OPTIONS } from '../../src/shared/tls.js';
import { TestGrid, waitFor } from '../helpers/grid.js';
import { ADMIN_FILES, transportOf } from '../helpers/pki.js';

describe('coordinator killed with SIGKILL during submits', function () {
  this.timeout(180_000);
  let grid: TestGrid;
  beforeEach(() => (grid = new TestGrid()));
  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  const client = (): JobServiceClient => new JobService(grid.coordinator, clientCredentials(transportOf(ADMIN_FILES), { roles: ['coordinator'] }), { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS });
  const getJob = (c: JobServiceClient, id: string): Promise<Job | null> =>
    new Promise((resolve, reject) => c.GetJob({ id }, (err: grpc.ServiceError | null, res?: Job) => (err ? (err.code === 5 ? resolve(null) : reject(err)) : resolve(res ?? null))));

  it('loses no acknowledged submit, whenever the kill lands', async () => {
    const acked: string[] = [];
    const cycles = 4;
    for (let cycle = 0; cycle < cycles; cycle++) {
      await grid.startCoordinator({ extra: 'journal:\n  compactAfter: 1\n' });
      const c = client();
      const before = acked.length;
      let stop = false;
      let inFlightFailures = 0;
      const streams = Array.from({ length: 24 }, async (_, s) => {
        for (let i = 0; !stop; i++) {
          try {
            const job = await new Promise<Job>((resolve, reject) =>
              c.SubmitJob({ name: `c${cycle}-${s}-${i}`, vms: 1, cpus: 1, memoryMiB: 64, image: 'tiny' }, (err: grpc.ServiceError | null, res?: Job) => (err || !res ? reject(err) : resolve(res))),
            );
            acked.push(job.id);
          } catch {
            inFlightFailures++; // the kill: this one was never acknowledged
            return;
          }
        }
      });
      // kill after a different number of acknowledgements each cycle
      const target = before + 200 + cycle * 170;
      await waitFor(`${target - before} acknowledged submits`, () => acked.length >= target, 60_000, 5);
      await grid.kill('coordinator', 'SIGKILL');
      stop = true;
      await Promise.all(streams);
      c.close();
      expect(inFlightFailures, 'submits were in flight when the kill landed').to.be.greaterThan(0);
    }
    await grid.startCoordinator();
    const c = client();
    const missing: string[] = [];
    for (const id of acked) if (!(await getJob(c, id))) missing.push(id);
    c.close();
    expect(missing, `${missing.length} of ${acked.length} acknowledged jobs lost`).to.deep.equal([]);
    expect(new Set(acked).size).to.equal(acked.length);
    // the journal was compacted along the way (a snapshot names a later generation)
    const files = readdirSync(join(grid.dir, 'coordinator'));
    expect(files.some((f) => /^journal\.[1-9]/.test(f)), files.join(' ')).to.equal(true);
  });
});
