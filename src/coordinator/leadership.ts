// Leadership among coordinators sharing one etcd (`store: etcd`): each campaigns in an etcd
// election whose key lives as long as its lease; the one elected leads, the others wait as
// standbys. The leader's campaign key (with its create revision) guards every state write
// (./etcd-backend.ts), so a coordinator whose lease lapsed cannot write; once it learns it lost
// (its lease, or a guarded write refused) it must stop acting at once: the process exits and a
// supervisor starts it again as a standby. A graceful stop resigns, so a standby leads at once.
import { Etcd3, type Campaign } from 'etcd3';
import type { Logger } from '../shared/logger.js';
import { errorMessage } from '../shared/errors.js';
import { LeadershipLostError, type LeaderGuard } from './etcd-backend.js';

export interface EtcdSettings {
  endpoints: string[];
  /** every key of this grid is under it */
  prefix: string;
  /** the leader's lease, in seconds: how long a dead leader's leadership outlives it */
  leaseTtlS: number;
}

export class Leadership {
  private lostWith: LeadershipLostError | undefined;
  private readonly listeners: Array<(err: LeadershipLostError) => void> = [];

  private constructor(
    readonly etcd: Etcd3,
    private readonly campaign: Campaign,
    readonly guard: LeaderGuard,
    private readonly log: Logger,
  ) {}

  /** Campaigns; resolves once this coordinator leads (standbys wait here, logging who leads). */
  static async acquire(settings: EtcdSettings, value: string, log: Logger): Promise<Leadership> {
    const etcd = new Etcd3({ hosts: settings.endpoints, dialTimeout: 3000 });
    const election = etcd.namespace(settings.prefix).election('leader', settings.leaseTtlS);
    const observer = await election.observe();
    const current = observer.leader();
    if (current !== undefined) log.info({ leader: current }, 'standby: another coordinator leads; waiting to take over');
    observer.on('change', (leader: string | undefined) => {
      // our own election shows up here too: that one is logged as `elected leader`
      if (leader !== undefined && leader !== value) log.info({ leader }, 'standby: another coordinator leads; waiting to take over');
    });
    observer.on('error', (err: Error) => log.warn({ err: err.message }, 'standby: watching the leader failed'));
    const campaign = election.campaign(value);
    try {
      await campaign.wait();
    } finally {
      await observer.cancel();
    }
    const key = await campaign.getCampaignKey();
    const kv = (await etcd.get(key).exec()).kvs[0];
    if (!kv) throw new LeadershipLostError(`its campaign key ${key} vanished as it was elected`);
    const leadership = new Leadership(etcd, campaign, { key, createRevision: String(kv.create_revision) }, log);
    campaign.on('error', (err: Error) => leadership.lose(new LeadershipLostError(`its etcd lease was lost: ${err.message}`)));
    log.info({ key, revision: leadership.guard.createRevision, ttlS: settings.leaseTtlS }, 'elected leader');
    return leadership;
  }

  /** `fn` runs once, when the leadership is lost (a lapsed lease, a refused write). */
  onLost(fn: (err: LeadershipLostError) => void): void {
    if (this.lostWith) fn(this.lostWith);
    else this.listeners.push(fn);
  }

  lose(err: LeadershipLostError): void {
    if (this.lostWith) return;
    this.lostWith = err;
    this.log.error({ err: err.message }, 'leadership lost');
    for (const fn of this.listeners.splice(0)) fn(err);
  }

  /** Gives the leadership up (a standby takes over at once) and closes the etcd client. */
  async resign(): Promise<void> {
    try {
      if (!this.lostWith) await this.campaign.resign();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'resigning failed: a standby takes over once the lease lapses');
    }
    this.etcd.close();
  }
}
