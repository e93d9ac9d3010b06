// Automatic partitions under a moved clock: the scenarios of Fluss's AutoPartitionManagerTest
// (num-precreate 4 for single-key tables, num-retention 2, manual creates and drops in between),
// creation right after CREATE TABLE, expiry, idempotent runs, and tables that opt out.
import { ManualClock } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { type CoordinatorFixture, descriptor, startCoordinator } from "./helpers.ts";

type Unit = "HOUR" | "DAY" | "MONTH" | "QUARTER" | "YEAR";

interface Scenario {
  unit: Unit;
  multiKey: boolean;
  expected: string[];
  manualCreated: string[];
  manualDropped: string[];
  advance: (ms: number) => number;
  expectedAfterAdvance: string[];
  advance2: (ms: number) => number;
  expectedFinal: string[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
function plusMonths(ms: number, n: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate(), d.getUTCHours());
}

const START = Date.UTC(2024, 8, 10, 1); // 2024-09-10T01:00 (HOUR scenarios)
const START_DAY = Date.UTC(2024, 8, 10); // 2024-09-10T00:00

const scenarios: Array<[string, number, Scenario]> = [
  [
    "HOUR",
    START,
    {
      unit: "HOUR",
      multiKey: false,
      expected: ["2024091001", "2024091002", "2024091003", "2024091004"],
      manualCreated: ["2024091006"],
      manualDropped: ["2024091001"],
      advance: (t) => t + 3 * HOUR,
      expectedAfterAdvance: [
        "2024091002",
        "2024091003",
        "2024091004",
        "2024091005",
        "2024091006",
        "2024091007",
      ],
      advance2: (t) => t + 2 * HOUR,
      expectedFinal: ["2024091004", "2024091005", "2024091006", "2024091007", "2024091008", "2024091009"],
    },
  ],
  [
    "HOUR, several keys",
    START,
    {
      unit: "HOUR",
      multiKey: true,
      expected: [],
      manualCreated: [
        "2024091001$A",
        "2024091001$B",
        "2024091001$C",
        "2024091002$A",
        "2024091002$B",
        "2024091003$A",
        "2024091004$A",
        "2024091005$A",
      ],
      manualDropped: ["2024091002$A"],
      advance: (t) => t + 3 * HOUR,
      expectedAfterAdvance: ["2024091002$B", "2024091003$A", "2024091004$A", "2024091005$A"],
      advance2: (t) => t + 2 * HOUR,
      expectedFinal: ["2024091004$A", "2024091005$A"],
    },
  ],
  [
    "DAY",
    START_DAY,
    {
      unit: "DAY",
      multiKey: false,
      expected: ["20240910", "20240911", "20240912", "20240913"],
      manualCreated: ["20240915"],
      manualDropped: ["20240910"],
      advance: (t) => t + 3 * DAY + 23 * HOUR,
      expectedAfterAdvance: ["20240911", "20240912", "20240913", "20240914", "20240915", "20240916"],
      advance2: (t) => t + 2 * DAY,
      expectedFinal: ["20240913", "20240914", "20240915", "20240916", "20240917", "20240918"],
    },
  ],
  [
    "DAY, several keys",
    START_DAY,
    {
      unit: "DAY",
      multiKey: true,
      expected: [],
      manualCreated: [
        "20240910$A",
        "20240910$B",
        "20240910$C",
        "20240911$A",
        "20240911$B",
        "20240912$A",
        "20240913$A",
        "20240914$A",
      ],
      manualDropped: ["20240911$A"],
      advance: (t) => t + 3 * DAY + 23 * HOUR,
      expectedAfterAdvance: ["20240911$B", "20240912$A", "20240913$A", "20240914$A"],
      advance2: (t) => t + 2 * DAY,
      expectedFinal: ["20240913$A", "20240914$A"],
    },
  ],
  [
    "MONTH",
    START_DAY,
    {
      unit: "MONTH",
      multiKey: false,
      expected: ["202409", "202410", "202411", "202412"],
      manualCreated: ["202502"],
      manualDropped: ["202409"],
      advance: (t) => plusMonths(t, 3),
      expectedAfterAdvance: ["202410", "202411", "202412", "202501", "202502", "202503"],
      advance2: (t) => plusMonths(t, 2),
      expectedFinal: ["202412", "202501", "202502", "202503", "202504", "202505"],
    },
  ],
  [
    "QUARTER",
    START_DAY,
    {
      unit: "QUARTER",
      multiKey: false,
      expected: ["20243", "20244", "20251", "20252"],
      manualCreated: ["20254"],
      manualDropped: ["20243"],
      advance: (t) => plusMonths(t, 9),
      expectedAfterAdvance: ["20244", "20251", "20252", "20253", "20254", "20261"],
      advance2: (t) => plusMonths(t, 6),
      expectedFinal: ["20252", "20253", "20254", "20261", "20262", "20263"],
    },
  ],
  [
    "QUARTER, several keys",
    START_DAY,
    {
      unit: "QUARTER",
      multiKey: true,
      expected: [],
      manualCreated: [
        "20243$A",
        "20243$B",
        "20243$C",
        "20244$A",
        "20244$B",
        "20251$A",
        "20252$A",
        "20253$B",
        "20254$C",
      ],
      manualDropped: ["20243$A"],
      advance: (t) => plusMonths(t, 9),
      expectedAfterAdvance: ["20244$A", "20244$B", "20251$A", "20252$A", "20253$B", "20254$C"],
      advance2: (t) => plusMonths(t, 6),
      expectedFinal: ["20252$A", "20253$B", "20254$C"],
    },
  ],
  [
    "YEAR",
    START_DAY,
    {
      unit: "YEAR",
      multiKey: false,
      expected: ["2024", "2025", "2026", "2027"],
      manualCreated: ["2029"],
      manualDropped: ["2024"],
      advance: (t) => plusMonths(t, 36),
      expectedAfterAdvance: ["2025", "2026", "2027", "2028", "2029", "2030"],
      advance2: (t) => plusMonths(t, 24),
      expectedFinal: ["2027", "2028", "2029", "2030", "2031", "2032"],
    },
  ],
  [
    "YEAR, several keys",
    START_DAY,
    {
      unit: "YEAR",
      multiKey: true,
      expected: [],
      manualCreated: ["2024$A", "2024$B", "2024$C", "2025$A", "2025$B", "2026$A", "2027$B", "2028$C"],
      manualDropped: ["2025$B"],
      advance: (t) => plusMonths(t, 36),
      expectedAfterAdvance: ["2025$A", "2026$A", "2027$B", "2028$C"],
      advance2: (t) => plusMonths(t, 24),
      expectedFinal: ["2027$B", "2028$C"],
    },
  ],
];

describe("automatic partitions", () => {
  let fx: CoordinatorFixture;
  afterEach(async () => {
    await fx?.close();
  });

  const path = { database: "db", table: "t" };
  const names = async () => (await fx.coordinator.listPartitions(path)).map((p) => p.partitionName).sort();

  it.each(scenarios)(
    "%s: pre-creates, keeps manual partitions, expires by retention",
    async (_name, start, sc) => {
      fx = await startCoordinator({ startMs: start, servers: 3 });
      const c = fx.coordinator;
      const options: Record<string, string> = {
        "table.auto-partition.enabled": "true",
        "table.auto-partition.time-unit": sc.unit,
        "table.auto-partition.num-retention": "2",
        "table.auto-partition.num-precreate": sc.multiKey ? "0" : "4",
        "table.auto-partition.time-zone": "UTC",
      };
      if (sc.multiKey) options["table.auto-partition.key"] = "dt";
      const keys = sc.multiKey ? ["dt", "a"] : ["dt"];
      // Creating the table runs auto partitioning for it at once.
      await c.createTable(
        path,
        descriptor("id BIGINT, dt STRING, a STRING", { partitionKeys: keys, options }),
        false,
      );
      expect(await names()).toEqual([...sc.expected].sort());

      const tableId = (await c.getTableInfo(path)).tableId;
      for (const n of sc.manualCreated) expect(await c.createPartitionOf(tableId, n)).toBe("created");
      for (const n of sc.manualDropped) expect(await c.dropPartitionOf(tableId, n)).toBe("dropped");

      fx.clock.set(sc.advance(fx.clock.nowMs()));
      await c.autoPartitions.runOnce();
      expect(await names()).toEqual([...sc.expectedAfterAdvance].sort());

      fx.clock.set(sc.advance2(fx.clock.nowMs()));
      const run = await c.autoPartitions.runOnce();
      expect(await names()).toEqual([...sc.expectedFinal].sort());
      expect(run.failed).toEqual([]);

      // Again at the same time: nothing changes.
      const again = await c.autoPartitions.runOnce();
      expect(again.created.length + again.dropped.length).toBe(0);
      expect(await names()).toEqual([...sc.expectedFinal].sort());
    },
  );

  it("reports what it did and leaves tables without auto partitioning alone", async () => {
    fx = await startCoordinator({ startMs: Date.UTC(2024, 0, 1, 12), servers: 1 });
    const c = fx.coordinator;
    const manual = { database: "db", table: "manual" };
    await c.createTable(manual, descriptor("id BIGINT, dt STRING", { partitionKeys: ["dt"] }), false);
    await c.createPartition(manual, { dt: "19990101" }, false);
    await c.createTable(
      path,
      descriptor("id BIGINT, dt STRING", {
        partitionKeys: ["dt"],
        options: {
          "table.auto-partition.enabled": "true",
          "table.auto-partition.num-retention": "1",
          "table.auto-partition.time-zone": "Asia/Tokyo",
        },
      }),
      false,
    );
    expect(await names()).toEqual(["20240101", "20240102"]);
    fx.clock.advance(2 * DAY);
    const run = await c.autoPartitions.runOnce();
    expect(run.dropped).toEqual([{ table: "db.t", partition: "20240101" }]);
    expect(run.created).toEqual([
      { table: "db.t", partition: "20240103" },
      { table: "db.t", partition: "20240104" },
    ]);
    expect(await names()).toEqual(["20240102", "20240103", "20240104"]);
    expect((await c.listPartitions(manual)).map((p) => p.partitionName)).toEqual(["19990101"]);
    // Dropped partitions' replicas were deleted on the tablet server.
    expect(fx.servers[0]!.deleted.filter((r) => r.partitionId !== null).length).toBe(1);
  });

  it("refuses a manual partition that is already expired or not in the time format", async () => {
    fx = await startCoordinator({ startMs: Date.UTC(2024, 5, 15), servers: 1 });
    const c = fx.coordinator;
    await c.createTable(
      path,
      descriptor("id BIGINT, dt STRING", {
        partitionKeys: ["dt"],
        options: {
          "table.auto-partition.enabled": "true",
          "table.auto-partition.time-unit": "MONTH",
          "table.auto-partition.num-retention": "3",
          "table.auto-partition.time-zone": "UTC",
        },
      }),
      false,
    );
    await expect(c.createPartition(path, { dt: "202402" }, false)).rejects.toThrow(/out-of-date.*'202403'/);
    await expect(c.createPartition(path, { dt: "2024-09" }, false)).rejects.toThrow(
      /expected format 'yyyyMM'/,
    );
    expect((await c.createPartition(path, { dt: "202403" }, false)).partitionName).toBe("202403");
    expect((await c.createPartition(path, { dt: "202501" }, false)).partitionName).toBe("202501");
  });

  it("stops pre-creating at the table's partition limit", async () => {
    fx = await startCoordinator({ startMs: Date.UTC(2024, 0, 1), servers: 1, partitionCountMax: 3 });
    await fx.coordinator.createTable(
      path,
      descriptor("id BIGINT, dt STRING", {
        partitionKeys: ["dt"],
        options: { "table.auto-partition.enabled": "true", "table.auto-partition.num-precreate": "10" },
      }),
      false,
    );
    expect(await names()).toEqual(["20240101", "20240102", "20240103"]);
  });

  it("runs at start and then every check interval", async () => {
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    fx = await startCoordinator({ clock, servers: 1, autoPartitionCheckIntervalMs: 20 });
    await fx.coordinator.createTable(
      path,
      descriptor("id BIGINT, dt STRING", {
        partitionKeys: ["dt"],
        options: { "table.auto-partition.enabled": "true", "table.auto-partition.time-unit": "HOUR" },
      }),
      false,
    );
    expect(await names()).toEqual(["2024010100", "2024010101"]);
    clock.advance(HOUR);
    fx.coordinator.autoPartitions.start();
    await expect.poll(names, { timeout: 5000 }).toEqual(["2024010100", "2024010101", "2024010102"]);
    clock.advance(HOUR);
    await expect.poll(names, { timeout: 5000 }).toContain("2024010103");
  });
});
