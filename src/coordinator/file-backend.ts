// The embedded default backend (./state-backend.ts): files under the data dir.
//   state.json    — lowdb snapshot of the hot set (live jobs, sites, leases, snapshot catalog)
//   archive.json  — lowdb snapshot of ended jobs
//   journal.<gen> — append-only journal replayed on top of both (./journal.ts)
// A cut opens a new generation; the snapshots are then rewritten atomically (temp file, fsync,
// rename, fsync the directory) naming it, and the older generations are deleted. A crash at any
// point leaves snapshots plus every generation they name.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import { parseJsonAs } from '../shared/json.js';
import { fileSize, pathExists } from '../shared/files.js';
import { encodeRecord, journalGenerations, JournalWriter, readJournal, removeJournal, StateFileError, journalFile } from './journal.js';
import { archiveDataSchema, hotDataSchema, type JournalRecord } from './state-schema.js';
import type { ArchiveData, HotData } from './state-types.js';
import { emptyHot, type LoadedState, type Serializer, type StateBackend } from './state-backend.js';

/** lowdb adapter that reads a snapshot file and validates it against its schema. */
export class ValidatedJsonFile<T> implements Adapter<T> {
  constructor(
    private readonly file: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const checked = parseJsonAs(this.schema, text, 'the whole file');
    if (!checked.ok) {
      throw new StateFileError(this.file, checked.problem.startsWith('not valid JSON') ? checked.problem : `not a valid coordinator state (${checked.problem})`);
    }
    return checked.data;
  }

  async write(data: T): Promise<void> {
    await writeAtomically(this.file, [JSON.stringify(data)]);
  }
}

/** Writes `parts` to `file` through a temp file, fsynced, renamed into place, directory fsynced. */
export async function writeAtomically(file: string, parts: Iterable<string> | AsyncIterable<string>): Promise<number> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  let bytes = 0;
  try {
    let buffered: string[] = [];
    let size = 0;
    const drain = async (): Promise<void> => {
      const buf = Buffer.from(buffered.join(''), 'utf8');
      buffered = [];
      size = 0;
      await fh.write(buf);
      bytes += buf.length;
    };
    for await (const part of parts) {
      buffered.push(part);
      size += part.length;
      if (size >= 256 << 10) await drain();
    }
    await drain();
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(dirname(file));
  return bytes;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class FileBackend implements StateBackend {
  private constructor(
    private readonly dir: string,
    private writer: JournalWriter,
  ) {}

  static async open(dataDir: string, log?: Logger): Promise<{ backend: FileBackend; loaded: LoadedState }> {
    await mkdir(dataDir, { recursive: true });
    const hotFile = join(dataDir, 'state.json');
    const archiveFile = join(dataDir, 'archive.json');
    const hotDb = new Low<HotData>(new ValidatedJsonFile<HotData>(hotFile, hotDataSchema as z.ZodType<HotData>), emptyHot());
    const archiveDb = new Low<ArchiveData>(new ValidatedJsonFile<ArchiveData>(archiveFile, archiveDataSchema as z.ZodType<ArchiveData>), { version: 1, jobs: {} });
    await hotDb.read();
    await archiveDb.read();
    const hot = hotDb.data;
    const archive = archiveDb.data;
    const gens = await journalGenerations(dataDir);
    const hotExists = hot.journal !== undefined || (await pathExists(hotFile));
    // the generation both snapshots are complete up to (archive.json is written first)
    const start = Math.min(hot.journal ?? 0, archive.journal ?? 0);
    if (!hotExists && (gens[0] ?? 0) > 0) {
      throw new StateFileError(hotFile, `missing, while the journal starts at generation ${gens[0]} (the records before it are only in the snapshot)`);
    }
    const replay = gens.filter((g) => g >= start);
    replay.forEach((g, i) => {
      if (g !== start + i) throw new StateFileError(journalFile(dataDir, start + i), `missing: the snapshots need every journal generation from ${start} on`);
    });
    const records: JournalRecord[] = [];
    let validLength = 0;
    for (const g of replay) {
      const file = journalFile(dataDir, g);
      const read = await readJournal(file);
      if (read.torn) log?.warn({ file, offset: read.validLength }, 'journal: a torn last record (crash during its append, never acknowledged) is dropped');
      records.push(...read.records);
      validLength = read.validLength;
    }
    const gen = replay.at(-1) ?? start;
    const writer = await JournalWriter.open(dataDir, gen, replay.length ? validLength : 0, log);
    if (!replay.length) await syncDir(dataDir);
    // generations older than both snapshots: a compaction stopped before deleting them
    for (const g of gens.filter((x) => x < start)) await removeJournal(dataDir, g);
    if (records.length) log?.info({ records: records.length, generations: replay.length }, 'journal replayed');
    const hadState = hotExists || (await pathExists(archiveFile)) || records.length > 0;
    const snapshotBytes = (await fileSize(hotFile)) + (await fileSize(archiveFile));
    return { backend: new FileBackend(dataDir, writer), loaded: { hot, archive, records, hadState, snapshotBytes } };
  }

  get size(): number {
    return this.writer.size;
  }

  get generation(): number {
    return this.writer.gen;
  }

  async append(record: JournalRecord): Promise<number> {
    const buf = encodeRecord(record);
    await this.writer.append(buf);
    return buf.length;
  }

  async cut(): Promise<number> {
    const next = this.writer.gen + 1;
    const writer = await JournalWriter.open(this.dir, next, 0);
    await syncDir(this.dir);
    const old = this.writer;
    this.writer = writer;
    await old.close();
    return next;
  }

  async writeSnapshots(cut: number, serialize: Serializer): Promise<number> {
    const archiveBytes = await writeAtomically(join(this.dir, 'archive.json'), serialize('archive', cut));
    const hotBytes = await writeAtomically(join(this.dir, 'state.json'), serialize('hot', cut));
    for (const g of await journalGenerations(this.dir)) if (g < cut) await removeJournal(this.dir, g);
    return archiveBytes + hotBytes;
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
