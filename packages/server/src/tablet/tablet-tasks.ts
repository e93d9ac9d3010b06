// Periodic work of a tablet server, on the injected Scheduler: log retention (delete closed
// segments older than each table's `table.log.ttl`) and KV snapshots of the buckets it leads.
// A failure is logged and the next round tries again; a failed assertion crashes (background.ts).
// Invariant: after `stop()` no round starts.

import { logOptionsOf, type Scheduler, type TimerHandle } from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import { backgroundFailure } from "../util/background.ts";
import type { ReplicaManager } from "./replica-manager.ts";

export class TabletTasks {
  private readonly replicas: ReplicaManager;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly timers: TimerHandle[] = [];

  constructor(replicas: ReplicaManager, scheduler: Scheduler, logger: Logger) {
    this.replicas = replicas;
    this.scheduler = scheduler;
    this.logger = logger;
  }

  startRetention(intervalMs: number): void {
    this.every(intervalMs, () => this.enforceRetention(), "log retention");
  }

  startKvSnapshots(intervalMs: number): void {
    this.every(intervalMs, () => this.snapshotKvTablets(), "kv snapshot");
  }

  private every(intervalMs: number, task: () => Promise<unknown>, what: string): void {
    const t = this.scheduler.setInterval(() => {
      task().catch(backgroundFailure(this.logger, what));
    }, intervalMs);
    t.unref();
    this.timers.push(t);
  }

  /** Delete closed segments older than each table's `table.log.ttl`. */
  async enforceRetention(): Promise<number> {
    let deleted = 0;
    for (const r of [...this.replicas.all()]) {
      const { ttlMs } = logOptionsOf(r.table.descriptor);
      deleted += await r.log.deleteExpiredSegments(ttlMs);
    }
    return deleted;
  }

  /** Snapshot every KV tablet this server leads (the periodic task, and on demand in tests). */
  async snapshotKvTablets(): Promise<number> {
    let n = 0;
    for (const r of [...this.replicas.all()]) {
      if (!r.kv || !r.isLeader) continue;
      await r.kv.snapshot();
      n++;
    }
    return n;
  }

  stop(): void {
    for (const t of this.timers.splice(0)) this.scheduler.clearInterval(t);
  }
}
