// Auto-partition time values per unit across zones, DST changes and quarter/year boundaries;
// custom time formats; expiry; the checks on manually created partitions and on table options.
import {
  type AutoPartitionStrategy,
  autoPartitionStrategyOf,
  autoPartitionTime,
  autoPartitionValueOf,
  checkAutoPartitionOptions,
  Errors,
  isAutoPartitionTime,
  isExpiredAutoPartition,
  isFlussError,
  parseType,
  partitionNamesToPrecreate,
  resolveZone,
  retentionCutoff,
  validateAutoPartitionTime,
  validateTimeFormat,
} from "@fluss-ts/common";
import { describe, expect, it } from "vitest";

type Unit = AutoPartitionStrategy["timeUnit"];

function strategy(
  timeUnit: Unit,
  timeZone: string,
  more: Partial<AutoPartitionStrategy> = {},
): AutoPartitionStrategy {
  return {
    enabled: true,
    key: null,
    timeUnit,
    timeFormat: null,
    numPrecreate: 2,
    numRetention: 7,
    timeZone,
    ...more,
  };
}

const names = (
  s: Pick<AutoPartitionStrategy, "timeUnit" | "timeZone" | "timeFormat">,
  now: number,
  offsets: number[],
) => offsets.map((k) => autoPartitionTime(s, now, k));

function errorOf(fn: () => unknown, kind: (typeof Errors)[keyof typeof Errors]): string {
  try {
    fn();
  } catch (err) {
    expect(isFlussError(err) && err.is(kind)).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`expected ${kind.name}`);
}

describe("auto-partition time values", () => {
  // 2024-11-11 11:11 at UTC-8 (Fluss's PartitionUtilsTest instant).
  const now = Date.UTC(2024, 10, 11, 19, 11);

  it("formats each unit and steps by whole units (Fluss's own expectations)", () => {
    const s = (u: Unit) => strategy(u, "-08:00");
    expect(names(s("YEAR"), now, [-1, 0, 1, 2, 3])).toEqual(["2023", "2024", "2025", "2026", "2027"]);
    expect(names(s("QUARTER"), now, [-1, 0, 1, 2, 3])).toEqual(["20243", "20244", "20251", "20252", "20253"]);
    expect(names(s("MONTH"), now, [-1, 0, 1, 2, 3])).toEqual([
      "202410",
      "202411",
      "202412",
      "202501",
      "202502",
    ]);
    expect(names(s("DAY"), now, [-1, 0, 1, 2, 3, 20])).toEqual([
      "20241110",
      "20241111",
      "20241112",
      "20241113",
      "20241114",
      "20241201",
    ]);
    expect(names(s("HOUR"), now, [-2, -1, 0, 1, 2, 3, 13])).toEqual([
      "2024111109",
      "2024111110",
      "2024111111",
      "2024111112",
      "2024111113",
      "2024111114",
      "2024111200",
    ]);
    const dashed = { ...s("DAY"), timeFormat: "yyyy-MM-dd" };
    expect(names(dashed, now, [-1, 0, 20])).toEqual(["2024-11-10", "2024-11-11", "2024-12-01"]);
  });

  it("depends on the zone at day, quarter and year boundaries", () => {
    const t = Date.UTC(2024, 11, 31, 23, 30); // 2024-12-31 23:30 UTC
    const at = (u: Unit, zone: string) => autoPartitionTime(strategy(u, zone), t, 0);
    expect([at("DAY", "UTC"), at("DAY", "Asia/Shanghai"), at("DAY", "America/Los_Angeles")]).toEqual([
      "20241231",
      "20250101",
      "20241231",
    ]);
    expect([at("QUARTER", "UTC"), at("QUARTER", "Asia/Shanghai")]).toEqual(["20244", "20251"]);
    expect([at("YEAR", "UTC"), at("YEAR", "Asia/Shanghai"), at("YEAR", "+05:30")]).toEqual([
      "2024",
      "2025",
      "2025",
    ]);
    expect(at("HOUR", "Asia/Kolkata")).toBe("2025010105");
    expect(at("HOUR", "GMT+8")).toBe("2025010107");
  });

  it("clamps the day when stepping months (Jan 31 + 1 month is February)", () => {
    const jan31 = Date.UTC(2024, 0, 31, 12);
    expect(names(strategy("MONTH", "UTC"), jan31, [1, 2, -2])).toEqual(["202402", "202403", "202311"]);
    expect(names(strategy("QUARTER", "UTC"), jan31, [-1, 4])).toEqual(["20234", "20251"]);
  });

  it("follows DST: hours step the instant, so a spring-forward hour is skipped and a fall-back hour repeats", () => {
    const ny = "America/New_York";
    const spring = Date.UTC(2024, 2, 10, 6, 30); // 01:30 EST, clocks jump 02:00 → 03:00
    expect(names(strategy("HOUR", ny), spring, [0, 1, 2])).toEqual([
      "2024031001",
      "2024031003",
      "2024031004",
    ]);
    const fall = Date.UTC(2024, 10, 3, 5, 30); // 01:30 EDT, clocks go back 02:00 → 01:00
    expect(names(strategy("HOUR", ny), fall, [0, 1, 2])).toEqual(["2024110301", "2024110301", "2024110302"]);
    expect(partitionNamesToPrecreate(["dt"], strategy("HOUR", ny, { numPrecreate: 3 }), fall)).toEqual([
      "2024110301",
      "2024110302",
    ]);
    // Days step the local date: the day after 2024-03-09 23:30 local is 03-10 even though that day is 23 h.
    const evening = Date.UTC(2024, 2, 10, 4, 30); // 2024-03-09 23:30 EST
    expect(names(strategy("DAY", ny), evening, [0, 1, 2])).toEqual(["20240309", "20240310", "20240311"]);
  });

  it("moves a local time inside a gap forward by the gap (Samoa skipped 2011-12-30)", () => {
    const apia = "Pacific/Apia";
    const t = Date.UTC(2011, 11, 29, 22); // 2011-12-29 12:00 at -10:00
    expect(names(strategy("DAY", apia), t, [0, 1, 2])).toEqual(["20111229", "20111231", "20111231"]);
  });

  it("refuses unknown zones with INVALID_CONFIG_EXCEPTION", () => {
    expect(errorOf(() => resolveZone("Mars/Olympus"), Errors.INVALID_CONFIG_EXCEPTION)).toContain(
      "Mars/Olympus",
    );
    expect(errorOf(() => resolveZone("+19:00"), Errors.INVALID_CONFIG_EXCEPTION)).toContain("±18:00");
    expect(resolveZone("UTC+05:30").id).toBe("+05:30");
    expect(resolveZone("Z").id).toBe("UTC");
  });
});

