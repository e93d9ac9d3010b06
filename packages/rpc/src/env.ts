// The seams through which rpc reaches the outside world besides sockets: a logger (pino-compatible
// call shape, no pino dependency) and timers (injectable so timeout tests need no real waiting).

/** Structured logger: `(fields, message)`, the shape pino's methods accept. */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  /** For a broken invariant just before the process crashes (pino has it); `error` when absent. */
  fatal?(obj: object, msg: string): void;
}

const noop = (): void => {};

/** A logger that drops everything. */
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** An opaque handle returned by `Timers.setTimeout`. */
export type TimerHandle = unknown;

/** Timers used for request, connect and close timeouts. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process's real timers; timers are unref'd so a pending timeout never keeps Node alive. */
export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
