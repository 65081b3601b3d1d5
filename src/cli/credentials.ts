// The CLI's identity: the grid CA and the user's certificate and key (README, Security).
// BRINE_CA / BRINE_CERT / BRINE_KEY name the files; otherwise ca.crt, client.crt and client.key in
// BRINE_CREDENTIALS (default .brine/credentials under the working directory). BRINE_INSECURE=1
// talks plaintext to a coordinator started with --insecure, with a warning each time.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { UnauthenticatedError } from '../shared/errors.js';
import { clientCredentials, INSECURE_WARNING, loadTls, type Role } from '../shared/tls.js';

/** `server`: the role the other end's certificate must carry (the coordinator, or a site's agent). */
export function cliCredentials(env: NodeJS.ProcessEnv = process.env, server: Role = 'coordinator'): grpc.ChannelCredentials {
  if (env.BRINE_INSECURE === '1') {
    process.stderr.write(`brine: ${INSECURE_WARNING}\n`);
    return clientCredentials({ kind: 'insecure' }, { roles: [server] });
  }
  const dir = resolve(env.BRINE_CREDENTIALS || join('.brine', 'credentials'));
  const files = {
    ca: resolve(env.BRINE_CA || join(dir, 'ca.crt')),
    cert: resolve(env.BRINE_CERT || join(dir, 'client.crt')),
    key: resolve(env.BRINE_KEY || join(dir, 'client.key')),
  };
  const missing = Object.values(files).filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new UnauthenticatedError(
      `no grid credentials: ${missing.join(', ')} missing. Ask the grid admin for a certificate (brine ca issue user NAME) and set BRINE_CREDENTIALS, or BRINE_CA, BRINE_CERT and BRINE_KEY`,
    );
  }
  return clientCredentials({ kind: 'tls', tls: loadTls(files) }, { roles: [server] });
}
