// Transfer errors as the coordinator sees them on `FetchSnapshot` (status codes in the header of
// site-agent/transfer/fetch.ts): unreachable source → UNAVAILABLE, no such snapshot at the
// source → NOT_FOUND, a chunk whose content is not what its hash says → DATA_LOSS.
import { BrineError } from '../../src/shared/errors.js';

/** The source sent a chunk that does not decode to its hash (or lacks one it lists): not stored. */
export class TransferDataError extends BrineError {
  readonly chunk: string;
  readonly source: string;
  constructor(source: string, chunk: string, detail: string, cause?: unknown) {
    super('DATA_LOSS', `snapshot data from ${source} is damaged: ${detail}; the chunk was not stored, fetch from another replica`, { cause });
    this.chunk = chunk;
    this.source = source;
  }
}
