// The built `brine` CLI as a real process: the parts of its contract that need no coordinator
// (usage errors, local validation that sends nothing, an unreachable coordinator). Everything that
// needs a coordinator is checked against real processes in cli-grid.test.ts: no fakes here.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CLI_REPO_ROOT, runCli } from '../helpers/cli.js';
import { WRITE_TIMEOUT_MS } from '../../src/cli/client.js';

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

interface ErrorDoc {
  error: { code: string; message: string; field?: string };
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
        // refused at once, not given up on after a deadline (a write would wait WRITE_TIMEOUT_MS)
        expect(r.stderr, what).to.include('cannot reach the coordinator').and.not.match(/deadline/i);
      });
      // Seven CLI processes at once on a loaded 2-core machine: the bound only has to tell "at once"
      // from "after the 30 s write deadline".
      expect(Date.now() - started, 'fails fast').to.be.below(WRITE_TIMEOUT_MS - 5_000);
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
});
