// Snapshot tickets: the coordinator's signed word that site DEST may read snapshot S from another
// site until T. The destination shows it to the source with every GetManifest/ReadChunks; the
// source checks the signature (a certificate of the grid CA with role coordinator), the snapshot,
// the caller's site name and the expiry. Format: base64url(payload JSON).base64url(signature).
// base64url(the coordinator's certificate, DER), so the source needs only the CA to check it.
import { createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { PermissionDeniedError } from './errors.js';
import { identityOfCertificate } from './tls.js';

/** Long enough for a big transfer's last ReadChunks batch, short next to a certificate's year. */
export const TICKET_TTL_MS = 60 * 60_000;

const payloadSchema = z.strictObject({
  snapshot: z.string().min(1),
  destination: z.string().min(1),
  /** ms since the epoch */
  expires: z.number().int().positive(),
});
export type TicketPayload = z.output<typeof payloadSchema>;

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class TicketSigner {
  private readonly key: KeyObject;
  private readonly certDer: Buffer;

  constructor(keyPem: Buffer, certPem: Buffer) {
    this.key = createPrivateKey(keyPem);
    this.certDer = new X509Certificate(certPem).raw;
  }

  sign(snapshot: string, destination: string, now: number = Date.now()): string {
    const payload = Buffer.from(JSON.stringify({ snapshot, destination, expires: now + TICKET_TTL_MS } satisfies TicketPayload));
    return `${b64(payload)}.${b64(sign('sha256', payload, this.key))}.${b64(this.certDer)}`;
  }
}

export class TicketVerifier {
  private readonly ca: X509Certificate;

  constructor(caPem: Buffer) {
    this.ca = new X509Certificate(caPem);
  }

  /** Throws PERMISSION_DENIED unless `ticket` lets site `caller` read `snapshot` at `now`. */
  check(ticket: string, snapshot: string, caller: string, now: number = Date.now()): void {
    const deny = (why: string): never => {
      throw new PermissionDeniedError(`snapshot ${snapshot.slice(0, 100)} is not for site ${caller}: ${why}`);
    };
    if (!ticket) deny('no ticket (the coordinator gives one with FetchSnapshot)');
    const [p, s, c, extra] = ticket.split('.');
    if (!p || !s || !c || extra !== undefined) return deny('malformed ticket');
    let signer: X509Certificate;
    try {
      signer = new X509Certificate(Buffer.from(c, 'base64url'));
    } catch (err) {
      return deny(`malformed ticket certificate (${(err as Error).message})`);
    }
    const id = identityOfCertificate({ subject: subjectOf(signer) });
    if (!signer.verify(this.ca.publicKey) || id?.role !== 'coordinator') deny('the ticket is not signed by the grid coordinator');
    if (Date.parse(signer.validTo) < now || Date.parse(signer.validFrom) > now) deny("the ticket's signer certificate is not valid now");
    const payloadBytes = Buffer.from(p, 'base64url');
    if (!verify('sha256', payloadBytes, signer.publicKey, Buffer.from(s, 'base64url'))) deny('bad ticket signature');
    let raw: unknown;
    try {
      raw = JSON.parse(payloadBytes.toString('utf8'));
    } catch {
      return deny('malformed ticket payload');
    }
    const payload = payloadSchema.safeParse(raw);
    if (!payload.success) return deny('malformed ticket payload');
    if (payload.data.snapshot !== snapshot) deny(`the ticket is for snapshot ${payload.data.snapshot}`);
    if (payload.data.destination !== caller) deny(`the ticket is for site ${payload.data.destination}`);
    if (payload.data.expires < now) deny(`the ticket expired at ${new Date(payload.data.expires).toISOString()}`);
  }
}

/** X509Certificate.subject is "CN=x\nOU=y\n…": the fields identityOfCertificate reads. */
function subjectOf(cert: X509Certificate): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
