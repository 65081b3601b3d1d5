// The built `brine` CLI as a real process: its contract (exit codes, one JSON document, errors on
// stderr naming the flag or the address), checked without a real coordinator: against nothing,
// against a socket that records whether anything was sent, and against an in-process fake
// JobService that serves canned sites/jobs/events.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parse as parseYaml } from 'yaml';
import { InvalidArgumentError, NotAllowedError, NotFoundError, toGrpcError } from '../../src/shared/errors.js';
import { JobService, type BrineEvent, type Job, type JobState, type Lease, type Site } from '../../src/shared/proto.js';
import type { JobServiceHandlers } from '../../src/gen/brine/v1/JobService.js';
import type { SubmitJobRequest__Output } from '../../src/gen/brine/v1/SubmitJobRequest.js';
import { CLI_REPO_ROOT, runCli, spawnCli, type CliResult, type RunningCli } from '../helpers/cli.js';

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

async function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      res(true);
    });
    sock.once('error', () => res(false));
  });
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface ErrorDoc {
  error: { code: string; message: string; field?: string };
  job?: Job;
}

/** A socket that counts connections: proves that bad input sends nothing. */
class Tripwire {
  connections = 0;
  private readonly server: NetServer = createServer((sock) => {
    this.connections++;
    sock.destroy();
  });
  address = '';
  async start(): Promise<void> {
    await new Promise<void>((res) => this.server.listen(0, '127.0.0.1', () => res()));
    const addr = this.server.address();
    this.address = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }
  async stop(): Promise<void> {
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

const T0 = '2025-01-01T00:00:00.000Z';

function makeJob(over: Partial<Job> & { id: string; name: string }): Job {
  return {
    owner: 'ann',
    state: 'PENDING',
    site: '',
    subnet: '',
    gateway: '',
    vms: [],
    checkpointEvery: '30m',
    lastSnapshot: '',
    createdAt: new Date(Date.now() - 5 * 60_000).toISOString(),
    history: [{ at: T0, state: 'PENDING', reason: 'submitted' }],
    vmCount: 2,
    cpus: 1,
    memoryMiB: 256,
    image: 'tiny',
    pinnedSite: '',
    ...over,
  };
}

const SITES: Site[] = [
  {
    name: 'site-a',
    state: 'UP',
    nodes: [
      { name: 'a1', state: 'UP', cpus: 8, memoryMiB: 4096, freeCpus: 6, freeMemoryMiB: 3584, uri: 'test:///default' },
      { name: 'a2', state: 'RECLAIMED', cpus: 8, memoryMiB: 4096, freeCpus: 0, freeMemoryMiB: 0, uri: 'test:///default' },
    ],
    subnetPool: '10.150.0.0/22',
    macRange: '02:b1:0a:00:00:00/32',
    advertise: '127.0.0.1:7801',
    images: ['tiny'],
    lastHeartbeat: T0,
  },
  {
    name: 'site-b',
    state: 'DOWN',
    nodes: [],
    subnetPool: '10.151.0.0/22',
    macRange: '02:b1:0b:00:00:00/32',
    advertise: '127.0.0.1:7802',
    images: ['tiny'],
    lastHeartbeat: T0,
  },
];

/**
 * An in-process JobService with scripted behaviour, chosen by the submitted job's name:
 * `ok` runs after DEPLOYING, `doomed` FAILS, `stuck` stays PENDING, `bad-mem` is refused.
 */
class FakeCoordinator {
  readonly server = new grpc.Server();
  readonly submitted: SubmitJobRequest__Output[] = [];
  readonly jobs = new Map<string, Job>();
  readonly watchers = new Set<grpc.ServerWritableStream<{ job: string }, BrineEvent>>();
  /** When true, Watch fails at once: the CLI must fall back to polling. */
  watchBroken = false;
  /** When false, state changes are not announced on the stream (only GetJob sees them). */
  announce = true;
  address = '';
  private seq = 0;

  async start(): Promise<void> {
    const handlers: JobServiceHandlers = {
      ListSites: (_call, cb) => cb(null, { sites: SITES }),
      ListJobs: (_call, cb) => cb(null, { jobs: [...this.jobs.values()] }),
      GetJob: (call, cb) => {
        const job = this.jobs.get(call.request.id);
        if (!job) return cb(toGrpcError(new NotFoundError('job', call.request.id)));
        cb(null, job);
      },
      CancelJob: (call, cb) => {
        const job = this.jobs.get(call.request.id);
        if (!job) return cb(toGrpcError(new NotFoundError('job', call.request.id)));
        if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.state)) {
          return cb(toGrpcError(new NotAllowedError(`job ${job.id} is already ${job.state}`)));
        }
        cb(null, this.move(job.id, 'CANCELLED', 'cancelled by ann'));
      },
      ListAddresses: (call, cb) => {
        const leases: Lease[] = [
          { site: 'site-a', job: 'j-7', vm: '', mac: '', ip: '10.150.0.1', subnet: '10.150.0.0/29', state: 'active' },
          { site: 'site-a', job: 'j-7', vm: 'sim-0', mac: '02:b1:0a:00:00:01', ip: '10.150.0.2', subnet: '10.150.0.0/29', state: 'active' },
        ];
        cb(null, { leases: leases.filter((l) => !call.request.site || l.site === call.request.site) });
      },
      SubmitJob: (call, cb) => {
        const req = call.request;
        this.submitted.push(req);
        if (req.name === 'bad-mem') return cb(toGrpcError(new InvalidArgumentError('memoryMiB', `${req.memoryMiB} is more than any node has`)));
        const id = `j-${++this.seq}`;
        const job = makeJob({ id, name: req.name, owner: req.owner, vmCount: req.vms, cpus: req.cpus, memoryMiB: req.memoryMiB, image: req.image });
        this.jobs.set(id, job);
        const later = (ms: number, state: JobState, reason: string, extra: Partial<Job> = {}): void => {
          setTimeout(() => this.move(id, state, reason, extra), ms);
        };
        if (req.name === 'ok' || req.name === 'quiet') {
          later(200, 'DEPLOYING', 'placed on site-a', { site: 'site-a' });
          later(400, 'RUNNING', 'all VMs running', { subnet: '10.150.0.0/29', gateway: '10.150.0.1' });
        } else if (req.name === 'doomed') {
          later(200, 'FAILED', 'image tiny failed to boot on a1');
        } else if (req.name === 'stuck') {
          later(100, 'PENDING', 'no site has room: site-a has room for 1 of 2 VMs');
        }
        cb(null, job);
      },
      Watch: (call) => {
        if (this.watchBroken) {
          call.destroy(Object.assign(new Error('watch is broken'), { code: grpc.status.UNAVAILABLE, details: 'watch is broken' }));
          return;
        }
        // headers now: tells the client its subscription is live
        call.sendMetadata(new grpc.Metadata());
        this.watchers.add(call);
        call.on('cancelled', () => this.watchers.delete(call));
        call.on('close', () => this.watchers.delete(call));
      },
    };
    this.server.addService(JobService.service, handlers);
    const port = await new Promise<number>((res, rej) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
    );
    this.address = `127.0.0.1:${port}`;
  }

