// The simulated writers: idempotent acks=all writers (a writer id, a sequence per batch, one batch in
// flight, the same batch resent until it is acknowledged, as the SDK's writer does with
// max-in-flight 1). Each batch carries one client record (1-3 offsets). A writer sends to the leader
// ZooKeeper names (fresh metadata) or, now and then, to a random replica (stale metadata: a deposed
// leader may still accept the write). Every acknowledgement received must match what the leader
// decided when it acknowledged (the checker's record).

import type { FlussError } from "@fluss-ts/common";
import { NO_LEADER, type ServerId } from "../../../src/replication/types.ts";
import type { Checker } from "./checker.ts";
import { CLIENT, type Message } from "./messages.ts";
import type { Network } from "./network.ts";
import type { SimCoordinator } from "./sim-coordinator.ts";
import type { Rng, World } from "./world.ts";

interface Writer {
  readonly writerId: number;
  readonly bucket: number;
  seq: number;
  recordId: number;
  count: number;
  remaining: number;
  attempt: number;
}

export interface ClientParams {
  readonly writersPerBucket: number;
  readonly recordsPerWriter: number;
  readonly requestTimeoutMs: number;
  readonly staleMetadataRate: number;
}

export class SimClient {
  private readonly writers: Writer[] = [];
  private readonly pending = new Map<number, { writer: Writer; attempt: number }>();
  private nextId = 1;
  private nextRecord = 1;
  acknowledged = 0;
  private readonly world: World;
  private readonly rng: Rng;
  private readonly net: Network;
  private readonly checker: Checker;
  private readonly coordinator: SimCoordinator;
  private readonly params: ClientParams;

  constructor(
    world: World,
    rng: Rng,
    net: Network,
    checker: Checker,
    coordinator: SimCoordinator,
    params: ClientParams,
  ) {
    this.world = world;
    this.rng = rng;
    this.net = net;
    this.checker = checker;
    this.coordinator = coordinator;
    this.params = params;
    net.register(CLIENT, {
      deliver: (_from, m) => this.onAnswer(m as Message),
      isUp: () => true,
      incarnation: () => 0,
      pausedUntil: () => Number.NEGATIVE_INFINITY,
    });
    let writerId = 1;
    for (const bucket of coordinator.assignment.keys()) {
      for (let i = 0; i < params.writersPerBucket; i++) {
        this.writers.push({
          writerId: writerId++,
          bucket,
          seq: 0,
          recordId: 0,
          count: 1,
          remaining: params.recordsPerWriter,
          attempt: 0,
        });
      }
    }
  }

  start(): void {
    for (const w of this.writers) {
      this.newRecord(w);
      this.world.schedule(this.rng.int(0, 50), () => this.send(w));
    }
  }

  get done(): boolean {
    return this.writers.every((w) => w.remaining === 0);
  }

  /** Records still waiting for an acknowledgement. */
  get waiting(): number {
    return this.writers.reduce((n, w) => n + w.remaining, 0);
  }

  private newRecord(w: Writer): void {
    w.recordId = this.nextRecord++;
    w.count = this.rng.int(1, 3);
  }

  private target(bucket: number): ServerId | null {
    const replicas = this.coordinator.assignment.get(bucket) ?? [];
    const leader = this.coordinator.records.get(bucket)?.leader ?? NO_LEADER;
    if (leader === NO_LEADER || this.rng.chance(this.params.staleMetadataRate))
      return this.rng.pick(replicas);
    return leader;
  }

  private send(w: Writer): void {
    if (w.remaining === 0) return;
    const to = this.target(w.bucket);
    if (to === null) {
      this.retry(w);
      return;
    }
    const id = this.nextId++;
    const attempt = ++w.attempt;
    this.pending.set(id, { writer: w, attempt });
    this.net.send(CLIENT, to, {
      kind: "produce",
      id,
      bucket: w.bucket,
      writerId: w.writerId,
      seq: w.seq,
      recordId: w.recordId,
      count: w.count,
    });
    this.world.schedule(this.params.requestTimeoutMs, () => {
      if (this.pending.delete(id) && w.attempt === attempt) this.send(w);
    });
  }

  private retry(w: Writer): void {
    this.world.schedule(this.rng.int(10, 100), () => this.send(w));
  }

  private onAnswer(m: Message): void {
    if (m.kind !== "produce-resp") return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    const w = p.writer;
    if (w.attempt !== p.attempt) return; // an answer to an attempt already given up on
    if (m.error !== null) {
      this.failed(w, m.error);
      return;
    }
    const decided = this.checker.acked.get(w.recordId);
    if (decided === undefined || decided.base !== m.base) {
      this.checker.fail(`record ${w.recordId} acknowledged at ${m.base}, decided ${decided?.base}`);
    }
    this.acknowledged++;
    w.seq++;
    w.remaining--;
    this.newRecord(w);
    this.world.schedule(this.rng.int(0, 30), () => this.send(w));
  }

  private failed(w: Writer, _error: FlussError): void {
    w.attempt++;
    this.retry(w);
  }
}
