// Runs async tasks one at a time, in submission order: the coordinator's event queue. A task's check
// and the mutation it guards happen inside one task, so no other task interleaves between them.
// The queue is bounded; a full queue refuses new work instead of growing without limit.

import { Errors, FlussError } from "@fluss-ts/common";

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  readonly pendingMax: number;

  constructor(pendingMax = 10_000) {
    this.pendingMax = pendingMax;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.pending >= this.pendingMax) {
      return Promise.reject(
        new FlussError(Errors.STORAGE_BACKPRESSURE_EXCEPTION, "coordinator event queue is full"),
      );
    }
    this.pending++;
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.pending--;
    });
  }
}
