// Storage support for replication: the leader-epoch cache (persisted, repaired at open, refused when
// garbled, unchanged on a full disk), follower appends (leader's offsets, timestamps and epochs kept,
// CRC and continuity checked, writer state recorded so a promoted follower dedupes), truncation of a
// divergent tail found through the end-offset-for-epoch query, and a full restart at a later offset.

import fs from "node:fs";
import path from "node:path";
import { Errors, isFlussError, readBatchHeader, splitBatches } from "@fluss-ts/common";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { errnoError, setIoFaultInjector } from "../src/log/file-io.ts";
import { leaderEpochFileName } from "../src/log/leader-epoch-cache.ts";
import { batch, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);
afterEach(() => setIoFaultInjector(null));

const config = { segmentBytesMax: 4096, indexIntervalBytes: 256, flush: { mode: "always" as const } };

async function open(dir: string, clock = new TestClock()): Promise<LogTablet> {
  return LogTablet.open({ dir, clock, config });
}

function codeOf(err: unknown): number | null {
  return isFlussError(err) ? err.code : null;
}

async function failure(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    return err;
  }
  return null;
}

/** Everything in `log` from `from`, as bytes. */
async function bytesFrom(log: LogTablet, from = log.logStartOffset): Promise<Buffer> {
  const r = await log.read(from, 64 << 20, log.logEndOffset);
  return Buffer.from(r.records);
}

/** One follower fetch round: what the leader would send, appended to the follower. */
async function replicate(leader: LogTablet, follower: LogTablet): Promise<void> {
  const from = follower.logEndOffset;
  const r = await leader.read(from, 1 << 20, leader.logEndOffset);
  await follower.appendAsFollower(r.records, leader.epochEntriesFor(from, leader.logEndOffset));
}

describe("leader epoch cache", () => {
  it("records epochs durably, truncates them with the log, and repairs them at open", async () => {
    const dir = await tempDir();
    const log = await open(dir);
    log.claimLeaderEpoch(0);
    await log.append(batch({ records: 3 }));
    await log.append(batch({ records: 2 }), { leaderEpoch: 2 }); // a leader append assigns its epoch
    log.claimLeaderEpoch(5); // a new leader: epoch 5 starts at the log end, 5
    expect(log.epochEntries).toEqual([
      { epoch: 0, startOffset: 0n },
      { epoch: 2, startOffset: 3n },
      { epoch: 5, startOffset: 5n },
    ]);
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 2, endOffset: 5n });
    expect(log.endOffsetForEpoch(5)).toEqual({ epoch: 5, endOffset: 5n });
    const err = await failure(log.append(batch(), { leaderEpoch: 4 })); // a stale leader
    expect(codeOf(err)).toBe(Errors.FENCED_LEADER_EPOCH_EXCEPTION.code);
    expect(log.logEndOffset).toBe(5n);
    // Abandoned without close (a crash): epoch 5 names no batch, so open forgets it.
    const again = await open(dir);
    expect(again.epochEntries).toEqual([
      { epoch: 0, startOffset: 0n },
      { epoch: 2, startOffset: 3n },
    ]);
    // It led epoch 5 before the crash: it must never lead epoch 5 again (it may have lost batches).
    expect(again.claimedEpoch).toBe(5);
    expect(codeOf(await failure(() => again.claimLeaderEpoch(5)))).toBe(
      Errors.FENCED_LEADER_EPOCH_EXCEPTION.code,
    );
    const cut = again.truncateTo(4n);
    expect(cut).toEqual({ previousEndOffset: 5n, endOffset: 3n, previousHighWatermark: 0n });
    expect(again.epochEntries).toEqual([{ epoch: 0, startOffset: 0n }]);
    await again.close();
    const reopened = await open(dir);
    expect(reopened.latestEpoch).toBe(0);
    reopened.claimLeaderEpoch(6);
    expect(reopened.epochEntries.at(-1)).toEqual({ epoch: 6, startOffset: 3n });
    await reopened.close();
  });

  it("takes a bucket offline when its epoch file is garbled, and opens one without a file", async () => {
    const dir = await tempDir();
    const log = await open(dir);
    log.claimLeaderEpoch(1);
    await log.append(batch());
    await log.close();
    fs.writeFileSync(path.join(dir, leaderEpochFileName), "fluss-ts-leader-epochs v1\n2\n1 0\n");
    const err = await failure(open(dir));
    expect(codeOf(err)).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
    expect(String(err)).toContain(leaderEpochFileName);
    fs.rmSync(path.join(dir, leaderEpochFileName));
    const fresh = await open(dir);
    expect(fresh.latestEpoch).toBe(-1);
    expect(fresh.logEndOffset).toBe(1n);
    await fresh.close();
  });

  it("changes nothing when a new epoch cannot be written on a full disk", async () => {
    const dir = await tempDir();
    const log = await open(dir);
    log.claimLeaderEpoch(1);
    await log.append(batch());
    setIoFaultInjector((op, file) => {
      if (op === "write" && file.includes(leaderEpochFileName)) throw errnoError("ENOSPC", "no space");
      return undefined;
    });
    const err = await failure(log.append(batch(), { leaderEpoch: 2 }));
    expect(codeOf(err)).toBe(Errors.STORAGE_EXCEPTION.code);
    expect(log.latestEpoch).toBe(1);
    expect(log.logEndOffset).toBe(1n);
    setIoFaultInjector(null);
    await log.append(batch(), { leaderEpoch: 2 });
    expect(log.epochEntries.at(-1)).toEqual({ epoch: 2, startOffset: 1n });
    await log.close();
  });
});

