// The coordinator's ids, behind an interface so that tests name jobs and snapshots predictably.
import { randomBytes } from 'node:crypto';

export interface Ids {
  job(): string;
  snapshot(): string;
  session(): string;
}

export function randomSnapshotId(): string {
  return 's' + BigInt('0x' + randomBytes(6).toString('hex')).toString(36).padStart(10, '0');
}

export function randomJobId(): string {
  // 40 random bits in base32-ish lowercase: short enough for domain names, never reused in practice.
  return 'j' + BigInt('0x' + randomBytes(5).toString('hex')).toString(36).padStart(8, '0');
}

export const randomIds: Ids = {
  job: randomJobId,
  snapshot: randomSnapshotId,
  session: () => randomBytes(12).toString('hex'),
};
