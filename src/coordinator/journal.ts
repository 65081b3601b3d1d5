// The coordinator's append-only journal: one file per generation (`journal.<gen>`), one record
// per group commit. A record is framed as [u32 length][u32 crc32 of the payload][payload: JSON],
// little-endian. Reading stops at a torn tail (a crash mid-append: the record never reached
// fdatasync, so nobody was told it was durable) and truncates it away; a record that fails its
// CRC or its schema with more data after it is corruption, reported with the file and offset.
import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { BrineError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { journalRecordSchema, type JournalRecord } from './state-schema.js';

const HEADER = 8;
const FILE_RE = /^journal\.(\d{1,15})$/;

/** A persisted state file that cannot be used as it is: the coordinator stops, saying what to do. */
export class StateFileError extends BrineError {
  constructor(
    readonly file: string,
    what: string,
    todo = 'restore it (or the whole data dir) from a backup, or move the data dir away and start with --init to begin a new, empty grid',
  ) {
    super('FAILED_PRECONDITION', `coordinator state ${file}: ${what}; ${todo}`);
  }
}

export function journalFile(dir: string, gen: number): string {
  return join(dir, `journal.${gen}`);
}

/** The journal generations present in `dir`, ascending. */
export async function journalGenerations(dir: string): Promise<number[]> {
  const gens: number[] = [];
  for (const name of await readdir(dir)) {
    const m = FILE_RE.exec(name);
    if (m?.[1]) gens.push(Number(m[1]));
  }
  return gens.sort((a, b) => a - b);
}

export function encodeRecord(record: JournalRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8');
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER);
  return out;
}

export interface ReadResult {
  records: JournalRecord[];
  /** bytes of whole, valid records (where the next record goes) */
  validLength: number;
  /** a torn tail was found (and not counted in validLength) */
  torn: boolean;
}

function allZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Parses a whole journal file's bytes. */
export function decodeJournal(file: string, buf: Buffer): ReadResult {
  const records: JournalRecord[] = [];
  let off = 0;
  while (off < buf.length) {
    const tornAt = (): ReadResult => ({ records, validLength: off, torn: true });
    if (off + HEADER > buf.length) return tornAt();
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    const end = off + HEADER + len;
    // a header of zeros up to the end: space the file system allocated for an append that never landed
    if (len === 0 && allZero(buf, off)) return tornAt();
    if (end > buf.length) return tornAt();
    const payload = buf.subarray(off + HEADER, end);
    if (crc32(payload) !== crc) {
      if (end === buf.length || allZero(buf, end)) return tornAt();
      throw new StateFileError(file, `record at offset ${off} is corrupt (checksum mismatch) with ${buf.length - end} bytes after it`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      throw new StateFileError(file, `record at offset ${off} is not JSON (${(err as Error).message})`);
    }
    const checked = journalRecordSchema.safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new StateFileError(file, `record at offset ${off} has the wrong shape (${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'})`);
    }
    records.push(checked.data);
    off = end;
  }
  return { records, validLength: off, torn: false };
}

export async function readJournal(file: string): Promise<ReadResult> {
  const fh = await open(file, 'r');
  try {
    return decodeJournal(file, await fh.readFile());
  } finally {
    await fh.close();
  }
}

/** The open generation records are appended to; every append is fdatasync'ed before it resolves. */
export class JournalWriter {
  private constructor(
    readonly file: string,
    readonly gen: number,
    private readonly fh: FileHandle,
    private position: number,
  ) {}

  /** Opens `gen` for appending after its first `validLength` bytes (a torn tail is cut off). */
  static async open(dir: string, gen: number, validLength = 0, log?: Logger): Promise<JournalWriter> {
    const file = journalFile(dir, gen);
    const fh = await open(file, 'a+').then(async (h) => {
      await h.close();
      return open(file, 'r+');
    });
    const { size } = await fh.stat();
    if (size > validLength) {
      log?.warn({ file, offset: validLength, bytes: size - validLength }, 'journal: dropping a torn last record (a crash during its append; it was never acknowledged)');
      await fh.truncate(validLength);
      await fh.datasync();
    }
    return new JournalWriter(file, gen, fh, validLength);
  }

  get size(): number {
    return this.position;
  }

  async append(buf: Buffer): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += buf.length;
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

export async function removeJournal(dir: string, gen: number): Promise<void> {
  await unlink(journalFile(dir, gen));
}