describe("time formats", () => {
  it("recognises values of the format (Java SMART rules: day up to 31, hour up to 24)", () => {
    const day = { timeUnit: "DAY" as const, timeFormat: null };
    expect(["20241111", "20240231"].map((v) => isAutoPartitionTime(day, v))).toEqual([true, true]);
    expect(
      ["2024111", "20241311", "20241100", "2024-11-11", "0000111"].map((v) => isAutoPartitionTime(day, v)),
    ).toEqual([false, false, false, false, false]);
    expect(isAutoPartitionTime({ timeUnit: "HOUR", timeFormat: null }, "2024111124")).toBe(true);
    expect(isAutoPartitionTime({ timeUnit: "QUARTER", timeFormat: null }, "20245")).toBe(false);
    expect(isAutoPartitionTime({ timeUnit: "QUARTER", timeFormat: "yyyy-'Q'Q" }, "2024-Q4")).toBe(true);
  });

  it("accepts ordered fixed-width formats and explains the others", () => {
    const ok: Array<[Unit, string]> = [
      ["YEAR", "yyyy"],
      ["QUARTER", "yyyy-'Q'Q"],
      ["MONTH", "yyyy-MM"],
      ["DAY", "yyyy-MM-dd"],
      ["HOUR", "yyyy-MM-dd-HH"],
      ["DAY", "uuuuMMdd"],
    ];
    for (const [u, f] of ok) expect(() => validateTimeFormat(u, f)).not.toThrow();
    const bad: Array<[Unit, string, string]> = [
      ["MONTH", "MM-yyyy", "must contain fields [year, month] in this order"],
      ["HOUR", "yyyy-MM-dd", "[year, month, day, hour]"],
      ["DAY", "yyyy-M-dd", "must have fixed width 2"],
      ["DAY", "yyyy[-MM[-dd]]", "must not contain optional sections"],
      ["DAY", "yyyy/MM/dd", "generates invalid partition value '2024/11/11'"],
      ["YEAR", "__yyyy", "generates invalid partition value '__2024'"],
      ["YEAR", `yyyy${"_".repeat(197)}`, "longer than the max allowed length 200"],
      ["DAY", "yyyyMMddmm", "unsupported time field 'm'"],
    ];
    for (const [u, f, msg] of bad) {
      expect(errorOf(() => validateTimeFormat(u, f), Errors.INVALID_CONFIG_EXCEPTION)).toContain(msg);
    }
  });
});

