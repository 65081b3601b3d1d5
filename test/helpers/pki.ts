// The tests' grid CA: one per test process (a temp dir, removed at exit), with the coordinator's
// certificate and an admin named after the OS user (the CLI's default owner before certificates,
// so the CLI tests keep their meaning). Sites and users are issued on demand.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { identityFiles, initCa, issue, type CaFiles } from '../../src/shared/ca.js';
import { loadTls, type Role, type Transport } from '../../src/shared/tls.js';

export const PKI_DIR = mkdtempSync(join(tmpdir(), 'brine-pki-'));
process.on('exit', () => rmSync(PKI_DIR, { recursive: true, force: true }));

export const CA_CERT = (await initCa(PKI_DIR)).cert;
export const COORDINATOR_FILES = await issue(PKI_DIR, 'coordinator', 'coordinator');
export const ADMIN_NAME = userInfo().username;
export const ADMIN_FILES = await issue(PKI_DIR, 'admin', ADMIN_NAME);

/** ROLE NAME's certificate and key (made the first time). */
export async function credentials(role: Role, name: string, options: { days?: number; now?: Date } = {}): Promise<CaFiles> {
  const files = identityFiles(PKI_DIR, role, name);
  if (existsSync(files.key) && options.days === undefined && options.now === undefined) return files;
  return issue(PKI_DIR, role, name, options);
}

/** `tls:` YAML for a program's config. */
export function tlsYaml(files: CaFiles, indent = ''): string {
  return `${indent}tls: { ca: "${CA_CERT}", cert: "${files.cert}", key: "${files.key}" }\n`;
}

/** A transport for a raw gRPC client in a test. */
export function transportOf(files: CaFiles): Transport {
  return { kind: 'tls', tls: loadTls({ ca: CA_CERT, cert: files.cert, key: files.key }) };
}

/** Environment for the CLI acting as `files`' identity. */
export function cliEnv(files: CaFiles): Record<string, string> {
  return { BRINE_CA: CA_CERT, BRINE_CERT: files.cert, BRINE_KEY: files.key };
}
