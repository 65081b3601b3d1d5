import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCoordinatorConfig } from '../../src/coordinator/config.js';
import { BrineError } from '../../src/shared/errors.js';

describe('coordinator config', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'brine-cfg-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function load(text: string): ReturnType<typeof loadCoordinatorConfig> {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, text);
    return loadCoordinatorConfig(file);
  }

  function fails(text: string): BrineError {
    try {
      load(text);
    } catch (err) {
      expect(err).to.be.instanceOf(BrineError);
      expect((err as BrineError).code).to.equal('INVALID_ARGUMENT');
      return err as BrineError;
    }
    throw new Error('expected a config error');
  }

  it('parses the shipped config with durations', () => {
    const c = loadCoordinatorConfig('config/coordinator.yaml');
    expect(c.listen).to.equal('127.0.0.1:7700');
    expect(c.heartbeatTimeout).to.equal(10_000);
    expect(c.jobs.checkpointEvery).to.equal(30 * 60_000);
  });

  it('takes metrics.listen (off when absent) and checks it strictly', () => {
    expect(load('listen: 127.0.0.1:9000\n').metrics).to.equal(undefined);
    expect(load('metrics: { listen: "[::1]:9100" }\n').metrics).to.deep.equal({ listen: '[::1]:9100' });
    expect(fails('metrics: { listen: nowhere }\n').field).to.equal('metrics.listen');
    expect(fails('metrics: { listen: 127.0.0.1:9100, tls: true }\n').message).to.match(/tls/);
  });

  it('takes dashboard.listen on loopback only', () => {
    expect(load('listen: 127.0.0.1:9000\n').dashboard).to.equal(undefined);
    expect(load('dashboard: { listen: 127.0.0.1:7780 }\n').dashboard).to.deep.equal({ listen: '127.0.0.1:7780' });
    const err = fails('dashboard: { listen: 0.0.0.0:7780 }\n');
    expect(err.field).to.equal('dashboard.listen');
    expect(err.message).to.match(/loopback/);
  });

  it('takes store: etcd with its endpoints, prefix and lease; file is the default', () => {
    expect(load('listen: 127.0.0.1:9000\n').store).to.equal('file');
    const c = load('store: etcd\netcd:\n  endpoints: [http://127.0.0.1:2379, http://127.0.0.1:22379]\n');
    expect(c.store).to.equal('etcd');
    expect(c.etcd).to.deep.equal({ endpoints: ['http://127.0.0.1:2379', 'http://127.0.0.1:22379'], prefix: '/brine/', leaseTtl: 3000 });
    expect(load('store: etcd\netcd: { endpoints: [https://e1:2379], prefix: /grid-1/, leaseTtl: 5s }\n').etcd).to.deep.equal({ endpoints: ['https://e1:2379'], prefix: '/grid-1/', leaseTtl: 5000 });
    expect(fails('store: etcd\n').field).to.equal('etcd.endpoints');
    expect(fails('store: etcd\netcd: { endpoints: [] }\n').field).to.equal('etcd.endpoints');
    expect(fails('store: etcd\netcd: { endpoints: [127.0.0.1:2379] }\n').field).to.equal('etcd.endpoints.0');
    expect(fails('store: etcd\netcd: { endpoints: [http://e:2379], prefix: brine }\n').field).to.equal('etcd.prefix');
    expect(fails('store: etcd\netcd: { endpoints: [http://e:2379], leaseTtl: 1s }\n').field).to.equal('etcd.leaseTtl');
    expect(fails('store: zookeeper\n').field).to.equal('store');
  });

  it('fills defaults', () => {
    const c = load('listen: 127.0.0.1:9000\n');
    expect(c.heartbeatTimeout).to.equal(10_000);
    expect(c.jobs.maxDeployAttempts).to.equal(3);
  });

  it('takes a failover delay, or never', () => {
    expect(load('listen: 127.0.0.1:9000\n').jobs.failoverAfter).to.equal(120_000);
    expect(load('jobs:\n  failoverAfter: 45s\n').jobs.failoverAfter).to.equal(45_000);
    expect(load('jobs:\n  failoverAfter: never\n').jobs.failoverAfter).to.equal(null);
    expect(fails('jobs:\n  failoverAfter: soon\n').message).to.match(/jobs\.failoverAfter/);
  });

  it('names an unknown key with its path', () => {
    expect(fails('jobs:\n  checkpointEvry: 10m\n').message).to.match(/^jobs: .*checkpointEvry/);
  });

  it('names a key of the wrong type', () => {
    expect(fails('heartbeatTimeout: 10 parsecs\n').field).to.equal('heartbeatTimeout');
    expect(fails('listen: 7700\n').field).to.equal('listen');
  });

  it('refuses malformed YAML', () => {
    expect(fails('listen: [unclosed\n').message).to.match(/not valid YAML/);
  });
});
