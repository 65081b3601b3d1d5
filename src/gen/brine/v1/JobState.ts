// Original file: proto/brine/v1/types.proto

export const JobState = {
  JOB_STATE_UNSPECIFIED: 'JOB_STATE_UNSPECIFIED',
  PENDING: 'PENDING',
  DEPLOYING: 'DEPLOYING',
  RUNNING: 'RUNNING',
  CHECKPOINTING: 'CHECKPOINTING',
  SUSPENDING: 'SUSPENDING',
  SUSPENDED: 'SUSPENDED',
  RESUMING: 'RESUMING',
  RELOCATING: 'RELOCATING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;

export type JobState =
  | 'JOB_STATE_UNSPECIFIED'
  | 0
  | 'PENDING'
  | 1
  | 'DEPLOYING'
  | 2
  | 'RUNNING'
  | 3
  | 'CHECKPOINTING'
  | 4
  | 'SUSPENDING'
  | 5
  | 'SUSPENDED'
  | 6
  | 'RESUMING'
  | 7
  | 'RELOCATING'
  | 8
  | 'COMPLETED'
  | 9
  | 'FAILED'
  | 10
  | 'CANCELLED'
  | 11

export type JobState__Output = typeof JobState[keyof typeof JobState]