describe("retention and pre-creation", () => {
  const now = Date.UTC(2024, 8, 10, 0, 30); // 2024-09-10 00:30 UTC

  it("expires values older than now - num-retention units; negative keeps all", () => {
    const s = strategy("DAY", "UTC", { numRetention: 2 });
    expect(retentionCutoff(s, now)).toBe("20240908");
    expect(isExpiredAutoPartition(s, "20240907", now)).toBe(true);
    expect(isExpiredAutoPartition(s, "20240908", now)).toBe(false);
    expect(isExpiredAutoPartition(s, "1", now)).toBe(true); // plain string order, as Fluss
    expect(isExpiredAutoPartition(s, "A", now)).toBe(false);
    expect(retentionCutoff({ ...s, numRetention: -1 }, now)).toBeNull();
    expect(retentionCutoff({ ...s, numRetention: 2_000_000_000 }, now)).toBeNull();
  });

  it("pre-creates offsets 0..n-1 for one partition key, none for several", () => {
    const s = strategy("MONTH", "UTC", { numPrecreate: 4 });
    expect(partitionNamesToPrecreate(["dt"], s, now)).toEqual(["202409", "202410", "202411", "202412"]);
    expect(partitionNamesToPrecreate(["dt"], s, now, 2)).toEqual(["202409", "202410"]);
    expect(partitionNamesToPrecreate(["a", "dt"], { ...s, key: "dt" }, now)).toEqual([]);
    expect(partitionNamesToPrecreate(["dt"], { ...s, enabled: false }, now)).toEqual([]);
  });

  it("reads the time value out of multi-key names", () => {
    const s = strategy("DAY", "UTC", { key: "dt" });
    expect(autoPartitionValueOf(["a", "dt", "b"], s, "x$20240910$y")).toBe("20240910");
    expect(autoPartitionValueOf(["dt"], strategy("DAY", "UTC"), "20240910")).toBe("20240910");
  });
});

describe("manually created partitions of auto-partitioned tables", () => {
  const now = Date.UTC(2024, 10, 11, 12);

  it("must match the format and not be expired", () => {
    const s = strategy("DAY", "UTC", { numRetention: 7 });
    expect(() => validateAutoPartitionTime({ dt: "20241104" }, ["dt"], s, now)).not.toThrow();
    expect(() => validateAutoPartitionTime({ dt: "20261231" }, ["dt"], s, now)).not.toThrow();
    expect(
      errorOf(
        () => validateAutoPartitionTime({ dt: "20241103" }, ["dt"], s, now),
        Errors.PARTITION_SPEC_INVALID_EXCEPTION,
      ),
    ).toContain("is out-of-date; the earliest retained partition is '20241104'");
    expect(
      errorOf(
        () => validateAutoPartitionTime({ dt: "2024-11-11" }, ["dt"], s, now),
        Errors.PARTITION_SPEC_INVALID_EXCEPTION,
      ),
    ).toContain("does not match the expected format 'yyyyMMdd' for auto-partition time unit 'DAY'");
  });

  it("checks only the format when auto partitioning is off but a format is set; nothing otherwise", () => {
    const off = strategy("DAY", "UTC", { enabled: false, timeFormat: "yyyy-MM-dd" });
    expect(() => validateAutoPartitionTime({ dt: "1999-01-01" }, ["dt"], off, now)).not.toThrow();
    expect(() => validateAutoPartitionTime({ dt: "19990101" }, ["dt"], off, now)).toThrow(
      /expected format 'yyyy-MM-dd'/,
    );
    const none = strategy("DAY", "UTC", { enabled: false });
    expect(() => validateAutoPartitionTime({ dt: "anything" }, ["dt"], none, now)).not.toThrow();
  });

  it("uses the configured time key with several partition keys", () => {
    const s = strategy("DAY", "UTC", { key: "dt", numPrecreate: 0 });
    expect(() =>
      validateAutoPartitionTime({ region: "eu", dt: "20241111" }, ["region", "dt"], s, now),
    ).not.toThrow();
    expect(() =>
      validateAutoPartitionTime({ region: "20241111", dt: "eu" }, ["region", "dt"], s, now),
    ).toThrow(/partition value 'eu' of 'dt'/);
  });
});

