// The `tls:` key of the coordinator's and the agents' configs. Apart from ./tls.ts so that the
// CLI, which takes its files from the environment, does not load zod (~95 modules) at start-up.
import { resolve } from 'node:path';
import { z } from 'zod';

const path = z
  .string()
  .min(1, 'must not be empty')
  .transform((p) => resolve(p));

export const tlsConfigSchema = z.strictObject({
  /** the grid CA's certificate: peers must present a certificate it signed */
  ca: path,
  /** this program's certificate (issued by `brine ca issue`) and its key */
  cert: path,
  key: path,
});
export type TlsFiles = z.output<typeof tlsConfigSchema>;
