// Issue 12, points 1, 2 and 5 on the embedded default: `submit --user-data/--meta` through the real
// CLI, coordinator and agents; each VM's NoCloud seed built by the agent wherever the job runs (read
// back from the ISO with isoinfo), the cluster network's DNS names at both sites of a move, and bad
// input refused with exit 2 and nothing written.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import * as grpc from '@grpc/grpc-js';
import { runCli } from '../helpers/cli.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import { ADMIN_FILES, transportOf } from '../helpers/pki.js';
import { JobService, CLIENT_OPTIONS, type Job } from '../../src/shared/proto.js';
import { clientCredentials, TLS_CLIENT_OPTIONS } from '../../src/shared/tls.js';

/** One file of a seed image, by its Rock Ridge name. */
function isoFile(iso: string, name: string): Buffer {
  return execFileSync('isoinfo', ['-i', iso, '-R', '-x', `/${name}`]);
}

function isoLabel(iso: string): string {
  const m = /Volume id:\s*(\S+)/.exec(execFileSync('isoinfo', ['-d', '-i', iso]).toString());
  return m?.[1] ?? '';
}

describe('user-data, meta and names (test driver)', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  let files: string;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 60_000 });
  const show = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();
  const jobs = async (): Promise<Job[]> => (await cli('ls', '--json')).json<Job[]>();
  const seedOf = (site: string, job: string, vm: string): string => join(grid.siteDataDir(site), 'seeds', `brine-${job}-${vm}.iso`);
  const SCRIPT = '#!/bin/sh\necho "hello from $(hostname)" > /dev/ttyS0\n';

  beforeEach(async () => {
    grid = new TestGrid();
    files = join(grid.dir, 'files');
    mkdirSync(files);
    writeFileSync(join(files, 'job.sh'), SCRIPT);
    await grid.startCoordinator({ heartbeatTimeout: '10s', extra: 'limits: { userDataMaxKiB: 16 }\n' });
    await grid.startAgent({ name: 'site-a' });
    await grid.startAgent({ name: 'site-b' });
  });

  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('gives every VM a cidata seed (user-data, meta-data, network-config), rebuilt at the destination of a move; DNS names follow', async () => {
    const sub = await cli('submit', '--name', 'ud', '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', 'site-a',
      '--user-data', join(files, 'job.sh'), '--meta', 'project=climate', '--meta', 'run=42', '--wait', '--json');
    expect(sub.code, sub.stderr).to.equal(0);
    const job = sub.json<Job>();
    expect(job.state).to.equal('RUNNING');
    // the wire shows the size and the meta keys, never the bytes
    expect(job.userDataBytes).to.equal(Buffer.byteLength(SCRIPT));
    expect(job.meta).to.deep.equal({ project: 'climate', run: '42' });
    expect(JSON.stringify(job)).not.to.include('hello from');
    const human = await cli('show', job.id);
    expect(human.stdout).to.match(new RegExp(`^user-data:\\s+${Buffer.byteLength(SCRIPT)} B$`, 'm'));
    expect(human.stdout).to.match(/^meta:\s+project=climate run=42$/m);

    for (const vm of job.vms) {
      const iso = seedOf('site-a', job.id, vm.name);
      expect(isoLabel(iso)).to.equal('cidata');
      expect(isoFile(iso, 'user-data').toString()).to.equal(SCRIPT);
      const meta = parse(isoFile(iso, 'meta-data').toString()) as Record<string, string>;
      expect(meta).to.deep.equal({ project: 'climate', run: '42', 'instance-id': `brine-${job.id}-${vm.name}`, 'local-hostname': vm.name });
      const net = parse(isoFile(iso, 'network-config').toString()) as { version: number; ethernets: Record<string, { dhcp4: boolean; match: { name: string } }> };
      expect(net.version).to.equal(2);
      expect(Object.values(net.ethernets)).to.deep.equal([{ match: { name: 'e*' }, dhcp4: true }]);
    }

    // DNS: each VM by its name and <vm>.<job>.brine, on the addresses it has at this site
    const dnsHosts = async (site: string) => {
      const [cluster] = (await agentStatus(grid.sitePorts.get(site) as number, { includeNetworkXml: true })).filter((c) => c.jobId === job.id);
      return [...(cluster?.networkXml ?? '').matchAll(/<host ip=['"]([^'"]+)['"]>\s*((?:<hostname>[^<]+<\/hostname>\s*)+)<\/host>/g)].map((m) => ({
        ip: m[1],
        names: [...(m[2] ?? '').matchAll(/<hostname>([^<]+)<\/hostname>/g)].map((n) => n[1]),
      }));
    };
    const expected = (j: Job) => j.vms.map((v) => ({ ip: v.ip, names: [v.name, `${v.name}.${j.id}.brine`] }));
    expect(await dnsHosts('site-a')).to.have.deep.members(expected(job));

    const mig = await cli('migrate', job.id, '--to', 'site-b', '--json');
    expect(mig.code, mig.stderr).to.equal(0);
    const moved = await waitFor('the job to run at site-b', async () => {
      const j = await show(job.id);
      return j.state === 'RUNNING' && j.site === 'site-b' ? j : undefined;
    }, 60_000);
    for (const vm of moved.vms) {
      // built at site-b from the spec (site-a's seeds are gone with its cluster)
      const iso = seedOf('site-b', job.id, vm.name);
      expect(isoFile(iso, 'user-data').toString()).to.equal(SCRIPT);
      expect((parse(isoFile(iso, 'meta-data').toString()) as Record<string, string>)['local-hostname']).to.equal(vm.name);
      await waitFor(`site-a's seed of ${vm.name} to go`, () => !existsSync(seedOf('site-a', job.id, vm.name)));
    }
    expect(moved.vms.map((v) => v.ip)).not.to.include.members(job.vms.map((v) => v.ip));
    expect(await dnsHosts('site-b')).to.have.deep.members(expected(moved));

    // the user-data survives in the coordinator's state: a suspend and resume rebuilds the seed again
    expect((await cli('suspend', job.id, '--json')).code).to.equal(0);
    expect(existsSync(seedOf('site-b', job.id, 'ud-0'))).to.equal(false);
    await grid.kill('coordinator', 'SIGTERM');
    await grid.startCoordinator({ heartbeatTimeout: '10s', extra: 'limits: { userDataMaxKiB: 16 }\n' });
    await waitFor('site-b back', async () => (await cli('sites', '--json')).json<Array<{ name: string; state: string }>>().some((s) => s.name === 'site-b' && s.state === 'UP'), 30_000);
    const res = await cli('resume', job.id, '--json');
    expect(res.code, res.stderr).to.equal(0);
    await waitFor('resumed', async () => (await show(job.id)).state === 'RUNNING', 60_000);
    expect(isoFile(seedOf('site-b', job.id, 'ud-0'), 'user-data').toString()).to.equal(SCRIPT);
  });

  it('refuses bad input with exit 2 naming the flag, and writes nothing', async () => {
    const base = ['submit', '--name', 'bad', '--vms', '1', '--cpus', '1', '--memory', '128', '--image', 'tiny'];
    writeFileSync(join(files, 'big'), Buffer.alloc(16 * 1024 + 1, 0x61)); // over this coordinator's 16 KiB
    writeFileSync(join(files, 'huge'), Buffer.alloc(1024 * 1024 + 1, 0x61)); // over what any coordinator accepts
    const cases: Array<{ args: string[]; says: RegExp }> = [
      { args: ['--user-data', join(files, 'missing.sh')], says: /--user-data: cannot read ".*missing\.sh": no such file/ },
      { args: ['--user-data', files], says: /--user-data: cannot read .*: is a directory/ },
      { args: ['--user-data', join(files, 'big')], says: /--user-data: is 16385 bytes; at most 16384 bytes \(16 KiB\)/ },
      { args: ['--user-data', join(files, 'huge')], says: /--user-data: is 1048577 bytes; at most 1048576 bytes/ },
      { args: ['--meta', 'local-hostname=x'], says: /--meta\.local-hostname: is set by brine/ },
      { args: ['--meta', 'novalue'], says: /--meta: expected KEY=VALUE/ },
      { args: ['--meta', 'Bad Key=1'], says: /--meta: key "Bad Key" must be/ },
    ];
    for (const c of cases) {
      const r = await cli(...base, ...c.args);
      expect(r.code, `${c.args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr).to.match(c.says);
    }
    // a missing file is refused before anything is sent: exit 2, not 5, with no coordinator at all
    const offline = await runCli(['--coordinator', '127.0.0.1:1', ...base, '--user-data', join(files, 'missing.sh')]);
    expect(offline.code, offline.stderr).to.equal(2);
    expect(await jobs()).to.deep.equal([]);
    expect(existsSync(join(grid.siteDataDir('site-a'), 'seeds'))).to.equal(false);
  });

  it('the coordinator validates what the CLI would have refused (a client that skips the checks)', async () => {
    const client = new JobService(grid.coordinator, clientCredentials(transportOf(ADMIN_FILES), { roles: ['coordinator'] }), { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS });
    const submit = (extra: { userData?: Buffer; meta?: Record<string, string> }) =>
      new Promise<grpc.ServiceError>((resolve, reject) =>
        client.SubmitJob({ name: 'raw', vms: 1, cpus: 1, memoryMiB: 128, image: 'tiny', ...extra }, (err) => (err ? resolve(err) : reject(new Error('accepted')))),
      );
    try {
      const cases: Array<[{ userData?: Buffer; meta?: Record<string, string> }, RegExp]> = [
        [{ userData: Buffer.alloc(16 * 1024 + 1) }, /^userData: is 16385 bytes; at most 16384/],
        [{ meta: { 'instance-id': 'x' } }, /^meta\.instance-id: is set by brine/],
        [{ meta: { k: 'a\nb' } }, /^meta\.k: must not contain control characters/],
        [{ meta: { '-x': '1' } }, /^meta: key "-x" must be/],
        [{ meta: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }, /^meta: at most 32 keys, got 33/],
      ];
      for (const [extra, says] of cases) {
        const err = await submit(extra);
        expect(err.code, err.details).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(err.details).to.match(says);
      }
    } finally {
      client.close();
    }
    expect(await jobs()).to.deep.equal([]);
  });
});