describe("auto-partition table options", () => {
  const cols: Record<string, string> = { dt: "STRING", region: "STRING", day: "DATE", id: "BIGINT" };
  const typeOf = (c: string) => (cols[c] === undefined ? undefined : parseType(cols[c]!));
  const on = { "table.auto-partition.enabled": "true" };

  it("reads the strategy with Fluss's defaults", () => {
    expect(autoPartitionStrategyOf({}, "Europe/Berlin")).toEqual({
      enabled: false,
      key: null,
      timeUnit: "DAY",
      timeFormat: null,
      numPrecreate: 2,
      numRetention: 7,
      timeZone: "Europe/Berlin",
    });
    expect(autoPartitionStrategyOf({ ...on, "table.auto-partition.time-unit": "hour" }).timeUnit).toBe(
      "HOUR",
    );
  });

  it("accepts single-key tables and sets num-precreate 0 for multi-key ones", () => {
    expect(checkAutoPartitionOptions(["dt"], typeOf, on)).toEqual(on);
    const multi = { ...on, "table.auto-partition.key": "dt" };
    expect(checkAutoPartitionOptions(["region", "dt"], typeOf, multi)).toEqual({
      ...multi,
      "table.auto-partition.num-precreate": "0",
    });
  });

  it("refuses what Fluss refuses", () => {
    const cfg = Errors.INVALID_CONFIG_EXCEPTION;
    const tbl = Errors.INVALID_TABLE_EXCEPTION;
    expect(errorOf(() => checkAutoPartitionOptions([], typeOf, on), cfg)).toContain(
      "needs a partitioned table",
    );
    expect(errorOf(() => checkAutoPartitionOptions(["region", "dt"], typeOf, on), tbl)).toContain(
      "must name its time key",
    );
    expect(
      errorOf(
        () =>
          checkAutoPartitionOptions(["region", "dt"], typeOf, { ...on, "table.auto-partition.key": "id" }),
        tbl,
      ),
    ).toContain("not a partition key");
    expect(
      errorOf(
        () =>
          checkAutoPartitionOptions(["region", "dt"], typeOf, {
            ...on,
            "table.auto-partition.key": "dt",
            "table.auto-partition.num-precreate": "2",
          }),
        tbl,
      ),
    ).toContain("auto pre-create is unsupported");
    expect(errorOf(() => checkAutoPartitionOptions(["day"], typeOf, on), tbl)).toContain(
      "'yyyy-MM-dd' when the time key 'day' is a DATE",
    );
    expect(
      errorOf(
        () =>
          checkAutoPartitionOptions(["day"], typeOf, { ...on, "table.auto-partition.time-unit": "MONTH" }),
        tbl,
      ),
    ).toContain("must be 'DAY'");
    expect(() =>
      checkAutoPartitionOptions(["day"], typeOf, { ...on, "table.auto-partition.time-format": "yyyy-MM-dd" }),
    ).not.toThrow();
    expect(
      errorOf(
        () => checkAutoPartitionOptions(["dt"], typeOf, { "table.auto-partition.time-format": "MM-yyyy" }),
        tbl,
      ),
    ).toContain("invalid table property 'table.auto-partition.time-format'");
    expect(
      errorOf(
        () => checkAutoPartitionOptions(["dt"], typeOf, { "table.auto-partition.time-zone": "Nowhere" }),
        cfg,
      ),
    ).toContain("invalid time zone 'Nowhere'");
  });
});
