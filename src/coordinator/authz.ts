// Who may call what on the coordinator (README, Security). Pure decisions on the caller's
// identity (from its certificate, ../shared/tls.ts); the service layer applies them before it
// calls the coordinator. `insecure` (the --insecure opt-out) allows everything.
import { PermissionDeniedError, UnauthenticatedError } from '../shared/errors.js';
import { callerOf, type Identity, type Role } from '../shared/tls.js';

export type Caller = Identity | 'insecure';

export function callerFrom(call: Parameters<typeof callerOf>[0], insecure: boolean): Caller {
  if (insecure) return 'insecure';
  const id = callerOf(call);
  if (!id) throw new UnauthenticatedError('present a certificate issued by the grid CA (brine ca issue ...)');
  return id;
}

export function requireRole(caller: Caller, roles: readonly Role[], what: string): void {
  if (caller === 'insecure' || roles.includes(caller.role)) return;
  throw new PermissionDeniedError(`${caller.role} ${caller.name} may not ${what} (needs ${roles.join(' or ')})`);
}

/** Users act only on their own jobs, admins on all. */
export function requireJobAccess(caller: Caller, job: { id: string; owner: string }, what: string): void {
  requireRole(caller, ['user', 'admin'], what);
  if (caller === 'insecure' || caller.role === 'admin' || job.owner === caller.name) return;
  throw new PermissionDeniedError(`job ${job.id} belongs to ${job.owner}: user ${caller.name} may not ${what} it`);
}

export function seesJob(caller: Caller, job: { owner: string }): boolean {
  return caller === 'insecure' || caller.role === 'admin' || (caller.role === 'user' && job.owner === caller.name);
}

/**
 * The owner a submit records: the caller's own name; an admin may submit on behalf of someone
 * (`--owner`), a user may not.
 */
export function ownerFor(caller: Caller, requested: string): string {
  requireRole(caller, ['user', 'admin'], 'submit jobs');
  if (caller === 'insecure') return requested;
  if (!requested || requested === caller.name) return caller.name;
  if (caller.role === 'admin') return requested;
  throw new PermissionDeniedError(`user ${caller.name} may not submit jobs owned by ${requested.slice(0, 100)} (only admins may give --owner)`);
}

/** A site's own operator (its certificate) or an admin acts on the site's nodes. */
export function requireSiteOperator(caller: Caller, site: string, what: string): void {
  if (caller === 'insecure' || caller.role === 'admin') return;
  if (caller.role === 'site' && caller.name === site) return;
  throw new PermissionDeniedError(`${caller.role} ${caller.name} may not ${what} on site ${site.slice(0, 100)} (only its site certificate or an admin)`);
}

/** An agent registers, heartbeats and reports only under the name its certificate carries. */
export function requireSelf(caller: Caller, site: string): void {
  if (caller === 'insecure') return;
  if (caller.role === 'site' && caller.name === site) return;
  throw new PermissionDeniedError(
    caller.role === 'site'
      ? `site certificate ${caller.name} may not speak for site ${site.slice(0, 100)}`
      : `${caller.role} ${caller.name} is not a site: only agents with a site certificate may register`,
  );
}
