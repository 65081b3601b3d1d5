// The `brine` CLI's contract against a real grid: a real brine-coordinator and real brine-agent
// processes (libvirt test driver) on loopback, started by the TestGrid harness, and the built CLI
// run as a process. What grid.test.ts already covers (submit --wait --json, cancel freeing
// everything, pending and placement, bad input in general, restarts) is not repeated here; this
// file checks what the CLI prints: tables, sentences, JSON documents and streams, exit codes.
import { expect } from 'chai';
import { userInfo } from 'node:os';
import { runCli, spawnCli, type CliOptions, type CliResult, type RunningCli } from '../helpers/cli.js';
import { TestGrid, waitFor } from '../helpers/grid.js';
import { cliEnv, credentials } from '../helpers/pki.js';
import type { BrineEvent, Job, Lease, Site } from '../../src/shared/proto.js';

interface ErrorDoc {
  error: { code: string; message: string; field?: string };
  job?: Job;
}

/** For building regexes from real values (subnets, MACs, reasons with parentheses). */
function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

let seq = 0;
/** A job name no other test uses. */
function fresh(base: string): string {
  return `${base}-${++seq}`;
}

/**
 * Fits nowhere, ever: pinned to site-a, whose two nodes have 8 cpus each, it asks for three VMs
 * of 8 cpus. It stays PENDING without holding anything.
 */
