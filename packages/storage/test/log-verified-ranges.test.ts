// VerifiedRanges: the byte ranges of a segment known intact in this run (reads skip their CRC
// check). Merging, coverage, truncation and the bound on the number of ranges.

import { describe, expect, it } from "vitest";
import { RANGES_MAX, VerifiedRanges } from "../src/log/verified-ranges.ts";

describe("VerifiedRanges", () => {
  it("covers only what was added, merging touching and overlapping ranges", () => {
    const v = new VerifiedRanges();
    expect(v.covers(0, 1)).toBe(false);
    v.add(100, 200);
    expect(v.covers(100, 200)).toBe(true);
    expect(v.covers(150, 160)).toBe(true);
    expect(v.covers(99, 150)).toBe(false);
    expect(v.covers(150, 201)).toBe(false);
    v.add(300, 400);
    expect(v.count).toBe(2);
    expect(v.covers(150, 350)).toBe(false); // a gap between the two
    v.add(200, 300); // touches both: one range
    expect(v.count).toBe(1);
    expect(v.covers(100, 400)).toBe(true);
    v.add(50, 120);
    v.add(390, 500);
    expect(v.count).toBe(1);
    expect(v.covers(50, 500)).toBe(true);
    v.add(10, 10); // empty: nothing
    expect(v.covers(10, 11)).toBe(false);
  });

  it("forgets what lies at or after a truncation", () => {
    const v = new VerifiedRanges();
    v.add(0, 100);
    v.add(200, 300);
    v.truncate(250);
    expect(v.covers(0, 100)).toBe(true);
    expect(v.covers(200, 250)).toBe(true);
    expect(v.covers(200, 260)).toBe(false);
    v.truncate(50);
    expect(v.count).toBe(1);
    expect(v.covers(0, 50)).toBe(true);
    expect(v.covers(0, 51)).toBe(false);
  });

  it("keeps at most RANGES_MAX ranges, forgetting the smallest", () => {
    const v = new VerifiedRanges();
    v.add(0, 1_000_000); // the big one (e.g. the appended tail) survives
    for (let i = 1; i <= RANGES_MAX + 5; i++) v.add(2_000_000 + i * 100, 2_000_000 + i * 100 + 10 + i);
    expect(v.count).toBe(RANGES_MAX);
    expect(v.covers(0, 1_000_000)).toBe(true);
    // The smallest ones were dropped: the first few small ranges are gone, the last ones kept.
    expect(v.covers(2_000_100, 2_000_111)).toBe(false);
    const last = RANGES_MAX + 5;
    expect(v.covers(2_000_000 + last * 100, 2_000_000 + last * 100 + 10 + last)).toBe(true);
  });
});
