// A writer's record of partitions that may have been dropped under it. When a bucket of a
// partition refuses a batch with a retriable error, the writer `suspect`s the partition: its
// current id is asked for (the context's partitionIdNow: same id, the id of a partition
// re-created under its name, or null when gone) at most once per CHECK_INTERVAL_MS per partition,
// and the partition's buckets send nothing while the answer is pending. A changed id is kept as a
// move (`redirect` follows moves, so rows routed with a stale id go to the successor, or are
// refused when the partition is gone) and reported to the writer, which re-targets or fails the
// batches it holds for the old id. Every map here is bounded.

import type { Clock } from "@fluss-ts/common";

/** Least time between two checks of one partition (a retry storm asks once a second at most). */
export const CHECK_INTERVAL_MS = 1000;
/** Moves remembered (oldest forgotten first), and partitions whose last check time is kept. */
const MOVES_MAX = 10_000;
const CHECK_TIMES_MAX = 10_000;

export type PartitionIdNow = (partitionId: bigint) => Promise<bigint | null>;

export class PartitionMoves {
  private readonly idNow: PartitionIdNow | undefined;
  private readonly clock: Clock;
  private readonly onChecked: (from: bigint, to: bigint | null) => void;
  private readonly checking = new Set<bigint>();
  private readonly moved = new Map<bigint, bigint | null>();
  private readonly checkedMs = new Map<bigint, number>();

  constructor(
    idNow: PartitionIdNow | undefined,
    clock: Clock,
    onChecked: (from: bigint, to: bigint | null) => void,
  ) {
    this.idNow = idNow;
    this.clock = clock;
    this.onChecked = onChecked;
  }

  /** True while the partition's id is being checked (its buckets wait). */
  held(partitionId: bigint | null): boolean {
    return partitionId !== null && this.checking.size > 0 && this.checking.has(partitionId);
  }

  /** A bucket of the partition refused a batch: check where the partition is now. */
  suspect(partitionId: bigint): void {
    const idNow = this.idNow;
    if (idNow === undefined || this.checking.has(partitionId) || this.moved.has(partitionId)) return;
    const nowMs = this.clock.nowMs();
    const last = this.checkedMs.get(partitionId);
    if (last !== undefined && nowMs - last < CHECK_INTERVAL_MS) return;
    if (this.checkedMs.size >= CHECK_TIMES_MAX) this.checkedMs.clear();
    this.checkedMs.set(partitionId, nowMs);
    this.checking.add(partitionId);
    idNow(partitionId).then(
      (to) => this.settle(partitionId, to),
      // Not known now (e.g. the coordinator is unreachable): the batches retry as before.
      () => this.settle(partitionId, partitionId),
    );
  }

  private settle(from: bigint, to: bigint | null): void {
    this.checking.delete(from);
    if (to !== from) {
      if (this.moved.size >= MOVES_MAX) this.moved.delete(this.moved.keys().next().value as bigint);
      this.moved.set(from, to);
    }
    this.onChecked(from, to);
  }

  /** Where rows for `partitionId` go now: itself, the partition that succeeded it, or null (gone). */
  redirect(partitionId: bigint): bigint | null {
    if (this.moved.size === 0) return partitionId;
    let id: bigint | null = partitionId;
    // A successor may have been dropped and re-created too; moves never form a cycle (ids are new).
    for (let hops = 0; id !== null && hops < MOVES_MAX; hops++) {
      const to = this.moved.get(id);
      if (to === undefined) return id;
      id = to;
    }
    return id;
  }
}
