import { expect } from 'chai';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consoles, type ConsoleChunkOut } from '../../site-agent/consoles.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { ClusterStatus } from '../../src/shared/proto.js';

describe('agent consoles (site-agent/consoles.ts)', () => {
  let dir: string;
  let now = Date.parse('2026-01-01T00:00:00Z');
  let status: ClusterStatus | null = null;
  const consoles = (): Consoles =>
    new Consoles({
      clusters: { clusterStatus: async () => status },
      store: { list: async () => [], openFile: () => { throw new Error('no snapshot in this test'); } },
      dataDir: dir,
      timers: { setTimeout: (fn: () => void) => setImmediate(fn) },
      log: silentLogger,
      now: () => now,
    });
  const read = async (c: Consoles, offset: number): Promise<ConsoleChunkOut[]> => {
    const out: ConsoleChunkOut[] = [];
    for await (const chunk of c.read('j1', 'v-0', offset, false, new AbortController().signal)) out.push(chunk);
    return out;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brine-consoles-'));
    await writeFile(join(dir, 'v-0.log'), 'hello\nworld\n');
    status = { jobId: 'j1', network: '', networkXml: '', vms: [{ name: 'v-0', node: 'n1', domain: 'd', state: 'RUNNING', console: join(dir, 'v-0.log') }] };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads a running VM console from an offset, and says where it ends when it is shorter than asked (a failover)', async () => {
    const c = consoles();
    expect((await read(c, 6)).map((x) => [x.offset, x.data.toString(), x.source])).to.deep.equal([[6, 'world\n', 'running']]);
    const short = await read(c, 100);
    expect(short.map((x) => [x.offset, x.data.length])).to.deep.equal([[12, 0]]);
  });

  it('keeps an ended job console until its expiry, then the sweep deletes it', async () => {
    const c = consoles();
    expect(await c.keep('j1', 60_000)).to.deep.equal(['v-0']);
    status = null; // destroyed
    expect((await read(c, 0)).map((x) => [x.data.toString(), x.source])).to.deep.equal([['hello\nworld\n', 'kept']]);
    now += 59_000;
    expect(await c.sweep()).to.equal(0);
    now += 2_000;
    expect(await c.sweep()).to.equal(1);
    expect(await readdir(join(dir, 'kept-consoles'))).to.deep.equal([]);
    let err: unknown;
    await read(c, 0).catch((e: unknown) => (err = e));
    expect(err).to.have.property('code', 'NOT_FOUND');
  });
});