const STUCK = ['--vms', '3', '--cpus', '8', '--memory', '64', '--image', 'tiny', '--site', 'site-a'];
/** One small VM on site-a: placed and RUNNING within a second. */
const SMALL = ['--vms', '1', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-a'];

/**
 * One grid per describe block, plus the CLI processes a test spawned: all killed afterwards, also
 * when a test fails (then the grid's logs are printed).
 */
function useGrid(start: (grid: TestGrid) => Promise<void>, each: 'all' | 'each') {
  let current: TestGrid | undefined;
  const ctx = {
    get grid(): TestGrid {
      if (!current) throw new Error('no grid is running');
      return current;
    },
    running: [] as RunningCli[],
    cli: (args: string[], opts: CliOptions = {}): Promise<CliResult> => runCli(['--coordinator', ctx.grid.coordinator, ...args], opts),
    spawn: (args: string[], opts: CliOptions = {}): RunningCli => {
      const w = spawnCli(['--coordinator', ctx.grid.coordinator, ...args], { timeoutMs: 60_000, ...opts });
      ctx.running.push(w);
      return w;
    },
  };
  let failed = false;
  const up = async (): Promise<void> => {
    failed = false;
    current = new TestGrid();
    try {
      await start(current);
    } catch (err) {
      failed = true; // show the logs of what did start
      throw err;
    }
  };
  const down = async (): Promise<void> => {
    const grid = current;
    current = undefined;
    await grid?.close(failed);
  };
  // registered before the grid's afterEach: mocha runs afterEach hooks in registration order
  afterEach(async function () {
    const thisFailed = this.currentTest?.state === 'failed';
    if (thisFailed) failed = true;
    const left = ctx.running.splice(0);
    for (const w of left) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(left.map((w) => w.result.catch(() => undefined)));
    if (thisFailed) {
      for (const w of left) process.stderr.write(`\n----- brine ${w.child.spawnargs.slice(2).join(' ')} -----\n${w.stdout}${w.stderr}\n`);
    }
  });
  if (each === 'all') {
    before(up);
    after(down);
  } else {
    beforeEach(up);
    afterEach(down);
  }
  return ctx;
}

/** Waits until `pred` holds of the growing output of a running CLI; fails at once if it exited. */
async function outputOf(w: RunningCli, what: string, pred: (stdout: string) => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pred(w.stdout)) return;
    if (w.child.exitCode !== null || w.child.signalCode !== null) {
      // the last output may still be in the pipe
      const r = await w.result;
      if (pred(r.stdout)) return;
      throw new Error(`brine exited (${r.code ?? r.signal}) before ${what}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- stdout ---\n${w.stdout}\n--- stderr ---\n${w.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until a whole-grid `watch` is subscribed: the CLI says nothing when it is, so submit
 * never-placed probe jobs until one of them shows up on its output. Returns the probes' ids
 * (their events are on the output too; cancel them when done).
 */
async function subscribed(w: RunningCli, cli: (args: string[]) => Promise<CliResult>): Promise<string[]> {
  const probes: string[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await cli(['--json', 'submit', '--name', fresh('probe'), ...STUCK]);
    expect(r.code, r.stderr).to.equal(0);
    const id = r.json<Job>().id;
    probes.push(id);
    try {
      await outputOf(w, `probe ${id} on the watch`, (out) => out.includes(id), 2_000);
      return probes;
    } catch (err) {
      if (w.child.exitCode !== null) throw err;
    }
  }
  throw new Error(`the watch never showed a probe job\n--- stdout ---\n${w.stdout}\n--- stderr ---\n${w.stderr}`);
}

describe('brine CLI against a real grid', function () {
  this.timeout(90_000);

  describe('reading and submitting (one grid: site-a with two 8-cpu nodes, site-b with one small node)', () => {
    const g = useGrid(async (grid) => {
      await grid.startCoordinator();
      await grid.startAgent({ name: 'site-a' });
      await grid.startAgent({ name: 'site-b', nodes: [{ name: 'b1', cpus: 4, memoryMiB: 2048 }] });
    }, 'all');
    const cli = (...args: string[]): Promise<CliResult> => g.cli(args);
    const jobOf = async (id: string): Promise<Job> => {
      const r = await cli('show', id, '--json');
      expect(r.code, r.stderr).to.equal(0);
      return r.json<Job>();
    };
    const cancel = async (...ids: string[]): Promise<void> => {
      const results = await Promise.all(ids.map((id) => cli('cancel', id)));
      results.forEach((r, i) => expect(r.code, `cancel ${ids[i]}: ${r.stderr}`).to.equal(0));
    };

    // first, while nothing runs: the free capacity is all of it
    it('sites: a borderless aligned table, and the Site messages under --json', async () => {
      const [human, json] = await Promise.all([cli('sites'), cli('sites', '--json')]);
      expect(human.code, human.stderr).to.equal(0);
      expect(human.stderr).to.equal('');
      const lines = human.stdout.trimEnd().split('\n');
      expect(lines).to.have.length(3);
      expect(lines[0]).to.match(/^NAME\s+STATE\s+NODES\S*\s+CPUS\S*\s+MEMORY\S*\s+POOL\s+MACS$/);
      expect(lines[1]).to.match(/^site-a\s+UP\s+2\/2\s+16\/16\s+32768\/32768\s+10\.150\.0\.0\/22\s+02:b1:10:00:00:00\/32$/);
      expect(lines[2]).to.match(/^site-b\s+UP\s+1\/1\s+4\/4\s+2048\/2048\s+10\.151\.0\.0\/22\s+02:b1:11:00:00:00\/32$/);
      // aligned: every row's POOL and MACS columns start at the same offsets
      expect(new Set(lines.map((l) => l.search(/10\.15|POOL/))).size).to.equal(1);
      expect(new Set(lines.map((l) => l.search(/02:b1|MACS/))).size).to.equal(1);
      expect(human.stdout).not.to.match(/[│┌─|]/);

      expect(json.code, json.stderr).to.equal(0);
      const sites = json.json<Site[]>();
      expect(sites.map((s) => [s.name, s.state, s.subnetPool, s.macRange])).to.deep.equal([
        ['site-a', 'UP', '10.150.0.0/22', '02:b1:10:00:00:00/32'],
        ['site-b', 'UP', '10.151.0.0/22', '02:b1:11:00:00:00/32'],
      ]);
      const nodes = sites.map((s) => s.nodes.map(({ name, state, cpus, memoryMiB, freeCpus, freeMemoryMiB }) => ({ name, state, cpus, memoryMiB, freeCpus, freeMemoryMiB })));
      expect(nodes).to.deep.equal([
        [
          { name: 'a1', state: 'UP', cpus: 8, memoryMiB: 16384, freeCpus: 8, freeMemoryMiB: 16384 },
          { name: 'a2', state: 'UP', cpus: 8, memoryMiB: 16384, freeCpus: 8, freeMemoryMiB: 16384 },
        ],
        [{ name: 'b1', state: 'UP', cpus: 4, memoryMiB: 2048, freeCpus: 4, freeMemoryMiB: 2048 }],
      ]);
    });

    it('submit: prints the id and state; converts --memory units; the owner is the name in the certificate', async () => {
      // one after the other: two submits at once can make the coordinator place (and report) the
      // second as DEPLOYING before it has even announced it PENDING (a coordinator bug, reported)
      const zoe = await g.cli(['submit', '--name', fresh('units'), '--vms', '2', '--cpus', '1', '--memory', '1GiB', '--image', 'tiny', '--site', 'site-a', '--checkpoint-every', '1h30m'], { env: { USER: 'nobody', ...cliEnv(await credentials('user', 'zoe')) } });
      const nobody = await g.cli(['submit', '--name', fresh('owner'), ...STUCK], { env: { USER: undefined } });
      expect(zoe.code, zoe.stderr).to.equal(0);
      expect(zoe.stderr).to.equal('');
      const id = /^submitted job (\S+) \(PENDING\)\n$/.exec(zoe.stdout)?.[1];
      expect(id, zoe.stdout).to.be.a('string');
      const job = await jobOf(id as string);
      expect(job).to.deep.include({ id, owner: 'zoe', vmCount: 2, cpus: 1, memoryMiB: 1024, image: 'tiny', pinnedSite: 'site-a', checkpointEvery: '90m' });
      expect(job.history[0]?.reason).to.equal('submitted by zoe');

      // the tests' admin certificate names the OS account
      expect(nobody.code, nobody.stderr).to.equal(0);
      const other = /^submitted job (\S+) \(PENDING\)\n$/.exec(nobody.stdout)?.[1] as string;
      expect((await jobOf(other)).owner).to.equal(userInfo().username);
      await cancel(id as string, other);
    });

    it('submit: an INVALID_ARGUMENT from the coordinator names the flag, exit 2, nothing queued', async () => {
      const [cpus, memory] = await Promise.all([
        cli('--json', 'submit', '--name', fresh('big-cpus'), '--vms', '1', '--cpus', '64', '--memory', '64', '--image', 'tiny'),
        cli('submit', '--name', fresh('big-mem'), '--vms', '1', '--cpus', '1', '--memory', '999999', '--image', 'tiny'),
      ]);
      expect(cpus.code, cpus.stderr).to.equal(2);
      expect(cpus.stderr).to.equal('brine: --cpus: 64 is more than any node has (largest: 8 cpus)\n');
      expect(cpus.json<ErrorDoc>()).to.deep.equal({
        error: { code: 'INVALID_ARGUMENT', message: '--cpus: 64 is more than any node has (largest: 8 cpus)', field: '--cpus' },
      });
      // the request's memoryMiB is the --memory flag to the user
      expect(memory.code, memory.stderr).to.equal(2);
      expect(memory.stderr).to.equal('brine: --memory: 999999 MiB is more than any node has (largest: 16384 MiB)\n');
      expect(memory.stdout).to.equal('');
      const names = (await cli('ls', '--json')).json<Job[]>().map((j) => j.name);
      expect(names.filter((n) => n.startsWith('big-'))).to.deep.equal([]);
    });

    it('submit --wait: human output follows the states and ends with the RUNNING line', async () => {
      const r = await cli('submit', '--name', fresh('waits'), '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--wait');
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      const id = /^submitted job (\S+) \(PENDING\)\n/.exec(r.stdout)?.[1] as string;
      expect(id, r.stdout).to.be.a('string');
      const job = await jobOf(id);
      expect(job.state).to.equal('RUNNING');
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).to.equal(`job ${id} is RUNNING on site-a (${job.history.at(-1)?.reason})`);
      for (const line of lines.slice(1, -1)) expect(line).to.match(new RegExp(`^job ${id} is (PENDING|DEPLOYING)\\b`));
      await cancel(id);
    });

    it('submit --wait: the job cancelled meanwhile → exit 1 with the reason (JSON: the job as it ended)', async () => {
      // A wait that ends FAILED is in its own block below (a site that dies under a placement);
      // a cancel takes the same path, and is easy to cause for real.
      const w = g.spawn(['submit', '--name', fresh('gone'), ...STUCK, '--wait']);
      await outputOf(w, 'the submitted line', (out) => /^submitted job \S+ \(PENDING\)\n/.test(out));
      const id = /^submitted job (\S+) /.exec(w.stdout)?.[1] as string;
      const c = await cli('cancel', id);
      expect(c.code, c.stderr).to.equal(0);
      expect(c.stdout).to.equal(`cancelled job ${id}\n`);
      const r = await w.result;
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.equal(`brine: job ${id} CANCELLED: cancelled by user\n`);

      const name = fresh('gone-json');
      const j = g.spawn(['--json', 'submit', '--name', name, ...STUCK, '--wait']);
      const jid = await waitFor('the job in ls', async () => (await cli('ls', '--json')).json<Job[]>().find((x) => x.name === name)?.id);
      await cancel(jid);
      const rj = await j.result;
      expect(rj.code, rj.stderr).to.equal(1);
      const doc = rj.json<ErrorDoc>();
      expect(doc.error).to.deep.equal({ code: 'JOB_CANCELLED', message: `job ${jid} CANCELLED: cancelled by user` });
      expect(doc.job?.id).to.equal(jid);
      expect(doc.job?.state).to.equal('CANCELLED');
    });

    it('submit --wait --timeout: exit 1 saying what it still waits for', async () => {
      const started = Date.now();
      const r = await cli('submit', '--name', fresh('stuck'), ...STUCK, '--wait', '--timeout', '2s');
      expect(r.code, r.stderr).to.equal(1);
      expect(Date.now() - started).to.be.below(15_000);
      const id = /^submitted job (\S+) \(PENDING\)\n/.exec(r.stdout)?.[1] as string;
      expect(id, r.stdout).to.be.a('string');
      const job = await jobOf(id);
      expect(job.state).to.equal('PENDING');
      const reason = job.history.at(-1)?.reason as string;
      expect(reason).to.match(/^no site has room: site-a has room for \d of 3 VMs/);
      expect(r.stderr).to.equal(`brine: timed out after 2s waiting for job ${id} to run: it is still PENDING (${reason})\n`);
      await cancel(id);
    });

    it('ls, show, addresses: tables with the real job, its MACs and IPs; --json the messages', async () => {
      const name = fresh('tables');
      const sub = await cli('--json', 'submit', '--name', name, '--vms', '2', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', 'site-a', '--wait');
      expect(sub.code, sub.stderr).to.equal(0);
      const id = sub.json<Job>().id;
      const [ls, lsJson, show, showJson, addrs, addrsJson, addrsB] = await Promise.all([
        cli('ls'),
        cli('ls', '--json'),
        cli('show', id),
        cli('show', id, '--json'),
        cli('addresses', '--site', 'site-a'),
        cli('addresses', '--json'),
        cli('addresses', '--site', 'site-b'),
      ]);
      for (const r of [ls, lsJson, show, showJson, addrs, addrsJson, addrsB]) expect(r.code, r.stderr).to.equal(0);
      const job = showJson.json<Job>();
      expect(job.state).to.equal('RUNNING');
      expect(job.vms).to.have.length(2);

      const lsLines = ls.stdout.trimEnd().split('\n');
      expect(lsLines[0]).to.match(/^ID\s+NAME\s+OWNER\s+STATE\s+SITE\s+VMS\s+SUBNET\s+AGE$/);
      const row = new RegExp(`^${id}\\s+${name}\\s+${esc(job.owner)}\\s+RUNNING\\s+site-a\\s+2\\s+${esc(job.subnet)}\\s+\\d+[smhd]$`);
      expect(lsLines.filter((l) => row.test(l)), ls.stdout).to.have.length(1);
      expect(lsJson.json<Job[]>().find((j) => j.id === id)).to.deep.equal(job);

      expect(show.stdout).to.match(new RegExp(`^id:\\s+${id}$`, 'm'));
      expect(show.stdout).to.match(new RegExp(`^name:\\s+${name}$`, 'm'));
      expect(show.stdout).to.match(/^state:\s+RUNNING$/m);
      expect(show.stdout).to.match(/^site:\s+site-a$/m);
      expect(show.stdout).to.match(new RegExp(`^subnet:\\s+${esc(job.subnet)}$`, 'm'));
      expect(show.stdout).to.match(new RegExp(`^gateway:\\s+${esc(job.gateway)}$`, 'm'));
      expect(show.stdout).to.match(/^per vm:\s+1 CPU, 128 MiB$/m);
      expect(show.stdout).to.match(/^last snapshot:\s+-$/m);
      expect(show.stdout).to.match(/^NAME\s+NODE\s+MAC\s+IP\s+STATE\s+CONSOLE$/m);
      for (const vm of job.vms) {
        expect(vm.mac).to.match(/^02:b1:10:/);
        expect(vm.ip).to.match(/^10\.150\./);
        expect(show.stdout).to.match(new RegExp(`^${vm.name}\\s+${vm.node}\\s+${esc(vm.mac)}\\s+${esc(vm.ip)}\\s+RUNNING\\s+${esc(vm.console || '-')}$`, 'm'));
      }
      expect(show.stdout).to.match(/^AT\s+STATE\s+REASON$/m);
      for (const h of job.history) expect(show.stdout).to.match(new RegExp(`^${esc(h.at)}\\s+${h.state}\\s+${esc(h.reason)}$`, 'm'));
      expect(job.history.map((h) => h.state)).to.deep.equal(['PENDING', 'DEPLOYING', 'RUNNING']);

      const addrLines = addrs.stdout.trimEnd().split('\n');
      expect(addrLines[0]).to.match(/^SITE\s+JOB\s+VM\s+MAC\s+IP\s+SUBNET\s+STATE$/);
      for (const vm of job.vms) {
        const lease = new RegExp(`^site-a\\s+${id}\\s+${vm.name}\\s+${esc(vm.mac)}\\s+${esc(vm.ip)}\\s+${esc(job.subnet)}\\s+active$`);
        expect(addrLines.filter((l) => lease.test(l)), addrs.stdout).to.have.length(1);
      }
      const leases = addrsJson.json<Lease[]>().filter((l) => l.job === id);
      expect(leases.map((l) => [l.site, l.vm, l.mac, l.ip, l.subnet, l.state])).to.have.deep.members(
        job.vms.map((vm) => ['site-a', vm.name, vm.mac, vm.ip, job.subnet, 'active']),
      );
      expect(addrsB.stdout).to.equal('no leases on site site-b.\n');
      await cancel(id);
    });

    it('not found → exit 3, not allowed in this state → exit 4, both with the message', async () => {
      const [missing, missingJson] = await Promise.all([cli('show', 'jnope'), cli('--json', 'cancel', 'jnope')]);
      expect(missing.code, missing.stderr).to.equal(3);
      expect(missing.stderr).to.equal('brine: job jnope not found\n');
      expect(missing.stdout).to.equal('');
      expect(missingJson.code, missingJson.stderr).to.equal(3);
      expect(missingJson.json<ErrorDoc>().error).to.deep.equal({ code: 'NOT_FOUND', message: 'job jnope not found' });

      const sub = await cli('--json', 'submit', '--name', fresh('twice'), ...STUCK);
      const id = sub.json<Job>().id;
      const first = await cli('cancel', id);
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.equal(`cancelled job ${id}\n`);
      const [again, againJson] = await Promise.all([cli('cancel', id), cli('--json', 'cancel', id)]);
      expect(again.code, again.stderr).to.equal(4);
      expect(again.stderr).to.equal(`brine: job ${id} is already CANCELLED: nothing to cancel\n`);
      expect(again.stdout).to.equal('');
      expect(againJson.code, againJson.stderr).to.equal(4);
      expect(againJson.json<ErrorDoc>().error.code).to.equal('FAILED_PRECONDITION');
    });

    it("watch --json: one JSON object per line, a real job's transitions; Ctrl-C → exit 0", async () => {
      const w = g.spawn(['--json', 'watch']);
      const probes = await subscribed(w, g.cli);
      const sub = await cli('--json', 'submit', '--name', fresh('watched'), ...SMALL, '--wait');
      expect(sub.code, sub.stderr).to.equal(0);
      const id = sub.json<Job>().id;
      await cancel(id, ...probes);
      const states = (out: string): string[] =>
        out
          .split('\n')
          .filter((l) => l.includes(id))
          .map((l) => JSON.parse(l) as BrineEvent)
          .filter((e) => e.type === 'job.state' && e.job === id)
          .map((e) => e.state);
      await outputOf(w, `${id} CANCELLED on the watch`, (out) => states(out).includes('CANCELLED'));
      w.child.kill('SIGINT');
      const r = await w.result;
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(r.stdout.endsWith('}\n')).to.equal(true);
      const events = r.jsonLines<BrineEvent>(); // throws unless every line is one JSON document
      for (const e of events) expect(e).to.include.all.keys('at', 'type', 'job', 'site', 'state', 'reason');
      const mine = events.filter((e) => e.job === id && e.type === 'job.state');
      expect(mine.map((e) => e.state)).to.deep.equal(['PENDING', 'DEPLOYING', 'RUNNING', 'CANCELLED']);
      expect(mine.slice(1).every((e) => e.site === 'site-a')).to.equal(true);
      expect(mine.at(-1)?.reason).to.equal('cancelled by user');
      // the probes' events are there too: it is the whole grid's stream
      expect(events.some((e) => e.job === probes[0])).to.equal(true);
    });

    it('watch JOB: human lines for that job only', async () => {
      const [mine, other] = await Promise.all([
        cli('--json', 'submit', '--name', fresh('mine'), ...STUCK),
        cli('--json', 'submit', '--name', fresh('other'), ...STUCK),
      ]);
      const id = mine.json<Job>().id;
      const otherId = other.json<Job>().id;
      const w = g.spawn(['watch', id]);
      // `watch JOB` shows nothing until JOB changes: a whole-grid watch started after it, once
      // it shows a probe, tells that the one started before is subscribed too
      const all = g.spawn(['watch']);
      const probes = await subscribed(all, g.cli);
      await cancel(otherId, ...probes);
      await outputOf(all, 'the other cancel', (out) => new RegExp(`${otherId}\\s+CANCELLED`).test(out));
      await cancel(id);
      await outputOf(w, 'the cancel of the job', (out) => out.includes('CANCELLED'));
      w.child.kill('SIGINT');
      all.child.kill('SIGINT');
      const [r, rAll] = await Promise.all([w.result, all.result]);
      expect(r.code, r.stderr).to.equal(0);
      expect(rAll.code, rAll.stderr).to.equal(0);
      expect(r.stdout).to.match(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ job\\.state\\s+${id}\\s+CANCELLED\\s+cancelled by user\\n$`));
      for (const other of [otherId, ...probes]) expect(r.stdout).not.to.include(other);
      expect(rAll.stdout).to.include(otherId);
    });
  });

  describe('submit --wait when the job FAILS (a site dies just as its job is placed there)', () => {
    // One deploy attempt: the deploy to the dead agent fails at once and the job is FAILED. The
    // site stays UP for the coordinator until its heartbeats are 5 s overdue, so the job is placed
    // there; the submit starts right after the kill, well within that.
    const g = useGrid(async (grid) => {
      await grid.startCoordinator({ heartbeatTimeout: '5s', extra: 'jobs:\n  maxDeployAttempts: 1\n' });
      await grid.startAgent({ name: 'site-a' });
    }, 'each');

    it('exit 1 with the last reason (JSON: the job as it ended); the site then shows DOWN', async () => {
      await g.grid.kill('site-a', 'SIGKILL');
      const r = await g.cli(['--json', 'submit', '--name', fresh('doomed'), ...SMALL, '--wait', '--timeout', '30s']);
      expect(r.code, r.stdout + r.stderr).to.equal(1);
      const doc = r.json<ErrorDoc>();
      const id = doc.job?.id as string;
      expect(doc.error.code).to.equal('JOB_FAILED');
      expect(doc.job?.state).to.equal('FAILED');
      const reason = doc.job?.history.at(-1)?.reason as string;
      expect(reason).to.match(/^deploy on site-a failed (once|1 times?); last: /);
      expect(doc.error.message).to.equal(`job ${id} FAILED: ${reason}`);
      expect(r.stderr).to.equal(`brine: job ${id} FAILED: ${reason}\n`);

      await waitFor('site-a DOWN', async () => (await g.cli(['sites', '--json'])).json<Site[]>()[0]?.state === 'DOWN');
      const sites = await g.cli(['sites']);
      expect(sites.code, sites.stderr).to.equal(0);
      expect(sites.stdout.split('\n')[1]).to.match(/^site-a\s+DOWN\s+\d\/2\s+\d+\/16\s+\d+\/32768\s+10\.150\.0\.0\/22\s/);
    });
  });

  describe('the coordinator going away (a grid per test)', () => {
    const g = useGrid(async (grid) => {
      await grid.startCoordinator();
      await grid.startAgent({ name: 'site-a' });
    }, 'each');

    it('watch: the coordinator shut down → exit 5 naming its address (--json: the error as one more line)', async () => {
      const human = g.spawn(['watch']);
      const json = g.spawn(['--json', 'watch']);
      await subscribed(human, g.cli);
      await subscribed(json, g.cli);
      await g.grid.kill('coordinator', 'SIGTERM');
      const [h, j] = await Promise.all([human.result, json.result]);
      const lost = new RegExp(`^brine: lost the connection to the coordinator at ${esc(g.grid.coordinator)}\\b.*\\n$`);
      expect(h.code, h.stderr).to.equal(5);
      expect(h.stderr).to.match(lost);
      expect(j.code, j.stderr).to.equal(5);
      expect(j.stderr).to.match(lost);
      const lines = j.jsonLines<BrineEvent | ErrorDoc>();
      const last = lines.at(-1) as ErrorDoc;
      expect(last.error.code).to.equal('UNAVAILABLE');
      expect(last.error.message).to.include(g.grid.coordinator);
      expect(lines.slice(0, -1).every((e) => 'type' in e)).to.equal(true);
    });

    it('submit --wait outlives a coordinator restart (its stream breaks, it polls) and ends RUNNING', async () => {
      const filler = await g.cli(['--json', 'submit', '--name', fresh('filler'), '--vms', '2', '--cpus', '8', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--wait']);
      expect(filler.code, filler.stderr).to.equal(0);
      const w = g.spawn(['submit', '--name', fresh('patient'), '--vms', '1', '--cpus', '8', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--wait', '--timeout', '50s']);
      await outputOf(w, 'the submitted line', (out) => /^submitted job \S+ \(PENDING\)\n/.test(out));
      const id = /^submitted job (\S+) /.exec(w.stdout)?.[1] as string;
      await waitFor('the pending reason', async () => (await g.cli(['show', id, '--json'])).json<Job>().history.length > 1);

      await g.grid.kill('coordinator', 'SIGTERM');
      await g.grid.startCoordinator();
      await waitFor('site-a UP again', async () => (await g.cli(['sites', '--json'])).json<Site[]>()[0]?.state === 'UP');
      expect(w.child.exitCode, w.stderr).to.equal(null);
      const c = await g.cli(['cancel', filler.json<Job>().id]);
      expect(c.code, c.stderr).to.equal(0);

      const r = await w.result;
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      const job = (await g.cli(['show', id, '--json'])).json<Job>();
      expect(job.state).to.equal('RUNNING');
      expect(r.stdout.trimEnd().split('\n').at(-1)).to.equal(`job ${id} is RUNNING on site-a (${job.history.at(-1)?.reason})`);
    });
  });
});
