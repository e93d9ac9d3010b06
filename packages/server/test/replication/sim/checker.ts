// The simulator's invariants, checked as the run goes (the first violation stops it):
//  1. every acknowledged (acks=all) record is, on every replica that becomes leader, present
//     exactly once and at the offset it was acknowledged at (checked at each takeover and at the end);
//     a takeover of epoch E needs the records acknowledged in epochs up to E (a deposed server that
//     only now hears of an old epoch it was elected in cannot acknowledge anything: its ISR has moved on);
//  2. replicas agree below the high watermark: the first replica whose high watermark passes a batch
//     fixes what that offset holds, and every other replica passing it must hold the same batch;
//  3. no replica cuts below its high watermark (neither a truncation nor a crash: a crash losing
//     data below the high watermark means the high watermark counted unflushed data);
//  4. a leader's high watermark never goes back (asserted inside LeaderReplica; any assertion
//     failing in the run is a violation too);
//  5. leader epochs: each new leadership record of a bucket has a leader epoch not below the last,
//     strictly above it when the leader changes, a higher bucket epoch, and at most one server ever
//     leads a given (bucket, epoch);
//  6. the ISR always contains the leader (records here; LeaderReplica asserts its own view).

import type { LeaderAndIsr, ServerId } from "../../../src/replication/types.ts";
import type { SimBatch, SimLog } from "./sim-log.ts";

export class Violation extends Error {}

interface Acked {
  readonly bucket: number;
  readonly base: bigint;
  readonly count: number;
  /** The leader epoch of the leader that acknowledged it. */
  readonly epoch: number;
}

export class Checker {
  readonly acked = new Map<number, Acked>();
  private readonly committed = new Map<string, SimBatch>();
  private readonly verified = new Map<SimLog, bigint>();
  private readonly epochLeaders = new Map<string, ServerId>();
  private readonly bucketOf = new Map<SimLog, number>();
  checks = 0;

  fail(message: string): never {
    throw new Violation(message);
  }

  track(log: SimLog, bucket: number): void {
    this.bucketOf.set(log, bucket);
    this.verified.set(log, 0n);
  }

  onHighWatermark(log: SimLog, _from: bigint, to: bigint): void {
    const bucket = this.bucketOf.get(log) ?? -1;
    let at = this.verified.get(log) ?? 0n;
    if (at >= to) return;
    for (const b of log.read(at, Number.MAX_SAFE_INTEGER)) {
      if (b.base + BigInt(b.count) > to) break;
      const key = `${bucket}:${b.base}`;
      const seen = this.committed.get(key);
      if (seen === undefined) this.committed.set(key, b);
      else if (seen.recordId !== b.recordId || seen.count !== b.count) {
        this.fail(
          `${log.name}: offset ${b.base} below the high watermark ${to} holds record ${b.recordId} (${b.count} offsets) where another replica committed record ${seen.recordId} (${seen.count})`,
        );
      }
      at = b.base + BigInt(b.count);
      this.checks++;
    }
    this.verified.set(log, at);
  }

  onTruncate(log: SimLog, to: bigint, kind: "truncate" | "full" | "crash"): void {
    if (kind !== "full" && to < log.highWatermark) {
      this.fail(
        kind === "crash"
          ? `${log.name}: a crash lost offsets from ${to} below the high watermark ${log.highWatermark} (the high watermark counted unflushed data)`
          : `${log.name}: truncated to ${to}, below its high watermark ${log.highWatermark}`,
      );
    }
    const v = this.verified.get(log) ?? 0n;
    if (to < v) this.verified.set(log, to);
  }

  /** A leader decided an acks=all write is committed. */
  onAck(bucket: number, epoch: number, recordId: number, base: bigint, count: number, leader: SimLog): void {
    const b = leader.batchAt(base);
    if (b === undefined || b.recordId !== recordId || b.count !== count) {
      this.fail(
        `${leader.name}: acknowledged record ${recordId} at ${base}, but the log holds ${b?.recordId} there`,
      );
    }
    const before = this.acked.get(recordId);
    if (before !== undefined && (before.base !== base || before.bucket !== bucket)) {
      this.fail(`record ${recordId} acknowledged at offset ${base} and before at ${before.base}`);
    }
    this.acked.set(recordId, { bucket, base, count, epoch: Math.max(epoch, before?.epoch ?? -1) });
  }

  /** `log` (of `bucket`, on `server`) now leads `epoch`: it must hold every acknowledged record once. */
  onBecomeLeader(bucket: number, server: ServerId, epoch: number, log: SimLog): void {
    const key = `${bucket}:${epoch}`;
    const other = this.epochLeaders.get(key);
    if (other !== undefined && other !== server) {
      this.fail(`servers ${other} and ${server} both led bucket ${bucket} in epoch ${epoch}`);
    }
    this.epochLeaders.set(key, server);
    this.checkHoldsAcked(bucket, log, `${log.name} taking over epoch ${epoch}`, epoch);
  }

  /** `log` holds, once and at its offset, every record of `bucket` acknowledged in an epoch up to `epoch`. */
  checkHoldsAcked(bucket: number, log: SimLog, when: string, epoch = Number.MAX_SAFE_INTEGER): void {
    const seen = new Map<number, number>();
    for (const b of log.batches) seen.set(b.recordId, (seen.get(b.recordId) ?? 0) + 1);
    for (const [recordId, a] of this.acked) {
      if (a.bucket !== bucket || a.epoch > epoch) continue;
      const n = seen.get(recordId) ?? 0;
      if (n !== 1) this.fail(`${when}: acknowledged record ${recordId} is present ${n} times`);
      const b = log.batchAt(a.base);
      if (b?.recordId !== recordId) {
        this.fail(
          `${when}: acknowledged record ${recordId} is not at its offset ${a.base} (found ${b?.recordId})`,
        );
      }
      this.checks++;
    }
  }

  /** The coordinator records a new leadership for `bucket`. */
  onRecord(bucket: number, before: LeaderAndIsr | undefined, next: LeaderAndIsr): void {
    if (next.leader !== -1 && !next.isr.includes(next.leader)) {
      this.fail(`bucket ${bucket}: leader ${next.leader} is not in its ISR ${next.isr}`);
    }
    if (before === undefined) return;
    if (next.leaderEpoch < before.leaderEpoch) this.fail(`bucket ${bucket}: leader epoch went back`);
    if (next.leader !== before.leader && next.leaderEpoch <= before.leaderEpoch) {
      this.fail(`bucket ${bucket}: leader changed ${before.leader} -> ${next.leader} without a new epoch`);
    }
    if (next.bucketEpoch <= before.bucketEpoch) this.fail(`bucket ${bucket}: bucket epoch did not increase`);
  }
}
