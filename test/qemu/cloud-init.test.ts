// Issue 12: brine's NoCloud seed read by the real consumer, Debian's own cloud-init package, on real
// QEMU. The guest (scripts/build-cloud-guest.sh: debootstrapped bookworm with cloud-init and the
// Debian cloud kernel, booted from kernel + initrd with a root disk) is deployed through brine with
// `--user-data` and `--meta`; the user-data script reports on the console what cloud-init made of the
// seed: the hostname (local-hostname), a meta key (ds.meta_data) and the address the network config
// brought up by DHCP. Run by scripts/test-qemu.sh, which builds the image first (cached in .brine/).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli, type CliResult } from '../helpers/cli.js';
import { REPO_ROOT, TestGrid, waitFor } from '../helpers/grid.js';
import { hypervisorLogs } from '../../site-agent/clusters.js';
import { parseVmMetadata } from '../../site-agent/domain-xml.js';
import type { Job } from '../../src/shared/proto.js';

const URI = 'qemu:///system';
const IMAGE = join(REPO_ROOT, '.brine', 'cloud-guest');
/** systemd and four cloud-init stages (each a Python start) under TCG on 2 shared cores */
const BOOT_WAIT_MS = 540_000;
const run = promisify(execFile);

async function virsh(...args: string[]): Promise<string> {
  const { stdout } = await run('virsh', ['-q', '-c', URI, ...args], { timeout: 60_000 });
  return stdout;
}
const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

const USER_DATA = `#!/bin/sh
# run by cloud-init's scripts-user module (cloud-final), as root
addr=$(ip -4 -o addr show scope global | awk '{print $4; exit}')
project=$(cloud-init query ds.meta_data.project 2>/dev/null)
echo "brine-ud: host=$(hostname) project=$project addr=$addr" >/dev/ttyS0
`;

describe('Debian cloud-init reads the seed (QEMU tier)', function () {
  this.timeout(720_000);
  let grid: TestGrid;
  let site = '';
  const cli = (...args: string[]): Promise<CliResult> => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 300_000 });

  before(async function () {
    for (const f of ['vmlinuz', 'initrd.img', 'rootfs.qcow2', 'cmdline']) {
      if (!existsSync(join(IMAGE, f))) throw new Error(`${join(IMAGE, f)} is missing: run scripts/build-cloud-guest.sh (scripts/test-qemu.sh does)`);
    }
    await virsh('version');
  });

  beforeEach(async () => {
    site = `ci${randomBytes(4).toString('hex')}`;
    const octet = 160 + ((randomBytes(1)[0] as number) % 80);
    const macByte = (randomBytes(1)[0] as number).toString(16).padStart(2, '0');
    grid = new TestGrid();
    await grid.startCoordinator({ heartbeatTimeout: '10s' });
    await grid.startAgent({
      name: site,
      nodes: [{ name: 'n1', uri: URI, cpus: 2, memoryMiB: 2048 }],
      images: {
        debian: {
          kernel: join(IMAGE, 'vmlinuz'),
          initrd: join(IMAGE, 'initrd.img'),
          cmdline: readFileSync(join(IMAGE, 'cmdline'), 'utf8').trim(),
          disk: join(IMAGE, 'rootfs.qcow2'),
        },
      },
      subnetPool: `10.${octet}.8.0/22`,
      macRange: `02:b5:${macByte}:00:00:00/32`,
      extra: 'pollInterval: 500ms\nsnapshots: { every: 1h, keep: 1, replicas: 0 }',
    });
  });

  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
    for (const d of lines(await virsh('list', '--all', '--name')).filter((n) => n.startsWith('brine-'))) {
      const meta = parseVmMetadata(await virsh('dumpxml', d).catch(() => ''));
      if (meta?.site !== site) continue;
      await virsh('destroy', d).catch(() => '');
      await virsh('undefine', d).catch(() => '');
      for (const f of hypervisorLogs(URI, d)) await run('rm', ['-f', f]).catch(() => undefined);
    }
    for (const n of lines(await virsh('net-list', '--all', '--name')).filter((x) => x.startsWith(`brine-${site}-`))) {
      await virsh('net-destroy', n).catch(() => '');
      await virsh('net-undefine', n).catch(() => '');
    }
  });

  it('runs the user-data, names the host after the VM, exposes --meta and brings the NIC up by DHCP', async () => {
    const file = join(grid.dir, 'user-data.sh');
    writeFileSync(file, USER_DATA);
    const t0 = Date.now();
    const s = await cli('submit', '--name', 'ci', '--vms', '1', '--cpus', '1', '--memory', '512', '--image', 'debian', '--site', site,
      '--user-data', file, '--meta', 'project=climate', '--wait', '--timeout', '4m', '--json');
    expect(s.code, s.stderr).to.equal(0);
    const job = (await cli('show', s.json<Job>().id, '--json')).json<Job>();
    const vm = job.vms[0] as Job['vms'][number];
    const prefix = job.subnet.split('/')[1];
    const console = (): string => (existsSync(vm.console) ? readFileSync(vm.console, 'utf8').replace(/\r/g, '') : '');
    let line: string;
    try {
      line = await waitFor('the user-data to report', () => /^brine-ud: .*$/m.exec(console())?.[0], BOOT_WAIT_MS, 1000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nlast console lines:\n${console().split('\n').slice(-30).join('\n')}`);
    }
    console_log(`      Debian cloud-init ran the user-data ${((Date.now() - t0) / 1000).toFixed(0)} s after submit`);
    expect(line).to.equal(`brine-ud: host=${vm.name} project=climate addr=${vm.ip}/${prefix}`);
  });
});

function console_log(text: string): void {
  process.stdout.write(`${text}\n`);
}
