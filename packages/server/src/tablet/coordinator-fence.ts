// Which coordinator a tablet server obeys (Fluss's ReplicaManager.validateAndApplyCoordinatorEpoch):
// a control request (UpdateMetadata, NotifyLeaderAndIsr, StopReplica) from an older coordinator
// epoch is refused with INVALID_COORDINATOR_EXCEPTION; a newer epoch is adopted. Control requests
// run one at a time (`serially`), as Fluss's replica state changes do under one lock.
// Invariant: the adopted epoch never goes back.

import { Errors, FlussError } from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import { SerialQueue } from "../util/serial-queue.ts";

export class CoordinatorFence {
  private epoch = -1;
  private readonly logger: Logger;
  private readonly queue = new SerialQueue();

  constructor(logger: Logger) {
    this.logger = logger;
  }

  get coordinatorEpoch(): number {
    return this.epoch;
  }

  /** Refuse an older coordinator; adopt a newer one. */
  check(requestEpoch: number, what: string): void {
    if (requestEpoch < this.epoch) {
      throw new FlussError(
        Errors.INVALID_COORDINATOR_EXCEPTION,
        `${what} from coordinator epoch ${requestEpoch} refused: epoch ${this.epoch} is active`,
      );
    }
    if (requestEpoch > this.epoch) {
      if (this.epoch >= 0)
        this.logger.info({ from: this.epoch, to: requestEpoch }, "a new coordinator epoch");
      this.epoch = requestEpoch;
    }
  }

  /** Run a control request after the ones before it. */
  serially<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(task);
  }
}
