// The grid CA: `brine ca init` makes it, `brine ca issue ROLE NAME` signs a certificate whose
// subject names the identity (CN) and its role (OU). ECDSA P-256 keys, via @peculiar/x509 on
// Node's WebCrypto (no openssl binary needed).
import { webcrypto, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API loaded first
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from './errors.js';
import type { Role } from './tls.js';

// Node 20 has globalThis.crypto (WebCrypto); the library needs to be told to use it
x509.cryptoProvider.set(globalThis.crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface CaFiles {
  cert: string;
  key: string;
}

export function caFiles(dir: string): CaFiles {
  return { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
}

/** Where `issue` writes ROLE NAME's certificate and key. */
export function identityFiles(dir: string, role: Role, name: string): CaFiles {
  return { cert: join(dir, `${role}-${name}.crt`), key: join(dir, `${role}-${name}.key`) };
}

async function writeKey(file: string, key: webcrypto.CryptoKey): Promise<void> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  await writeFile(file, x509.PemConverter.encode(der, 'PRIVATE KEY'), { mode: 0o600 });
  await chmod(file, 0o600);
}

const serial = (): string => {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // a positive integer
  return bytes.toString('hex');
};

/** Makes a new CA in `dir` (refuses to overwrite one: every certificate it signed would be void). */
export async function initCa(dir: string, options: { days?: number; now?: Date } = {}): Promise<CaFiles> {
  const files = caFiles(dir);
  if (existsSync(files.key)) throw new AlreadyExistsError(`a CA already exists in ${dir}; remove it first to make a new grid CA`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = options.now ?? new Date();
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=brine grid CA, O=brine',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (options.days ?? 3650) * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeFile(files.cert, cert.toString('pem'));
  await writeKey(files.key, keys.privateKey);
  return files;
}

export interface IssueOptions {
  /** validity; default 365 days */
  days?: number;
  now?: Date;
  /** where to write the pair; default the CA's dir */
  outDir?: string;
}

/** Signs a certificate for ROLE NAME with the CA in `caDir`; usable as both TLS server and client. */
export async function issue(caDir: string, role: Role, name: string, options: IssueOptions = {}): Promise<CaFiles> {
  // no commas, equals signs or spaces: the name goes into the certificate's subject as is
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new InvalidArgumentError('NAME', `use 1–64 characters from [A-Za-z0-9._-], got "${name.slice(0, 100)}"`);
  }
  const ca = caFiles(caDir);
  if (!existsSync(ca.key)) throw new NotFoundError('grid CA in', caDir);
  const caCert = new x509.X509Certificate(await readFile(ca.cert, 'utf8'));
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(await readFile(ca.key, 'utf8')), ALG, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = options.now ?? new Date();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${name}, OU=${role}, O=brine`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (options.days ?? 365) * DAY_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      // servers run on loopback or are reached by name; the identity check is on CN/OU (tls.ts)
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: name.toLowerCase() },
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  const out = options.outDir ?? caDir;
  await mkdir(out, { recursive: true });
  const files = identityFiles(out, role, name);
  await writeFile(files.cert, cert.toString('pem'));
  await writeKey(files.key, keys.privateKey);
  return files;
}

/**
 * A CA in `caDir` and a certificate for each identity, made only where missing (the demo and the
 * test harnesses call it on every start).
 */
export async function ensureIssued(caDir: string, identities: ReadonlyArray<{ role: Role; name: string }>): Promise<Map<string, CaFiles>> {
  if (!existsSync(caFiles(caDir).key)) await initCa(caDir);
  const out = new Map<string, CaFiles>();
  for (const { role, name } of identities) {
    const files = identityFiles(caDir, role, name);
    out.set(`${role}-${name}`, existsSync(files.key) && existsSync(files.cert) ? files : await issue(caDir, role, name));
  }
  return out;
}
