// Failure handler for work no request waits on (timers: KV snapshots, log retention, automatic
// partitions). An expected failure is logged at error and the next round tries again; a failed
// assertion is a bug: it is logged at fatal and rethrown outside any promise chain, so the process
// crashes (and a test runner reports it) instead of going on with a broken invariant.

import { isAssertionError } from "@fluss-ts/common";
import type { Logger } from "../logging.ts";

/** Throw `err` from a fresh macrotask: an uncaught exception, which ends the process. */
function rethrowUncaught(err: unknown): void {
  setImmediate(() => {
    throw err;
  });
}

/** A `.catch` handler for the background task `what` (`crash` is injectable for tests). */
export function backgroundFailure(
  logger: Logger,
  what: string,
  crash: (err: unknown) => void = rethrowUncaught,
): (err: unknown) => void {
  return (err: unknown) => {
    if (isAssertionError(err)) {
      logger.fatal({ err }, `${what}: invariant broken`);
      crash(err);
      return;
    }
    logger.error({ err }, `${what} failed`);
  };
}