describe("follower append", () => {
  it("keeps the leader's bytes, offsets, timestamps and epochs, across segment rolls and a reopen", async () => {
    const clock = new TestClock();
    const leader = await open(await tempDir(), clock);
    const followerDir = await tempDir();
    let follower = await open(followerDir, new TestClock(5));
    for (let epoch = 1; epoch <= 3; epoch++) {
      leader.claimLeaderEpoch(epoch);
      for (let i = 0; i < 6; i++) {
        clock.advance(7);
        await leader.append(batch({ bodyBytes: 700, records: 1 + (i % 3), seed: epoch * 10 + i }));
      }
      await replicate(leader, follower);
    }
    expect(follower.logEndOffset).toBe(leader.logEndOffset);
    expect((await bytesFrom(follower)).equals(await bytesFrom(leader))).toBe(true);
    expect(follower.epochEntries).toEqual(leader.epochEntries);
    expect(follower.stats().segments).toBeGreaterThan(1); // 4 KiB segments: the fetch was split
    follower = await open(followerDir); // abandoned: recovered from disk
    expect((await bytesFrom(follower)).equals(await bytesFrom(leader))).toBe(true);
    expect(follower.epochEntries).toEqual(leader.epochEntries);
    await follower.close();
    await leader.close();
  });

  it("refuses corrupt, misplaced and out-of-epoch batches without writing anything", async () => {
    const leader = await open(await tempDir());
    const follower = await open(await tempDir());
    leader.claimLeaderEpoch(3);
    for (let i = 0; i < 3; i++) await leader.append(batch({ seed: i }));
    const all = Buffer.from((await leader.read(0n, 1 << 20, 3n)).records);
    const epochs = leader.epochEntriesFor(0n, 3n);
    const flipped = Buffer.from(all);
    flipped[all.byteLength - 5] ^= 1;
    expect(codeOf(await failure(follower.appendAsFollower(flipped, epochs)))).toBe(
      Errors.CORRUPT_RECORD_EXCEPTION.code,
    );
    const second = splitBatches(all, { verifyCrc: true, allowPartialTail: false })[1].bytes;
    expect(codeOf(await failure(follower.appendAsFollower(second, epochs)))).toBe(
      Errors.CORRUPT_MESSAGE.code, // starts at 1, the follower's log ends at 0
    );
    expect(follower.logEndOffset).toBe(0n);
    await follower.appendAsFollower(all, epochs);
    const older = batch({ seed: 9 });
    new DataView(older.buffer, older.byteOffset).setBigInt64(0, 3n, true); // base offset 3
    expect(codeOf(await failure(follower.appendAsFollower(older, [{ epoch: 2, startOffset: 3n }])))).toBe(
      Errors.CORRUPT_MESSAGE.code, // epoch 2 after epoch 3: the follower must truncate first
    );
    expect(follower.logEndOffset).toBe(3n);
    await follower.close();
    await leader.close();
  });

  it("drops an epoch it claimed as leader but never wrote in, once it follows an older epoch's data", async () => {
    // B led epoch 2 without writing anything, then A (which never heard of epoch 2) leads epoch 3
    // with the rest of its epoch-1 batches: B must take them.
    const a = await open(await tempDir());
    const b = await open(await tempDir());
    a.claimLeaderEpoch(1);
    await a.append(batch({ seed: 1 }));
    await replicate(a, b);
    await a.append(batch({ seed: 2 })); // epoch 1, not yet on B
    b.claimLeaderEpoch(2);
    expect(b.epochEntries.at(-1)).toEqual({ epoch: 2, startOffset: 1n });
    a.claimLeaderEpoch(3);
    await replicate(a, b);
    expect((await bytesFrom(b)).equals(await bytesFrom(a))).toBe(true);
    expect(b.epochEntries).toEqual([{ epoch: 1, startOffset: 0n }]);
    expect(b.claimedEpoch).toBe(2);
    await a.close();
    await b.close();
  });

  it("records writer state, so a promoted follower answers a retried batch as a duplicate", async () => {
    const leader = await open(await tempDir());
    const follower = await open(await tempDir());
    leader.claimLeaderEpoch(1);
    await leader.append(batch({ writerId: 9n, sequence: 0, records: 2, seed: 1 }));
    await leader.append(batch({ writerId: 9n, sequence: 1, records: 2, seed: 2 }));
    await replicate(leader, follower);
    follower.claimLeaderEpoch(2); // the follower is elected leader
    const retry = await follower.append(batch({ writerId: 9n, sequence: 1, records: 2, seed: 2 }), {
      leaderEpoch: 2,
    });
    expect(retry).toMatchObject({ firstOffset: 2n, lastOffset: 3n, duplicate: true });
    const next = await follower.append(batch({ writerId: 9n, sequence: 2, seed: 3 }), { leaderEpoch: 2 });
    expect(next).toMatchObject({ firstOffset: 4n, duplicate: false });
    await follower.close();
    await leader.close();
  });
});

