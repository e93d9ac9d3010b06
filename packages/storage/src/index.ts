// Public entry of @fluss-ts/storage: the log tablet of one bucket (segments, indexes, recovery,
// retention, idempotent writers). Segment and index internals are not exported.
export {
  type FlushMode,
  type FlushPolicy,
  type LogConfig,
  type LogConfigInput,
  resolveLogConfig,
  type Scheduler,
  systemScheduler,
} from "./log/config.ts";
export { LogTablet } from "./log/log-tablet.ts";
export type {
  AppendInfo,
  AppendOptions,
  LogEvent,
  LogListener,
  LogTabletOptions,
  LogTabletStats,
  ReadResult,
} from "./log/types.ts";
