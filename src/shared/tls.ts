// Mutual TLS for every brine connection: the grid CA, this program's certificate and key, and the
// identity (role + name) a peer's certificate carries. Certificates are made by ./ca.ts.
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from './errors.js';
import type { TlsFiles } from './tls-config.js';

export type { TlsFiles } from './tls-config.js';

export const ROLES = ['coordinator', 'site', 'user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is on the other end, as its certificate says (subject OU = role, CN = name). */
export interface Identity {
  role: Role;
  name: string;
}

export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export function loadTls(files: TlsFiles): TlsMaterial {
  const read = (field: keyof TlsFiles): Buffer => {
    try {
      return readFileSync(files[field]);
    } catch (err) {
      throw new InvalidArgumentError(`tls.${field}`, `cannot read ${files[field]}: ${(err as Error).message} (make certificates with: brine ca init; brine ca issue ...)`);
    }
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key') };
}

/** Either TLS material or the explicit `--insecure` opt-out (plaintext, nobody authenticated). */
export type Transport = { kind: 'tls'; tls: TlsMaterial } | { kind: 'insecure' };

export const INSECURE_WARNING =
  'WARNING: --insecure: plaintext gRPC, no caller is authenticated and every call is allowed; use only on a private test machine';

/** Resolves a program's transport: TLS from its config, or plaintext when `--insecure` was given. */
export function transportFrom(files: TlsFiles | undefined, insecure: boolean, program: string): Transport {
  if (insecure) return { kind: 'insecure' };
  if (!files) {
    throw new InvalidArgumentError('tls', `${program} needs tls: {ca, cert, key} in its config (see README, Security), or --insecure for plaintext`);
  }
  return { kind: 'tls', tls: loadTls(files) };
}

export function serverCredentials(t: Transport): grpc.ServerCredentials {
  if (t.kind === 'insecure') return grpc.ServerCredentials.createInsecure();
  // true: a client without a certificate signed by the grid CA is refused during the handshake
  return grpc.ServerCredentials.createSsl(t.tls.ca, [{ private_key: t.tls.key, cert_chain: t.tls.cert }], true);
}

/**
 * Client credentials that accept only a server whose certificate has one of `roles` (and, when
 * given, `name`), instead of a host name check: grid programs are reached by loopback addresses
 * and site names, not DNS names.
 */
export function clientCredentials(t: Transport, expect: { roles: readonly Role[]; name?: string }): grpc.ChannelCredentials {
  if (t.kind === 'insecure') return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(t.tls.ca, t.tls.key, t.tls.cert, {
    checkServerIdentity: (_host, cert) => {
      const id = identityOfCertificate(cert);
      if (!id) return new Error('the server certificate carries no brine identity');
      if (!expect.roles.includes(id.role)) return new Error(`the server is a ${id.role} (${id.name}), expected a ${expect.roles.join(' or ')}`);
      if (expect.name !== undefined && id.name !== expect.name) return new Error(`the server is ${id.role} ${id.name}, expected ${expect.name}`);
      return undefined;
    },
  });
}

/**
 * Channel options for every TLS client: a fixed TLS server name, since grid addresses are IPs
 * (Node warns about an IP as SNI) and the server's identity is checked on its certificate's
 * subject instead (clientCredentials).
 */
export const TLS_CLIENT_OPTIONS = { 'grpc.ssl_target_name_override': 'brine.grid' } as const;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The fields of a certificate subject an identity is read from (a PeerCertificate has them). */
export interface SubjectHolder {
  subject?: { OU?: string | string[] | undefined; CN?: string | string[] | undefined } | undefined;
}

export function identityOfCertificate(cert: SubjectHolder | undefined): Identity | undefined {
  if (!cert?.subject) return undefined;
  const ou = first(cert.subject.OU);
  const role = ROLES.find((r) => r === ou);
  const name = first(cert.subject.CN);
  if (!name || !role) return undefined;
  return { role, name };
}

/** The caller of a server call: its identity, or undefined when it presented no brine certificate. */
export function callerOf(call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null }): Identity | undefined {
  return identityOfCertificate(call.getAuthContext()?.sslPeerCertificate);
}

/**
 * Server options every brine server uses: connections idle this long are closed (an attacker's
 * or a crashed client's connection does not hold resources forever).
 */
export const IDLE_SERVER_OPTIONS = { 'grpc.max_connection_idle_ms': 5 * 60_000 } as const;
