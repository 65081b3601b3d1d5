// Output disks (issue 12 point 3): when `brine output` may read a job's output (pure), and the
// agent's keeping, reading and expiry of them, on real files made by the real tools (mkfs.ext4,
// qemu-img, debugfs); the cluster manager and the store are small stand-ins.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputSource } from '../../src/coordinator/outputs.js';
import type { JobRecord } from '../../src/coordinator/store.js';
import { BrineError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { domainName } from '../../site-agent/domain-xml.js';
import { e2fsOutputDisks } from '../../site-agent/output-disk.js';
import { Outputs, type OutputPiece } from '../../site-agent/outputs.js';
import { writeIntoOutputDisk } from '../helpers/output-disk.js';

function job(over: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'j1', name: 'demo', owner: 'alice', state: 'COMPLETED', site: 'site-b', pinnedSite: '', subnet: '', gateway: '',
    vms: [{ name: 'demo-0', node: 'n1', mac: '', ip: '', state: 'DESTROYED', domain: '', console: '' }],
    vmCount: 1, cpus: 1, memoryMiB: 64, image: 'tiny', checkpointEvery: '30m', lastSnapshot: '', createdAt: '2026-12-01T00:00:00.000Z',
    history: [], deployAttempts: 0, outputDiskMiB: 16, outputKeptUntil: '2026-12-08T00:00:00.000Z',
    ...over,
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof BrineError ? `${err.code}: ${err.message}` : String(err);
  }
  return 'ok';
}

describe('outputSource: may an output be read now, and where', () => {
  const now = new Date('2026-12-03T00:00:00.000Z');
  it('an ended job with kept output: its site', () => {
    expect(outputSource(job(), '', now)).to.deep.equal({ site: 'site-b' });
    expect(outputSource(job({ state: 'CANCELLED' }), 'demo-0', now)).to.deep.equal({ site: 'site-b' });
  });
  it('a job still running: FAILED_PRECONDITION (exit 4), saying when to come back', () => {
    expect(codeOf(() => outputSource(job({ state: 'RUNNING', outputKeptUntil: '' }), '', now))).to.match(/^FAILED_PRECONDITION: job j1 is RUNNING: .*once it has ended/);
    expect(codeOf(() => outputSource(job({ state: 'SUSPENDED', outputKeptUntil: '' }), '', now))).to.match(/^FAILED_PRECONDITION/);
  });
  it('expired: NOT_FOUND (exit 3) with when it expired', () => {
    expect(codeOf(() => outputSource(job(), '', new Date('2026-12-08T00:00:00.000Z')))).to.equal(
      'NOT_FOUND: the output of job j1 expired at 2026-12-08T00:00:00.000Z (kept for jobs.keepEndedFor after the job ended)',
    );
  });
  it('no disk, an unknown VM, or not kept: NOT_FOUND', () => {
    expect(codeOf(() => outputSource(job({ outputDiskMiB: undefined }), '', now))).to.match(/^NOT_FOUND: job j1 has no output disk/);
    expect(codeOf(() => outputSource(job(), 'demo-7', now))).to.match(/^NOT_FOUND: vm demo-7 \(job j1 has demo-0\)/);
    expect(codeOf(() => outputSource(job({ outputKeptUntil: '' }), '', now))).to.match(/^NOT_FOUND: the output of job j1 was not kept/);
    expect(codeOf(() => outputSource(job({ state: 'CANCELLED', site: '', outputKeptUntil: '' }), '', now))).to.equal('NOT_FOUND: job j1 ended before it ran anywhere: it has no output');
  });
});

