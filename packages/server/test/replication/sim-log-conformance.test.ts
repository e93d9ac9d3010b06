// The simulator's log model (sim/sim-log.ts) must behave as the real log tablet does where
// replication looks: seeded sequences of epoch claims, leader appends, follower appends, truncations
// found through the end-offset-for-epoch query, and crash-reopens run on both a LogTablet pair (on
// disk) and a SimLog pair, and after every step their log ends, epoch entries, claimed epochs and
// end offsets for every epoch must match.

import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildBatch, NO_WRITER_ID, readBatchHeader, splitBatches } from "@fluss-ts/common";
import { LogTablet } from "@fluss-ts/storage";
import { afterAll, describe, expect, it } from "vitest";
import { type SimBatch, SimLog } from "./sim/sim-log.ts";
import { Rng } from "./sim/world.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

const hooks = { onHighWatermark: () => undefined, onTruncate: () => undefined };
const clock = { nowMs: () => 1_700_000_000_000 };

async function openReal(dir: string): Promise<LogTablet> {
  return LogTablet.open({ dir, clock, config: { segmentBytesMax: 2048, flush: { mode: "always" } } });
}

function bytesOf(count: number): Uint8Array {
  return buildBatch({
    schemaId: 1,
    appendOnly: true,
    writerId: NO_WRITER_ID,
    batchSequence: -1,
    recordCount: count,
    lastOffsetDelta: count - 1,
    body: [new Uint8Array(40)],
  });
}

interface Pair {
  real: LogTablet;
  sim: SimLog;
  readonly dir: string;
}

async function pair(name: string): Promise<Pair> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fluss-conformance-"));
  dirs.push(dir);
  return { real: await openReal(dir), sim: new SimLog(name, hooks), dir };
}

function expectSame(p: Pair, step: string): void {
  const { real, sim } = p;
  expect(sim.logEndOffset, step).toBe(real.logEndOffset);
  expect(sim.epochList, step).toEqual(real.epochEntries);
  expect(sim.latestEpoch, step).toBe(real.latestEpoch);
  for (let e = -1; e <= real.latestEpoch + 1; e++)
    expect(sim.endOffsetForEpoch(e), `${step}: epoch ${e}`).toEqual(real.endOffsetForEpoch(e));
}

/** A leader append of a batch of `count` offsets in `epoch` on both. */
async function leaderAppend(p: Pair, epoch: number, count: number, record: number): Promise<void> {
  await p.real.append(bytesOf(count), { leaderEpoch: epoch });
  p.sim.appendAsLeader({ count, epoch, writerId: 0, seq: record, recordId: record });
  p.sim.flushedTo(p.sim.logEndOffset);
}

/** One follower round: what `leader` holds past `follower`'s end, appended to `follower`, on both. */
async function follow(leader: Pair, follower: Pair): Promise<void> {
  const from = follower.real.logEndOffset;
  const r = await leader.real.read(from, 1 << 20, leader.real.logEndOffset);
  const epochs = leader.real.epochEntriesFor(from, leader.real.logEndOffset);
  await follower.real.appendAsFollower(r.records, epochs);
  const batches: SimBatch[] = splitBatches(r.records, { verifyCrc: false, allowPartialTail: false }).map(
    (s) => {
      const h = readBatchHeader(s.bytes);
      return {
        base: h.baseOffset,
        count: h.lastOffsetDelta + 1,
        epoch: -1,
        writerId: 0,
        seq: 0,
        recordId: 0,
      };
    },
  );
  follower.sim.appendAsFollower(batches, leader.sim.epochEntriesFor(from, leader.sim.logEndOffset));
  follower.sim.flushedTo(follower.sim.logEndOffset);
}

/** The follower's truncation against the leader (one query round), on both. */
function truncateByEpoch(leader: Pair, follower: Pair): void {
  const answer = leader.real.endOffsetForEpoch(follower.real.latestEpoch);
  expect(leader.sim.endOffsetForEpoch(follower.sim.latestEpoch)).toEqual(answer);
  const mine = follower.real.endOffsetForEpoch(answer.epoch);
  let to = follower.real.logEndOffset;
  if (answer.endOffset >= 0n && mine.endOffset >= 0n) {
    to = [to, answer.endOffset, mine.endOffset].reduce((a, b) => (a < b ? a : b));
  }
  follower.real.truncateTo(to);
  follower.sim.truncateTo(to);
}

async function crash(p: Pair): Promise<void> {
  p.real = await openReal(p.dir); // the old tablet is abandoned, as kill -9 leaves it
  p.sim.crash();
}

async function runSequence(seed: number): Promise<void> {
  const rng = new Rng(seed);
  const a = await pair("a");
  const b = await pair("b");
  let leader = a;
  let follower = b;
  let epoch = 0;
  let record = 0;
  for (let step = 0; step < 60; step++) {
    const roll = rng.int(0, 99);
    const what = `seed ${seed} step ${step}`;
    if (roll < 40) {
      for (let i = rng.int(1, 3); i > 0; i--) await leaderAppend(leader, epoch, rng.int(1, 3), record++);
    } else if (roll < 65) {
      await follow(leader, follower);
    } else if (roll < 80) {
      [leader, follower] = [follower, leader]; // a leader change: the new leader claims a new epoch
      epoch++;
      leader.real.claimLeaderEpoch(epoch);
      leader.sim.claimLeaderEpoch(epoch);
      truncateByEpoch(leader, follower);
    } else if (roll < 90) {
      await crash(rng.chance(0.5) ? leader : follower);
      if (leader.real.claimedEpoch >= epoch) {
        expect(leader.real.claimedEpoch, what).toBe(epoch); // survives the crash
      }
      epoch++;
      leader.real.claimLeaderEpoch(epoch); // a restarted leader leads only a newer epoch
      leader.sim.claimLeaderEpoch(epoch);
      truncateByEpoch(leader, follower);
    } else {
      truncateByEpoch(leader, follower);
    }
    expectSame(a, `${what}: a`);
    expectSame(b, `${what}: b`);
  }
  await a.real.close();
  await b.real.close();
}

describe("simulator log model", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`matches LogTablet on epochs, ends and truncations (seed ${seed})`, async () => {
      await runSequence(seed);
    });
  }
});
