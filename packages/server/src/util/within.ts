// Wait for a promise at most `timeoutMs` (a timer on the injected Scheduler): the value, or
// "timeout". The promise keeps running after a timeout; its later failure is ignored here (the
// caller owns it).

import type { Scheduler } from "@fluss-ts/common";

export const TIMED_OUT = Symbol("timed out");

export function within<T>(
  p: Promise<T>,
  timeoutMs: number,
  scheduler: Scheduler,
): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const timer = scheduler.setTimeout(() => resolve(TIMED_OUT), Math.max(0, timeoutMs));
    timer.unref();
    p.then(
      (v) => {
        scheduler.clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        scheduler.clearTimeout(timer);
        reject(err);
      },
    );
  });
}