describe('Outputs: kept output disks at the agent', function () {
  this.timeout(30_000);
  let dir = '';
  let clock = 0;
  const running = new Set<string>();
  const outputs = (): Outputs =>
    new Outputs({
      clusters: {
        clusterStatus: async (jobId: string) => ({
          jobId,
          network: '',
          networkXml: '',
          vms: ['demo-0', 'demo-1'].map((name) => ({ name, node: 'n1', state: running.has(name) ? 'RUNNING' : 'SHUTOFF', mac: '', ip: '', domain: '', console: '' })),
        }),
        outputPath: (domain: string) => join(dir, 'disks', `${domain}.output.qcow2`),
      },
      store: { list: async () => [], restoreFile: async () => ({ bytes: 0 }) },
      tool: e2fsOutputDisks,
      dataDir: dir,
      log: silentLogger,
      now: () => clock,
    });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brine-outputs-'));
    clock = Date.parse('2026-12-03T00:00:00.000Z');
    running.clear();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const collect = async (o: Outputs, vm = ''): Promise<OutputPiece[]> => {
    const out: OutputPiece[] = [];
    for await (const p of o.read('j1', vm, new AbortController().signal)) out.push(p);
    return out;
  };

  it('keeps each VM disk past the destroy, streams its files in pieces, and deletes it when its time is up', async () => {
    const disk0 = join(dir, 'disks', `${domainName('j1', 'demo-0')}.output.qcow2`);
    await e2fsOutputDisks.create(disk0, 16);
    const big = Buffer.alloc(600 * 1024, 7);
    await writeIntoOutputDisk(disk0, { 'a.txt': 'alpha\n', 'sub/big.bin': big, 'sub/empty': '' });
    const o = outputs();
    expect(await o.keep('j1', 60_000)).to.deep.equal(['demo-0']); // demo-1 has no disk here
    rmSync(disk0); // what the destroy does next
    const pieces = await collect(o);
    expect(pieces.map((p) => [p.vm, p.path, p.offset, p.data.length, p.size])).to.deep.equal([
      ['demo-0', 'a.txt', 0, 6, 6],
      ['demo-0', 'sub/big.bin', 0, 262144, 614400],
      ['demo-0', 'sub/big.bin', 262144, 262144, 614400],
      ['demo-0', 'sub/big.bin', 524288, 90112, 614400],
      ['demo-0', 'sub/empty', 0, 0, 0],
    ]);
    expect(Buffer.concat(pieces.filter((p) => p.path === 'sub/big.bin').map((p) => p.data)).equals(big)).to.equal(true);
    const work = join(dir, 'kept-outputs', 'work');
    expect(existsSync(work) ? readdirSync(work) : [], 'no unpacked files left').to.deep.equal([]);

    clock += 59_000;
    expect(await o.sweep()).to.equal(0);
    clock += 2_000;
    expect(await o.sweep()).to.equal(1);
    let err: unknown;
    await collect(o).catch((e: unknown) => (err = e));
    expect((err as BrineError).code).to.equal('NOT_FOUND');
  });

  it('at start, clears what a read cut short by a crash left behind, and keeps the kept disks', async () => {
    await mkdir(join(dir, 'kept-outputs', 'work', 'j1-demo-0-abc', 'files'), { recursive: true });
    await mkdir(join(dir, 'kept-outputs', 'j1'), { recursive: true });
    await writeFile(join(dir, 'kept-outputs', 'j1', 'demo-0.qcow2'), '');
    await outputs().clearWork();
    expect(existsSync(join(dir, 'kept-outputs', 'work'))).to.equal(false);
    expect(existsSync(join(dir, 'kept-outputs', 'j1', 'demo-0.qcow2'))).to.equal(true);
  });

  it('a keep after a fence kept the disk (the VM file gone) keeps that copy and extends its expiry', async () => {
    const disk0 = join(dir, 'disks', `${domainName('j1', 'demo-0')}.output.qcow2`);
    await e2fsOutputDisks.create(disk0, 16);
    await writeIntoOutputDisk(disk0, { 'late.txt': 'written last\n' });
    const o = outputs();
    expect(await o.keep('j1', 60_000)).to.deep.equal(['demo-0']); // the fence's keep, an hour in real life
    rmSync(disk0); // the fence's destroy
    clock += 30_000;
    expect(await o.keep('j1', 600_000)).to.deep.equal(['demo-0']); // the coordinator's destroy, later
    clock += 100_000; // past the first expiry, within the second
    expect(await o.sweep()).to.equal(0);
    expect((await collect(o)).map((p) => [p.path, p.data.toString()])).to.deep.equal([['late.txt', 'written last\n']]);
  });

  it('refuses to read while the VM still runs here (FAILED_PRECONDITION)', async () => {
    await mkdir(join(dir, 'kept-outputs', 'j1'), { recursive: true });
    await writeFile(join(dir, 'kept-outputs', 'j1', 'demo-0.qcow2'), '');
    running.add('demo-0');
    let err: unknown;
    await collect(outputs(), 'demo-0').catch((e: unknown) => (err = e));
    expect((err as BrineError).code).to.equal('FAILED_PRECONDITION');
  });
});
