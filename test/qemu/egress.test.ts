// Issue 12 point 4 on real QEMU (qemu:///system): a job with `--egress` on sites whose config says
// `network.egress: nat` reaches a server outside its cluster network, through libvirt's NAT, before
// and after a move; a job without it, on the same site, does not. The "outside" is a network
// namespace this test makes (a veth pair on 198.51.100.0/30, TEST-NET-2): nothing leaves the host.
//
// Each guest's user-data asks the server every 2 s and prints `egress N got=… routes=R`. The server
// answers `pong-TOKEN from=ADDRESS`: the address it saw is the host's end of the veth, so the
// guest's packets were masqueraded, not routed from the cluster subnet.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { TestGrid, waitFor } from '../helpers/grid.js';
import { GUEST_WAIT_MS, removeLeftovers, run, tail, tinyGuest, URI, virsh } from '../helpers/qemu.js';
import type { Job } from '../../src/shared/proto.js';

const HOST_END = '198.51.100.1';
const SERVER = '198.51.100.2';
const PORT = 7100;
/** The user-data: ask the server outside every 2 s; say what came back and how many default routes the guest has. */
const ASK = `#!/bin/sh
n=0
while :; do
  n=$((n + 1))
  r=$(timeout 3 nc ${SERVER} ${PORT} </dev/null 2>/dev/null | tr ' ' '_')
  echo "egress $n got=\${r:-none} routes=$(ip route | grep -c '^default')"
  sleep 2
done
`;

interface Answer {
  n: number;
  got: string;
  routes: number;
}

function answers(file: string): Answer[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((raw) => /^egress (\d+) got=(\S+) routes=(\d+)$/.exec(raw.replace(/\r/g, '').trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ n: Number(m[1]), got: m[2] as string, routes: Number(m[3]) }));
}

async function answerFrom(file: string, pong: string, after = 0): Promise<Answer> {
  try {
    return await waitFor(`an answer ${pong} on ${file}`, () => answers(file).find((a) => a.n > after && a.got === pong), GUEST_WAIT_MS, 500);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast console lines:\n${tail(file)}`);
  }
}

describe('egress through NAT on real QEMU (QEMU tier)', function () {
  this.timeout(600_000);
  let grid: TestGrid;
  let siteA = '';
  let siteB = '';
  let ns = '';
  let veth = '';
  let server: ChildProcess | undefined;
  const token = randomBytes(4).toString('hex');
  const pong = `pong-${token}_from=${HOST_END}`;
  const cli = (...args: string[]): Promise<CliResult> => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 500_000 });
  const show = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();
  const consoleOf = async (id: string): Promise<string> => (await show(id)).vms[0]?.console ?? '';

  before(async () => {
    tinyGuest(); // throws naming the script if the test guest is not built
    await virsh('version');
    // The world outside: a namespace holding the server, reached from the host over a veth pair.
    const tag = randomBytes(3).toString('hex');
    ns = `brine-eg-${tag}`;
    veth = `brneg${tag}`; // ≤ 15 characters, the peer gets a `p`
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`]);
    await run('ip', ['link', 'set', `${veth}p`, 'netns', ns]);
    await run('ip', ['addr', 'add', `${HOST_END}/30`, 'dev', veth]);
    await run('ip', ['link', 'set', veth, 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${SERVER}/30`, 'dev', `${veth}p`]);
    await run('ip', ['-n', ns, 'link', 'set', `${veth}p`, 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const script = `require('net').createServer((s) => s.end('pong-${token} from=' + s.remoteAddress.replace(/^::ffff:/, '') + '\\n')).listen(${PORT}, '${SERVER}', () => console.log('listening'))`;
    const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    server = proc;
    await new Promise<void>((resolve, reject) => {
      proc.stdout?.once('data', () => resolve());
      proc.once('exit', (code) => reject(new Error(`the server in ${ns} exited (${code})`)));
    });
  });

  after(async () => {
    server?.kill('SIGKILL');
    if (veth) await run('ip', ['link', 'del', veth]).catch((err: Error) => console.error(`egress test: ip link del ${veth}: ${err.message}`));
    if (ns) await run('ip', ['netns', 'del', ns]).catch((err: Error) => console.error(`egress test: ip netns del ${ns}: ${err.message}`));
  });

  beforeEach(async () => {
    const tag = `qe${randomBytes(4).toString('hex')}`;
    siteA = `${tag}-a`;
    siteB = `${tag}-b`;
    const octet = 160 + ((randomBytes(1)[0] as number) % 80);
    const macByte = (randomBytes(1)[0] as number).toString(16).padStart(2, '0');
    const images = tinyGuest();
    grid = new TestGrid();
    await grid.startCoordinator({ heartbeatTimeout: '10s' });
    for (const [i, site] of [siteA, siteB].entries()) {
      await grid.startAgent({
        name: site,
        nodes: [1, 2].map((n) => ({ name: `n${n}`, uri: URI, cpus: 2, memoryMiB: 2048 })),
        images,
        subnetPool: `10.${octet}.${i * 4 + 16}.0/22`,
        macRange: `02:b5:${macByte}:${i}0:00:00/32`,
        egress: 'nat',
        extra: 'pollInterval: 500ms\nsnapshots: { every: 1h, keep: 2, replicas: 0 }',
      });
    }
  });

  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
    await removeLeftovers([siteA, siteB]);
  });

  it('an --egress job reaches the server outside, masqueraded, before and after a move; a job without it, on the same site, cannot', async () => {
    const userData = join(grid.dir, 'ask.sh');
    writeFileSync(userData, ASK);
    const submit = async (name: string, ...extra: string[]): Promise<Job> => {
      const r = await cli('submit', '--name', name, '--vms', '1', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', siteA,
        '--user-data', userData, ...extra, '--wait', '--timeout', '4m', '--json');
      expect(r.code, r.stderr).to.equal(0);
      return r.json<Job>();
    };
    const out = await submit('out', '--egress');
    const shut = await submit('shut');
    expect([out.egress, shut.egress]).to.deep.equal([true, false]);

    const first = await answerFrom(await consoleOf(out.id), pong);
    expect(first.routes).to.equal(1); // the NATed network's DHCP hands out the gateway as the route

    // The isolated job on the same site: no default route, no answer, ever (three tries seen).
    const shutConsole = await consoleOf(shut.id);
    await waitFor(`three tries on ${shutConsole}`, () => answers(shutConsole).length >= 3, GUEST_WAIT_MS, 500);
    expect(answers(shutConsole).map((a) => [a.got, a.routes])).to.deep.equal(answers(shutConsole).map(() => ['none', 0]));

    // Moved to the other site (which allows egress too): the new network is NATed as well.
    const seen = Math.max(...answers(await consoleOf(out.id)).map((a) => a.n));
    const mig = await cli('migrate', out.id, '--to', siteB, '--json');
    expect(mig.code, mig.stderr).to.equal(0);
    const moved = await show(out.id);
    expect([moved.state, moved.site]).to.deep.equal(['RUNNING', siteB]);
    const after = await answerFrom(moved.vms[0]?.console ?? '', pong, seen);
    expect(after.routes).to.equal(1);
  });
});
