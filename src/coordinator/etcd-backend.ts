// The etcd backend (./state-backend.ts) for `store: etcd`: several coordinators share one state,
// and only the leader (./leadership.ts) writes it. Keys under the configured prefix:
//   journal/<seq>                 — one journal record (JSON) per group commit
//   snapshot/<cut>/<hot|archive>/<i> — a snapshot's JSON text in parts (etcd limits a request's size)
//   head                          — {cut, hot, archive}: the snapshot in use and its part counts
// Every write is one etcd transaction guarded by the leader's campaign key (its create revision):
// a coordinator that lost its leadership cannot write a byte, and its commit fails. Compaction
// writes the parts, then one transaction moves `head` and deletes the records and older parts.
import { z } from 'zod';
import type { Etcd3, IKeyValue, IOperation } from 'etcd3';
import { BrineError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { parseJsonAs } from '../shared/json.js';
import { StateFileError } from './journal.js';
import { archiveDataSchema, hotDataSchema, journalRecordSchema, type JournalRecord } from './state-schema.js';
import type { ArchiveData, HotData } from './state-types.js';
import { emptyHot, type LoadedState, type Serializer, type StateBackend } from './state-backend.js';

/** The leader's campaign key: writes happen only while it exists with this create revision. */
export interface LeaderGuard {
  key: string;
  createRevision: string;
}

/** This coordinator is no longer the leader: it must stop (./leadership.ts). */
export class LeadershipLostError extends BrineError {
  constructor(what: string) {
    super('UNAVAILABLE', `this coordinator is no longer the leader (${what}); another coordinator leads: retry there`);
  }
}

const PART_CHARS = 512 * 1024;
const PAGE = 500;
const headSchema = z.strictObject({ cut: z.number().int().nonnegative(), hot: z.number().int().nonnegative(), archive: z.number().int().nonnegative() });

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const pad = (n: number): string => String(n).padStart(16, '0');

export class EtcdBackend implements StateBackend {
  private appended = 0;
  private lastSeq = 0;
  private cutAt = 0;

  private constructor(
    private readonly etcd: Etcd3,
    private readonly prefix: string,
    private readonly guard: LeaderGuard,
    private readonly onLost: (err: LeadershipLostError) => void,
  ) {}

  private key(...parts: string[]): string {
    return this.prefix + parts.join('/');
  }

  /** Reads the state under `prefix`; `guard` is this coordinator's leadership. */
  static async open(etcd: Etcd3, prefix: string, guard: LeaderGuard, onLost: (err: LeadershipLostError) => void, log?: Logger): Promise<{ backend: EtcdBackend; loaded: LoadedState }> {
    const b = new EtcdBackend(etcd, prefix, guard, onLost);
    const where = (k: string): string => `etcd key ${k}`;
    const headText = await etcd.get(b.key('head')).string();
    let hot: HotData = emptyHot();
    let archive: ArchiveData = { version: 1, jobs: {} };
    let cut = 0;
    let snapshotBytes = 0;
    if (headText !== null) {
      const head = parseJsonAs(headSchema, headText);
      if (!head.ok) throw new StateFileError(where(b.key('head')), `not a valid snapshot head (${head.problem})`);
      cut = head.data.cut;
      const read = async (which: 'hot' | 'archive', parts: number): Promise<string> => {
        const texts: string[] = [];
        for (let i = 0; i < parts; i++) {
          const k = b.key('snapshot', pad(cut), which, String(i).padStart(6, '0'));
          const t = await etcd.get(k).string();
          if (t === null) throw new StateFileError(where(k), `missing: the snapshot of cut ${cut} has ${parts} parts`);
          texts.push(t);
        }
        const text = texts.join('');
        snapshotBytes += Buffer.byteLength(text);
        return text;
      };
      const hotChecked = parseJsonAs(hotDataSchema, await read('hot', head.data.hot));
      if (!hotChecked.ok) throw new StateFileError(where(b.key('snapshot', pad(cut), 'hot')), `not a valid coordinator state (${hotChecked.problem})`);
      const archiveChecked = parseJsonAs(archiveDataSchema, await read('archive', head.data.archive));
      if (!archiveChecked.ok) throw new StateFileError(where(b.key('snapshot', pad(cut), 'archive')), `not a valid coordinator state (${archiveChecked.problem})`);
      hot = hotChecked.data as HotData;
      archive = archiveChecked.data as ArchiveData;
    }
    const records: JournalRecord[] = [];
    let from = b.key('journal', pad(cut + 1));
    const end = b.key('journal', '~');
    for (;;) {
      const res = await etcd.getAll().inRange({ start: from, end }).sort('Key', 'Ascend').limit(PAGE).exec();
      for (const kv of res.kvs) {
        const k = kv.key.toString();
        const checked = parseJsonAs(journalRecordSchema, kv.value.toString());
        if (!checked.ok) throw new StateFileError(where(k), `not a valid journal record (${checked.problem})`);
        records.push(checked.data as JournalRecord);
      }
      const last: IKeyValue | undefined = res.kvs.at(-1);
      if (!res.more || !last) break;
      from = `${last.key.toString()}\0`;
    }
    if (records.length) log?.info({ records: records.length, cut }, 'etcd journal replayed');
    b.lastSeq = Math.max(cut, records.at(-1)?.seq ?? 0);
    b.cutAt = cut;
    return { backend: b, loaded: { hot, archive, records, hadState: headText !== null || records.length > 0, snapshotBytes } };
  }

  get size(): number {
    return this.appended;
  }

  get generation(): number {
    return this.cutAt;
  }

  /** One guarded transaction; a failed guard is a lost leadership (reported, then thrown). */
  private async guarded(what: string, ops: IOperation[]): Promise<void> {
    let res;
    try {
      res = await this.etcd.if(this.guard.key, 'Create', '==', this.guard.createRevision).then(...ops).commit();
    } catch (err) {
      throw new BrineError('UNAVAILABLE', `etcd did not take the ${what}: ${errorMessage(err)}; nothing was acknowledged, retry`, { cause: err });
    }
    if (!res.succeeded) {
      const lost = new LeadershipLostError(`its campaign key ${this.guard.key} is gone`);
      this.onLost(lost);
      throw lost;
    }
  }

  async append(record: JournalRecord): Promise<number> {
    const text = JSON.stringify(record);
    await this.guarded('journal record', [this.etcd.put(this.key('journal', pad(record.seq))).value(text)]);
    const bytes = Buffer.byteLength(text);
    this.appended += bytes;
    this.lastSeq = record.seq;
    return bytes;
  }

  async cut(): Promise<number> {
    this.appended = 0;
    return this.lastSeq;
  }

  async writeSnapshots(cut: number, serialize: Serializer): Promise<number> {
    let bytes = 0;
    const write = async (which: 'hot' | 'archive'): Promise<number> => {
      let part = 0;
      let buffered = '';
      const flush = async (): Promise<void> => {
        await this.guarded('snapshot part', [this.etcd.put(this.key('snapshot', pad(cut), which, String(part).padStart(6, '0'))).value(buffered)]);
        bytes += Buffer.byteLength(buffered);
        part++;
        buffered = '';
      };
      for await (const piece of serialize(which, cut)) {
        buffered += piece;
        while (buffered.length >= PART_CHARS) {
          // never between the two halves of a surrogate pair (each part is stored as UTF-8)
          const at = isHighSurrogate(buffered.charCodeAt(PART_CHARS - 1)) ? PART_CHARS - 1 : PART_CHARS;
          const rest = buffered.slice(at);
          buffered = buffered.slice(0, at);
          await flush();
          buffered = rest;
        }
      }
      if (buffered.length || part === 0) await flush();
      return part;
    };
    const archiveParts = await write('archive');
    const hotParts = await write('hot');
    await this.guarded('snapshot head', [
      this.etcd.put(this.key('head')).value(JSON.stringify({ cut, hot: hotParts, archive: archiveParts })),
      this.etcd.delete().inRange({ start: this.key('journal', ''), end: this.key('journal', pad(cut + 1)) }),
      this.etcd.delete().inRange({ start: this.key('snapshot', ''), end: this.key('snapshot', pad(cut)) }),
    ]);
    this.cutAt = cut;
    return bytes;
  }

  async close(): Promise<void> {
    // the etcd client belongs to the leadership (./leadership.ts), which closes it
  }
}