describe("truncation by epoch", () => {
  it("finds the divergence point through endOffsetForEpoch and converges after truncating", async () => {
    // Epoch 1 on A and B; then A alone writes two more batches in epoch 1 (never replicated) and B
    // is elected with epoch 2 and writes its own. A must cut its tail at B's start of epoch 2.
    const a = await open(await tempDir());
    const b = await open(await tempDir());
    a.claimLeaderEpoch(1);
    for (let i = 0; i < 3; i++) await a.append(batch({ seed: i, records: 2 }));
    await replicate(a, b);
    await a.append(batch({ seed: 10, records: 2 }));
    await a.append(batch({ seed: 11 }));
    b.claimLeaderEpoch(2);
    await b.append(batch({ seed: 20, records: 3 }));
    const answer = b.endOffsetForEpoch(a.latestEpoch);
    expect(answer).toEqual({ epoch: 1, endOffset: 6n });
    const mine = a.endOffsetForEpoch(answer.epoch);
    const cut = a.truncateTo(mine.endOffset < answer.endOffset ? mine.endOffset : answer.endOffset);
    expect(cut).toMatchObject({ previousEndOffset: 9n, endOffset: 6n });
    await replicate(b, a);
    expect((await bytesFrom(a)).equals(await bytesFrom(b))).toBe(true);
    expect(a.epochEntries).toEqual(b.epochEntries);
    expect(readBatchHeader((await a.read(6n, 1 << 20, 9n)).records).baseOffset).toBe(6n);
    await a.close();
    await b.close();
  });

  it("restarts an empty log at the leader's start offset, and reopens it without a gap", async () => {
    const dir = await tempDir();
    const log = await open(dir);
    log.claimLeaderEpoch(1);
    for (let i = 0; i < 10; i++) await log.append(batch({ bodyBytes: 800, seed: i }));
    const info = log.truncateFullyAndStartAt(100n);
    expect(info).toMatchObject({ previousEndOffset: 10n, endOffset: 100n });
    expect(log.logStartOffset).toBe(100n);
    expect(log.epochEntries).toEqual([]);
    const leader = await open(await tempDir());
    leader.truncateFullyAndStartAt(100n);
    leader.claimLeaderEpoch(4);
    await leader.append(batch({ seed: 50, records: 2 }));
    await replicate(leader, log);
    expect(log.logEndOffset).toBe(102n);
    const again = await open(dir); // abandoned: recovered from disk
    expect(again.logStartOffset).toBe(100n);
    expect((await bytesFrom(again)).equals(await bytesFrom(leader))).toBe(true);
    expect(again.epochEntries).toEqual([{ epoch: 4, startOffset: 100n }]);
    await again.close();
    await leader.close();
  });
});
