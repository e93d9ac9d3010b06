// Leader epoch entries (Kafka's LeaderEpochFileCache rules): assignment keeps epochs and start
// offsets strictly increasing, OffsetForLeaderEpoch answers, truncation from either end, and the
// entries a follower needs for a fetched range.

import { describe, expect, it } from "vitest";
import {
  EpochEntries,
  isWellFormed,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
} from "../src/log/epoch-entries.ts";

const e = (epoch: number, startOffset: bigint) => ({ epoch, startOffset });

describe("epoch entries", () => {
  it("assigns a new epoch once and ignores the same epoch at a later offset", () => {
    const c = new EpochEntries();
    expect(c.latestEpoch).toBe(UNDEFINED_EPOCH);
    expect(c.assign(1, 0n)).toBe(true);
    expect(c.assign(1, 5n)).toBe(false);
    expect(c.assign(3, 10n)).toBe(true);
    expect(c.entries).toEqual([e(1, 0n), e(3, 10n)]);
    expect(c.latestEpoch).toBe(3);
    expect(c.epochForOffset(9n)).toBe(1);
    expect(c.epochForOffset(10n)).toBe(3);
  });

  it("drops entries an assignment makes non-monotonic (a lower start or an older epoch)", () => {
    const c = new EpochEntries([e(1, 0n), e(3, 10n), e(4, 20n)]);
    c.assign(5, 15n); // the log was cut at 15 without telling the cache: 4@20 cannot stand
    expect(c.entries).toEqual([e(1, 0n), e(3, 10n), e(5, 15n)]);
    c.assign(2, 8n); // an older epoch at a lower offset replaces everything at or after it
    expect(c.entries).toEqual([e(1, 0n), e(2, 8n)]);
    c.assign(2, 3n); // the same epoch starting earlier moves its start back
    expect(c.entries).toEqual([e(1, 0n), e(2, 3n)]);
  });

  it("answers OffsetForLeaderEpoch as Kafka does", () => {
    const c = new EpochEntries([e(1, 0n), e(3, 10n), e(6, 30n)]);
    const leo = 42n;
    expect(c.endOffsetFor(6, leo)).toEqual({ epoch: 6, endOffset: 42n }); // latest: the log end
    expect(c.endOffsetFor(3, leo)).toEqual({ epoch: 3, endOffset: 30n });
    expect(c.endOffsetFor(4, leo)).toEqual({ epoch: 3, endOffset: 30n }); // unknown: the epoch below
    expect(c.endOffsetFor(0, leo)).toEqual({ epoch: 0, endOffset: 0n }); // older than all
    expect(c.endOffsetFor(7, leo)).toEqual({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET });
    expect(c.endOffsetFor(UNDEFINED_EPOCH, leo).endOffset).toBe(UNDEFINED_EPOCH_OFFSET);
    expect(new EpochEntries().endOffsetFor(1, leo).epoch).toBe(UNDEFINED_EPOCH);
  });

  it("truncates from the end (a cut log) and from the start (retention)", () => {
    const c = new EpochEntries([e(1, 0n), e(3, 10n), e(6, 30n)]);
    expect(c.truncateFromEnd(31n)).toBe(false);
    expect(c.truncateFromEnd(30n)).toBe(true);
    expect(c.entries).toEqual([e(1, 0n), e(3, 10n)]);
    expect(c.truncateFromStart(12n)).toBe(true);
    expect(c.entries).toEqual([e(3, 12n)]);
    expect(c.truncateFromStart(12n)).toBe(false);
    expect(c.truncateFromStart(5n)).toBe(false);
  });

  it("gives a follower the entries of a fetched range, the first moved to the range start", () => {
    const c = new EpochEntries([e(1, 0n), e(3, 10n), e(6, 30n)]);
    expect(c.entriesFor(12n, 25n)).toEqual([e(3, 12n)]);
    expect(c.entriesFor(5n, 31n)).toEqual([e(1, 5n), e(3, 10n), e(6, 30n)]);
    expect(c.entriesFor(5n, 30n)).toEqual([e(1, 5n), e(3, 10n)]);
    expect(new EpochEntries([e(2, 10n)]).entriesFor(0n, 20n)).toEqual([e(2, 10n)]); // older data: no label
  });

  it("refuses lists that do not strictly increase", () => {
    expect(isWellFormed([e(1, 0n), e(1, 5n)])).toBe(false);
    expect(isWellFormed([e(1, 5n), e(2, 5n)])).toBe(false);
    expect(isWellFormed([e(-1, 0n)])).toBe(false);
    expect(isWellFormed([e(1, 0n), e(2, 5n)])).toBe(true);
    expect(() => new EpochEntries([e(2, 0n), e(1, 5n)])).toThrow(/strictly increase/);
  });
});
