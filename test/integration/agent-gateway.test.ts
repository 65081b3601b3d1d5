// The coordinator's agent client against a real gRPC server on loopback: a cancelled job's
// transfers in flight are cancelled at the destination (issue 11 point 6).
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { GrpcAgentGateway } from '../../src/coordinator/agents.js';
import { AgentService } from '../../src/shared/proto.js';
import type { AgentServiceHandlers } from '../../src/gen/brine/v1/AgentService.js';
import { serverCredentials } from '../../src/shared/tls.js';
import { COORDINATOR_FILES, credentials, transportOf } from '../helpers/pki.js';

describe('GrpcAgentGateway.abortFetches', function () {
  this.timeout(20_000);
  let server: grpc.Server;
  let gateway: GrpcAgentGateway;
  let address = '';
  let cancelledAt: string[] = [];

  beforeEach(async () => {
    cancelledAt = [];
    server = new grpc.Server();
    const unimplemented = (_call: unknown, cb: grpc.sendUnaryData<never>): void => cb({ code: grpc.status.UNIMPLEMENTED });
    const handlers: Partial<AgentServiceHandlers> = {
      // a transfer that never finishes: one progress message, then silence until cancelled
      FetchSnapshot: (call) => {
        call.write({ snapshotId: call.request.snapshotId, bytesDone: 1, bytesTotal: 100, chunksDone: 0, chunksTotal: 1, rateBps: 0, done: false, phase: 'copying' });
        call.on('cancelled', () => cancelledAt.push(call.request.snapshotId));
      },
    };
    for (const m of ['DeployCluster', 'DestroyCluster', 'GetStatus', 'TakeSnapshot', 'RestoreCluster', 'PruneSnapshots', 'GetManifest']) {
      (handlers as Record<string, unknown>)[m] = unimplemented;
    }
    server.addService(AgentService.service, handlers as AgentServiceHandlers);
    const site = transportOf(await credentials('site', 'site-d'));
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', serverCredentials(site), (e, p) => (e ? rej(e) : res(p))));
    address = `127.0.0.1:${port}`;
    gateway = new GrpcAgentGateway(transportOf(COORDINATOR_FILES));
    gateway.learn(address, 'site-d');
  });
  afterEach(() => {
    gateway.close();
    server.forceShutdown();
  });

  it("cancels only that job's transfers; the destination sees the cancel and the promise rejects", async () => {
    const progress: number[] = [];
    const first = gateway.fetchSnapshot(address, { operationId: 'o1', snapshotId: 's-a', jobId: 'ja', source: '127.0.0.1:9', urgent: true }, (p) => progress.push(p.bytesDone));
    const other = gateway.fetchSnapshot(address, { operationId: 'o2', snapshotId: 's-b', jobId: 'jb', source: '127.0.0.1:9', urgent: false });
    const outcomeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => `rejected: ${e.message}`);
    const firstOutcome = outcomeOf(first);
    const otherOutcome = outcomeOf(other);
    while (progress.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(gateway.abortFetches('ja')).to.equal(1);
    expect(await firstOutcome).to.match(/^rejected: .*[Cc]ancel/);
    while (cancelledAt.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(cancelledAt).to.deep.equal(['s-a']);
    expect(gateway.abortFetches('ja')).to.equal(0);
    expect(gateway.abortFetches('jb')).to.equal(1);
    expect(await otherOutcome).to.match(/^rejected/);
  });
});