  emit(event: Partial<BrineEvent>): void {
    const full: BrineEvent = { at: new Date().toISOString(), type: 'job.state', job: '', site: '', state: 'JOB_STATE_UNSPECIFIED', reason: '', vm: '', vmState: '', ...event };
    for (const w of this.watchers) if (!w.request.job || w.request.job === full.job) w.write(full);
  }

  move(id: string, state: JobState, reason: string, extra: Partial<Job> = {}): Job {
    const old = this.jobs.get(id);
    if (!old) throw new Error(`no job ${id}`);
    const at = new Date().toISOString();
    const job: Job = { ...old, ...extra, state, history: [...old.history, { at, state, reason }] };
    this.jobs.set(id, job);
    if (this.announce) this.emit({ at, type: 'job.state', job: id, site: job.site, state, reason });
    return job;
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

describe('brine CLI (built, as a process)', function () {
  this.timeout(60_000);

  describe('usage errors: exit 2 naming what is wrong', () => {
    it('an unknown flag', async () => {
      const r = await runCli(['sites', '--bogus']);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/^brine: .*--bogus/);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stdout).to.equal('');
    });

    it('an unknown command, a missing argument, too many arguments, no command', async () => {
      const [unknown, missing, excess, none] = await Promise.all([
        runCli(['frobnicate']),
        runCli(['show']),
        runCli(['show', 'j1', 'j2']),
        runCli([]),
      ]);
      expect(unknown.code).to.equal(2);
      expect(unknown.stderr).to.match(/unknown command 'frobnicate'/);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.match(/missing required argument 'job'/);
      expect(excess.code).to.equal(2);
      expect(none.code).to.equal(2);
    });

    it('a missing required submit flag', async () => {
      const r = await runCli(['submit', '--name', 'x', '--vms', '1', '--cpus', '1', '--image', 'tiny']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/--memory/);
    });

    it('--help and --version exit 0', async () => {
      const [help, sub, version] = await Promise.all([runCli(['--help']), runCli(['submit', '--help']), runCli(['--version'])]);
      expect(help.code).to.equal(0);
      expect(help.stdout).to.match(/Usage: brine/);
      expect(sub.code).to.equal(0);
      expect(sub.stdout).to.match(/--checkpoint-every/);
      expect(version.code).to.equal(0);
      expect(version.stdout.trim()).to.match(/^\d+\.\d+\.\d+/);
    });

    it('under --json, a usage error is one JSON document on stdout', async () => {
      const r = await runCli(['--json', 'ls', '--bogus']);
      expect(r.code).to.equal(2);
      const doc = r.json<ErrorDoc>();
      expect(doc.error.code).to.equal('INVALID_ARGUMENT');
      expect(doc.error.field).to.equal('--bogus');
    });

    it('a malformed --coordinator or BRINE_COORDINATOR', async () => {
      const [flag, env] = await Promise.all([
        runCli(['--coordinator', 'nocolon', 'ls']),
        runCli(['ls'], { env: { BRINE_COORDINATOR: 'host:99999' } }),
      ]);
      expect(flag.code).to.equal(2);
      expect(flag.stderr).to.match(/--coordinator/);
      expect(env.code).to.equal(2);
      expect(env.stderr).to.match(/BRINE_COORDINATOR/);
    });
  });

  describe('submit validates locally and sends nothing on bad input', () => {
    const tripwire = new Tripwire();
    before(() => tripwire.start());
    after(() => tripwire.stop());

    const base: Record<string, string> = { '--name': 'ok', '--vms': '2', '--cpus': '1', '--memory': '512', '--image': 'tiny' };
    const cases: Array<[string, string]> = [
      ['--vms', '0'],
      ['--vms', '1.5'],
      ['--cpus', '-1'],
      ['--cpus', 'two'],
      ['--memory', 'abc'],
      ['--memory', '0'],
      ['--name', 'Bad_Name'],
      ['--image', 'Not An Image'],
      ['--site', 'SITE!'],
      ['--checkpoint-every', 'soon'],
      ['--timeout', '5x'],
    ];
    for (const [flag, value] of cases) {
      it(`${flag} ${value} → exit 2 naming ${flag}`, async () => {
        const args = { ...base, [flag]: value };
        const r = await runCli(['--coordinator', tripwire.address, '--json', 'submit', ...Object.entries(args).flat(), '--wait']);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.include(flag);
        expect(r.json<ErrorDoc>().error).to.include({ code: 'INVALID_ARGUMENT', field: flag });
        expect(tripwire.connections, 'connections to the coordinator').to.equal(0);
      });
    }

    it('--timeout without --wait is refused', async () => {
      const r = await runCli(['--coordinator', tripwire.address, 'submit', ...Object.entries(base).flat(), '--timeout', '1m']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/--timeout/);
      expect(tripwire.connections).to.equal(0);
    });
  });

  describe('coordinator unreachable: exit 5 naming the address', () => {
    let address = '';
    before(async () => {
      address = `127.0.0.1:${await freePort()}`;
    });

    it('every command fails fast with exit 5', async () => {
      const commands = [
        ['sites'],
        ['ls'],
        ['show', 'j1'],
        ['cancel', 'j1'],
        ['addresses'],
        ['watch'],
        ['submit', '--name', 'ok', '--vms', '1', '--cpus', '1', '--memory', '2GiB', '--image', 'tiny'],
      ];
      const started = Date.now();
      const results = await Promise.all(commands.map((c) => runCli(['--coordinator', address, ...c])));
      results.forEach((r, i) => {
        const what = commands[i]?.join(' ');
        expect(r.code, `${what}: ${r.stderr}`).to.equal(5);
        expect(r.stderr, what).to.match(/^brine: /);
        expect(r.stderr, what).to.include(address);
        expect(r.stdout, what).to.equal('');
      });
      expect(Date.now() - started, 'fails fast').to.be.below(10_000);
    });

    it('--json: exactly one parseable JSON error document on stdout', async () => {
      const r = await runCli(['--coordinator', address, '--json', 'ls']);
      expect(r.code).to.equal(5);
      const doc = r.json<ErrorDoc>();
      expect(doc.error.code).to.equal('UNAVAILABLE');
      expect(doc.error.message).to.include(address);
      expect(r.stderr).to.include(address);
    });

    it('watch --json: the error is one JSON line', async () => {
      const r = await runCli(['--coordinator', address, '--json', 'watch']);
      expect(r.code).to.equal(5);
      expect(r.jsonLines<ErrorDoc>()).to.have.length(1);
    });

    it('BRINE_COORDINATOR is used without the flag, and the flag wins over it', async () => {
      const other = `127.0.0.1:${await freePort()}`;
      const [fromEnv, fromFlag] = await Promise.all([
        runCli(['ls'], { env: { BRINE_COORDINATOR: address } }),
        runCli(['--coordinator', other, 'ls'], { env: { BRINE_COORDINATOR: address } }),
      ]);
      expect(fromEnv.code).to.equal(5);
      expect(fromEnv.stderr).to.include(address);
      expect(fromFlag.code).to.equal(5);
      expect(fromFlag.stderr).to.include(other);
    });

    it("defaults to config/coordinator.yaml's listen, found from the package, not the cwd", async function () {
      const listen = (parseYaml(readFileSync(join(CLI_REPO_ROOT, 'config', 'coordinator.yaml'), 'utf8')) as { listen: string }).listen;
      const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
      if (await isListening(host, port)) this.skip(); // a developer's coordinator is running there
      const r = await runCli(['ls'], { cwd: tmpdir() });
      expect(r.code, r.stderr).to.equal(5);
      expect(r.stderr).to.include(listen);
    });
  });

  describe('against a fake coordinator', () => {
    let fake: FakeCoordinator;
    const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
      runCli(['--coordinator', fake.address, ...args], { env });

    /** Waits for `watch` to be subscribed; fails at once (with its stderr) if it exited. */
    const subscribed = (w: RunningCli): Promise<true> =>
      until('the watch to subscribe', () => {
        if (w.child.exitCode !== null) throw new Error(`watch exited ${w.child.exitCode}: ${w.stderr}`);
        return fake.watchers.size === 1;
      });

    beforeEach(async () => {
      fake = new FakeCoordinator();
      await fake.start();
    });
    afterEach(() => fake.stop());

    it('sites: a borderless aligned table, and the Site messages under --json', async () => {
      const [human, json] = await Promise.all([cli(['sites']), cli(['sites', '--json'])]);
      expect(human.code, human.stderr).to.equal(0);
      const lines = human.stdout.trimEnd().split('\n');
      expect(lines[0]).to.match(/^NAME\s+STATE\s+NODES\S*\s+CPUS\S*\s+MEMORY\S*\s+POOL\s+MACS$/);
      expect(lines[1]).to.match(/^site-a\s+UP\s+1\/2\s+6\/16\s+3584\/8192\s+10\.150\.0\.0\/22\s+02:b1:0a/);
      expect(lines[2]).to.match(/^site-b\s+DOWN\s+0\/0\s+0\/0/);
      // aligned: every row's POOL column starts at the same offset
      const at = lines.map((l) => l.search(/10\.15|POOL/));
      expect(new Set(at).size).to.equal(1);
      expect(human.stdout).not.to.match(/[│┌─]/);
      expect(json.json<Site[]>()).to.deep.equal(SITES);
    });

    it('submit: converts memory, defaults the owner to $USER, prints the id and state', async () => {
      const r = await cli(['submit', '--name', 'later', '--vms', '2', '--cpus', '1', '--memory', '2GiB', '--image', 'tiny', '--checkpoint-every', '1h30m'], { USER: 'zoe' });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout.trim()).to.equal('submitted job j-1 (PENDING)');
      expect(fake.submitted).to.have.length(1);
      expect(fake.submitted[0]).to.deep.include({ name: 'later', vms: 2, cpus: 1, memoryMiB: 2048, image: 'tiny', owner: 'zoe', site: '', checkpointEvery: '90m' });
    });

    it('submit: a coordinator-side INVALID_ARGUMENT names the flag, exit 2', async () => {
      const r = await cli(['--json', 'submit', '--name', 'bad-mem', '--vms', '1', '--cpus', '1', '--memory', '999999', '--image', 'tiny']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/brine: --memory: 999999 is more than any node has/);
      expect(r.json<ErrorDoc>().error).to.deep.equal({ code: 'INVALID_ARGUMENT', message: '--memory: 999999 is more than any node has', field: '--memory' });
    });

    it('submit --wait: waits for RUNNING via the stream and prints the job', async () => {
      const r = await cli(['--json', 'submit', '--name', 'ok', '--vms', '2', '--cpus', '1', '--memory', '256', '--image', 'tiny', '--wait']);
      expect(r.code, r.stderr).to.equal(0);
      const job = r.json<Job>();
      expect(job.state).to.equal('RUNNING');
      expect(job.history.map((h) => h.state)).to.deep.equal(['PENDING', 'DEPLOYING', 'RUNNING']);
    });

    it('submit --wait: human output follows the states', async () => {
      const r = await cli(['submit', '--name', 'ok', '--vms', '2', '--cpus', '1', '--memory', '256', '--image', 'tiny', '--wait']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/^submitted job j-1 \(PENDING\)\n/);
      expect(r.stdout.trimEnd().split('\n').at(-1)).to.equal('job j-1 is RUNNING on site-a (all VMs running)');
    });

    it('submit --wait: falls back to polling when the stream is broken', async () => {
      fake.watchBroken = true;
      const r = await cli(['--json', 'submit', '--name', 'ok', '--vms', '1', '--cpus', '1', '--memory', '256', '--image', 'tiny', '--wait', '--timeout', '20s']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.json<Job>().state).to.equal('RUNNING');
    });

    it('submit --wait: a FAILED job exits 1 with the last reason', async () => {
      const r = await cli(['--json', 'submit', '--name', 'doomed', '--vms', '1', '--cpus', '1', '--memory', '256', '--image', 'tiny', '--wait']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/brine: job j-1 FAILED: image tiny failed to boot on a1/);
      const doc = r.json<ErrorDoc>();
      expect(doc.error.code).to.equal('JOB_FAILED');
      expect(doc.job?.state).to.equal('FAILED');
    });

    it('submit --wait --timeout: exit 1 saying what it is still waiting for', async () => {
      const r = await cli(['submit', '--name', 'stuck', '--vms', '2', '--cpus', '1', '--memory', '256', '--image', 'tiny', '--wait', '--timeout', '1s']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/timed out after 1s waiting for job j-1 to run: it is still PENDING \(no site has room: site-a has room for 1 of 2 VMs\)/);
    });

    it('ls, show, addresses: tables; --json the messages', async () => {
      await cli(['submit', '--name', 'ok', '--vms', '2', '--cpus', '1', '--memory', '256', '--image', 'tiny', '--wait']);
      fake.move('j-1', 'RUNNING', 'ready', {
        vms: [
          { name: 'ok-0', node: 'a1', mac: '02:b1:0a:00:00:01', ip: '10.150.0.2', state: 'RUNNING', domain: 'brine-j-1-ok-0', console: '' },
          { name: 'ok-1', node: 'a2', mac: '02:b1:0a:00:00:02', ip: '10.150.0.3', state: 'RUNNING', domain: 'brine-j-1-ok-1', console: 'pty:/dev/pts/3' },
        ],
      });
      const [ls, lsJson, show, showJson, addrs, addrsJson] = await Promise.all([
        cli(['ls']),
        cli(['ls', '--json']),
        cli(['show', 'j-1']),
        cli(['show', 'j-1', '--json']),
        cli(['addresses', '--site', 'site-a']),
        cli(['addresses', '--json']),
      ]);
      expect(ls.stdout.split('\n')[0]).to.match(/^ID\s+NAME\s+OWNER\s+STATE\s+SITE\s+VMS\s+SUBNET\s+AGE$/);
      expect(ls.stdout.split("\n")[1], ls.stdout).to.match(/^j-1\s+ok\s+\S+\s+RUNNING\s+site-a\s+2\s+10\.150\.0\.0\/29\s+\d+[smhd]$/);
      expect(lsJson.json<Job[]>().map((j) => j.id)).to.deep.equal(['j-1']);
      expect(show.code, show.stderr).to.equal(0);
      expect(show.stdout).to.match(/^id:\s+j-1$/m);
      expect(show.stdout).to.match(/^gateway:\s+10\.150\.0\.1$/m);
      expect(show.stdout).to.match(/^last snapshot:\s+-$/m);
      expect(show.stdout).to.match(/^NAME\s+NODE\s+MAC\s+IP\s+STATE\s+CONSOLE$/m);
      expect(show.stdout).to.match(/^ok-0\s+a1\s+02:b1:0a:00:00:01\s+10\.150\.0\.2\s+RUNNING\s+-$/m);
      expect(show.stdout).to.match(/^AT\s+STATE\s+REASON$/m);
      expect(show.stdout).to.match(/DEPLOYING\s+placed on site-a$/m);
      expect(showJson.json<Job>()).to.deep.equal(fake.jobs.get('j-1'));
      expect(addrs.stdout.split('\n')[0]).to.match(/^SITE\s+JOB\s+VM\s+MAC\s+IP\s+SUBNET\s+STATE$/);
      expect(addrs.stdout.split('\n')[1]).to.match(/^site-a\s+j-7\s+-\s+-\s+10\.150\.0\.1\s/);
      expect(addrsJson.json<Lease[]>()).to.have.length(2);
    });

    it('not found → exit 3; wrong state → exit 4; both with the message', async () => {
      await cli(['submit', '--name', 'later', '--vms', '1', '--cpus', '1', '--memory', '256', '--image', 'tiny']);
      const [missing, missingJson, cancel] = await Promise.all([cli(['show', 'jnope']), cli(['--json', 'cancel', 'jnope']), cli(['cancel', 'j-1'])]);
      expect(missing.code).to.equal(3);
      expect(missing.stderr.trim()).to.equal('brine: job jnope not found');
      expect(missingJson.code).to.equal(3);
      expect(missingJson.json<ErrorDoc>().error.code).to.equal('NOT_FOUND');
      expect(cancel.code, cancel.stderr).to.equal(0);
      expect(cancel.stdout.trim()).to.equal('cancelled job j-1');
      const again = await cli(['cancel', 'j-1']);
      expect(again.code).to.equal(4);
      expect(again.stderr).to.match(/already CANCELLED/);
    });

    it('watch --json: one event per line; Ctrl-C ends it with exit 0', async () => {
      const w = spawnCli(['--coordinator', fake.address, '--json', 'watch']);
      await subscribed(w);
      fake.emit({ type: 'site.down', site: 'site-b', reason: 'no heartbeat for 10s' });
      fake.emit({ type: 'job.state', job: 'j-9', site: 'site-a', state: 'RUNNING', reason: 'all VMs running' });
      await until('two lines', () => w.stdout.split('\n').length > 2);
      w.child.kill('SIGINT');
      const r = await w.result;
      expect(r.code, r.stderr).to.equal(0);
      const events = r.jsonLines<BrineEvent>();
      expect(events.map((e) => [e.type, e.job, e.site, e.state])).to.deep.equal([
        ['site.down', '', 'site-b', 'JOB_STATE_UNSPECIFIED'],
        ['job.state', 'j-9', 'site-a', 'RUNNING'],
      ]);
    });

    it('watch JOB: human lines for that job only', async () => {
      const w = spawnCli(['--coordinator', fake.address, 'watch', 'j-9']);
      await subscribed(w);
      fake.emit({ type: 'job.state', job: 'j-8', state: 'RUNNING' });
      fake.emit({ type: 'vm.state', job: 'j-9', vm: 'sim-0', state: 'RUNNING', reason: 'vm sim-0 CRASHED' });
      await until('a line', () => w.stdout.includes('\n'));
      w.child.kill('SIGINT');
      const r = await w.result;
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^\d{4}-\d\d-\d\dT\S+ vm\.state\s+j-9\/sim-0\s+RUNNING\s+vm sim-0 CRASHED\n$/);
    });

    it('watch: the coordinator going away → exit 5 naming it', async () => {
      const w = spawnCli(['--coordinator', fake.address, 'watch']);
      await subscribed(w);
      fake.stop();
      const r = await w.result;
      expect(r.code, r.stderr).to.equal(5);
      expect(r.stderr).to.include(fake.address);
    });
  });
});
