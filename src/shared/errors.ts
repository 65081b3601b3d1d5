// Typed errors: each carries a stable code, the field it is about (if any) and what to do.
// One mapping point to gRPC status (server side) and one back (client side), one to exit codes (CLI).
import { status, type ServiceError, Metadata } from '@grpc/grpc-js';

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'FAILED_PRECONDITION'
  | 'ALREADY_EXISTS'
  | 'UNAVAILABLE'
  | 'RESOURCE_EXHAUSTED'
  /** stored or sent data is not what its hash says (or is gone): retrying the same copy cannot help */
  | 'DATA_LOSS'
  /** the caller presented no valid grid certificate */
  | 'UNAUTHENTICATED'
  /** the caller's identity may not do this (its role, or not its job/site) */
  | 'PERMISSION_DENIED'
  | 'INTERNAL';

export class BrineError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.field = options.field;
  }
}

/** Bad input: the message names the field and says what is accepted. */
export class InvalidArgumentError extends BrineError {
  constructor(field: string, message: string) {
    super('INVALID_ARGUMENT', `${field}: ${message}`, { field });
  }
}

export class NotFoundError extends BrineError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} ${id} not found`);
  }
}

/** The operation is not allowed in the object's current state. */
export class NotAllowedError extends BrineError {
  constructor(message: string) {
    super('FAILED_PRECONDITION', message);
  }
}

export class AlreadyExistsError extends BrineError {
  constructor(message: string) {
    super('ALREADY_EXISTS', message);
  }
}

export class UnavailableError extends BrineError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause });
  }
}

export class UnauthenticatedError extends BrineError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

export class PermissionDeniedError extends BrineError {
  constructor(message: string) {
    super('PERMISSION_DENIED', message);
  }
}

export class InternalError extends BrineError {
  constructor(message: string, cause?: unknown) {
    super('INTERNAL', message, { cause });
  }
}

const toStatus: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  UNAVAILABLE: status.UNAVAILABLE,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  DATA_LOSS: status.DATA_LOSS,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  INTERNAL: status.INTERNAL,
};

/** Server side: any error → a gRPC error object; unknown errors become INTERNAL. */
export function toGrpcError(err: unknown): Partial<ServiceError> {
  const metadata = new Metadata();
  if (err instanceof BrineError) {
    if (err.field) metadata.set('brine-field', err.field);
    return { code: toStatus[err.code], details: err.message, metadata };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: status.INTERNAL, details: `internal error: ${message}`, metadata };
}

function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err && 'metadata' in err;
}

/** Client side: a gRPC error → the typed error it stands for. */
export function fromGrpcError(err: unknown, address?: string): BrineError {
  if (err instanceof BrineError) return err;
  if (!isServiceError(err)) return new InternalError(err instanceof Error ? err.message : String(err), err);
  const field = err.metadata.get('brine-field')[0]?.toString();
  const details = err.details || err.message;
  switch (err.code) {
    case status.INVALID_ARGUMENT:
      return new BrineError('INVALID_ARGUMENT', details, field ? { field } : {});
    case status.NOT_FOUND:
      return new BrineError('NOT_FOUND', details);
    case status.FAILED_PRECONDITION:
      return new BrineError('FAILED_PRECONDITION', details);
    case status.ALREADY_EXISTS:
      return new BrineError('ALREADY_EXISTS', details);
    case status.RESOURCE_EXHAUSTED:
      return new BrineError('RESOURCE_EXHAUSTED', details);
    case status.DATA_LOSS:
      return new BrineError('DATA_LOSS', details);
    case status.UNAUTHENTICATED:
      return new UnauthenticatedError(details);
    case status.PERMISSION_DENIED:
      return new PermissionDeniedError(details);
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new UnavailableError(
        `cannot reach ${address ?? 'the server'}: ${details}. Is it running? (set --coordinator or BRINE_COORDINATOR)`,
        err,
      );
    default:
      return new InternalError(details, err);
  }
}

/**
 * The CLI's exit codes (DESIGN.md): 2 invalid input, 3 not found, 4 wrong state, 5 unreachable;
 * 6 refused (not authenticated or not allowed), an addition named in the README's Security section.
 */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof BrineError)) return 1;
  switch (err.code) {
    case 'INVALID_ARGUMENT':
      return 2;
    case 'NOT_FOUND':
      return 3;
    case 'FAILED_PRECONDITION':
      return 4;
    case 'UNAVAILABLE':
      return 5;
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return 6;
    default:
      return 1;
  }
}

/** The message of anything thrown (an Error's message, else its string form), for logs and replies. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Stored or sent snapshot data that is not what its hashes say (or is gone): that copy is damaged. */
export function isDataLoss(err: unknown): boolean {
  return err instanceof BrineError && err.code === 'DATA_LOSS';
}
