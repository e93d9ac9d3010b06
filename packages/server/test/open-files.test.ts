// The open-files budget (open-files.ts): how a limit is split, refusals of options that do not fit,
// reading the soft limit of a process started under `prlimit`, and the coordinator refusing
// primary-key tables and partitions whose buckets would not fit (nothing recorded), while log
// tables are not limited and a drop gives the room back.

import { execFileSync } from "node:child_process";
import { type ErrorKind, Errors, isFlussError } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig } from "../src/config.ts";
import type { ReplicaAssignment, StopReplica } from "../src/coordinator/coordinator.ts";
import {
  KV_BUCKET_OPEN_FILES,
  OpenFilesBudget,
  type OpenFilesOptions,
  planOpenFiles,
} from "../src/open-files.ts";
import { type CoordinatorFixture, descriptor, FakeTabletServer, startCoordinator } from "./helpers.ts";

const auto: OpenFilesOptions = {
  logOpenFilesMax: 0,
  openFilesReserve: 0,
  rpcConnectionsMax: 10_000,
  servers: 2,
};

function errorOf(fn: () => unknown): { kind: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isFlussError(err)) return { kind: err.kind.name, message: err.message };
    throw err;
  }
  throw new Error("expected a FlussError");
}

async function rejection(p: Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isFlussError(err)) return { kind: err.kind.name, message: err.message };
    throw err;
  }
  throw new Error("expected a FlussError");
}

function expectKind(e: { kind: string }, kind: ErrorKind): void {
  expect(e.kind).toBe(kind.name);
}

describe("planOpenFiles", () => {
  it("splits a limit into in-use, reserve, log file cache and primary-key buckets", () => {
    const p = planOpenFiles({ soft: 256, source: "/proc/self/limits" }, 25, auto);
    expect(p).toEqual({
      limit: 256,
      limitSource: "/proc/self/limits",
      inUseAtStart: 25,
      reserve: 64,
      logOpenFilesMax: 83, // half of 256 - 25 - 64
      kvBucketOpenFiles: KV_BUCKET_OPEN_FILES,
      kvBucketsMax: 28, // the other half, 3 descriptors each
      connectionsPerServerMax: 24, // (64 - 16) / 2 servers
    });
    expect(p.inUseAtStart + p.reserve + p.logOpenFilesMax + p.kvBucketsMax * 3).toBeLessThanOrEqual(256);
    const big = planOpenFiles({ soft: 1024, source: "ulimit -n" }, 30, auto);
    expect(big.reserve).toBe(256);
    expect(big.logOpenFilesMax).toBe(369);
    expect(big.kvBucketsMax).toBe(123);
    expect(big.connectionsPerServerMax).toBe(120);
    // Explicit options are taken as given, connections never above rpc.max-connections.
    const set = planOpenFiles({ soft: 1024, source: "ulimit -n" }, 30, {
      logOpenFilesMax: 100,
      openFilesReserve: 100,
      rpcConnectionsMax: 10,
      servers: 2,
    });
    expect([set.reserve, set.logOpenFilesMax, set.kvBucketsMax, set.connectionsPerServerMax]).toEqual([
      100, 100, 264, 10,
    ]);
  });

  it("refuses a limit too low to run with and a log.open-files.max that does not fit, naming the fix", () => {
    const low = errorOf(() => planOpenFiles({ soft: 90, source: "ulimit -n" }, 20, auto));
    expectKind(low, Errors.INVALID_CONFIG_EXCEPTION);
    expect(low.message).toContain("open files limit 90");
    expect(low.message).toContain("ulimit -n");
    const tooMany = errorOf(() =>
      planOpenFiles({ soft: 256, source: "ulimit -n" }, 25, { ...auto, logOpenFilesMax: 500 }),
    );
    expectKind(tooMany, Errors.INVALID_CONFIG_EXCEPTION);
    expect(tooMany.message).toContain("'log.open-files.max' 500");
  });
});

describe("open-files server options", () => {
  it("default to 0 (derived at start) and refuse values out of range", () => {
    const d = defaultServerConfig();
    expect([d.logOpenFilesMax, d.openFilesReserve]).toEqual([0, 0]);
    const c = applyServerOptions(d, { "log.open-files.max": "512", "server.open-files.reserve": "128" });
    expect([c.logOpenFilesMax, c.openFilesReserve]).toEqual([512, 128]);
    for (const [key, value] of [
      ["log.open-files.max", "5"],
      ["log.open-files.max", "-1"],
      ["server.open-files.reserve", "x"],
    ] as const) {
      const e = errorOf(() => applyServerOptions(d, { [key]: value }));
      expectKind(e, Errors.INVALID_CONFIG_EXCEPTION);
      expect(e.message).toContain(key);
    }
  });
});

describe("readOpenFilesLimit", () => {
  const prlimit = (() => {
    try {
      execFileSync("prlimit", ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!prlimit)("reads the limit of a process (Node raises its soft limit to the hard one)", () => {
    const script = `import("${new URL("../src/open-files.ts", import.meta.url).pathname}").then((m) => console.log(JSON.stringify([m.readOpenFilesLimit(), m.countOpenFiles()])))`;
    const out = execFileSync("prlimit", ["--nofile=200:300", process.execPath, "-e", script], {
      encoding: "utf8",
    });
    const [limit, inUse] = JSON.parse(out) as [{ soft: number; source: string }, number];
    expect(limit).toEqual({ soft: 300, source: "/proc/self/limits" });
    expect(inUse).toBeGreaterThan(2);
    expect(inUse).toBeLessThan(300);
  });
});

/** A tablet server that holds a budget reservation for each primary-key bucket it leads. */
class BudgetedServer extends FakeTabletServer {
  private readonly budget: OpenFilesBudget;

  constructor(id: number, budget: OpenFilesBudget) {
    super(id);
    this.budget = budget;
  }

  override async notifyLeaderAndIsr(epoch: number, assignments: readonly ReplicaAssignment[]) {
    for (const a of assignments)
      if (a.table.descriptor.schema.primaryKey.length > 0 && a.leader === this.node.id)
        this.budget.reserveKvBucket();
    return super.notifyLeaderAndIsr(epoch, assignments);
  }

  override async stopReplicas(epoch: number, stops: readonly StopReplica[]) {
    for (const r of stops) {
      const a = [...this.hosted.values()].find(
        (h) => h.table.tableId === r.tableId && h.partitionId === r.partitionId && h.bucket === r.bucket,
      );
      if (a && a.table.descriptor.schema.primaryKey.length > 0) this.budget.releaseKvBucket();
    }
    return super.stopReplicas(epoch, stops);
  }
}

describe("the coordinator and the primary-key bucket budget", () => {
  let fx: CoordinatorFixture;
  afterEach(async () => {
    await fx?.close();
  });

  it("refuses a primary-key table or partition whose buckets would not fit, records nothing, and a drop frees room", async () => {
    // Limit 256: 28 primary-key buckets (see above).
    const budget = new OpenFilesBudget(planOpenFiles({ soft: 256, source: "ulimit -n" }, 25, auto));
    fx = await startCoordinator({ servers: 0, kvBucketCapacity: budget });
    await fx.coordinator.registerTabletServer(new BudgetedServer(0, budget));
    const c = fx.coordinator;
    const pk = (buckets: number, partitionKeys: string[] = []) =>
      descriptor("id BIGINT NOT NULL, dt STRING NOT NULL, v STRING, PRIMARY KEY (id, dt)", {
        buckets,
        partitionKeys,
      });

    await c.createTable({ database: "db", table: "a" }, pk(20), false);
    expect(budget.kvBucketsHosted).toBe(20);
    const refused = await rejection(c.createTable({ database: "db", table: "b" }, pk(10), false));
    expectKind(refused, Errors.BUCKET_MAX_NUM_EXCEPTION);
    expect(refused.message).toContain("table db.b needs 10 primary-key buckets");
    expect(refused.message).toContain("room for 8 more");
    expect(refused.message).toContain("open files limit 256");
    expect(refused.message).toContain("ulimit -n");
    expect(await c.tableExists({ database: "db", table: "b" })).toBe(false);
    // Log tables hold no descriptors while idle: not limited.
    await c.createTable({ database: "db", table: "log" }, descriptor("id BIGINT", { buckets: 400 }), false);

    // A partitioned primary-key table: each partition is checked.
    await c.createTable({ database: "db", table: "p" }, pk(4, ["dt"]), false);
    await c.createPartition({ database: "db", table: "p" }, { dt: "1" }, false);
    await c.createPartition({ database: "db", table: "p" }, { dt: "2" }, false);
    expect(budget.kvBucketsHosted).toBe(28);
    const part = await rejection(c.createPartition({ database: "db", table: "p" }, { dt: "3" }, false));
    expectKind(part, Errors.BUCKET_MAX_NUM_EXCEPTION);
    expect(part.message).toContain("partition 'dt=3' of table db.p needs 4 primary-key buckets");
    expect((await c.listPartitions({ database: "db", table: "p" })).map((p) => p.partitionName)).toEqual([
      "1",
      "2",
    ]);
    const tooWide = await rejection(c.createTable({ database: "db", table: "q" }, pk(30, ["dt"]), false));
    expect(tooWide.message).toContain("each partition of table db.q needs 30");

    // Dropping gives the descriptors back.
    await c.dropTable({ database: "db", table: "a" }, false);
    expect(budget.kvBucketsHosted).toBe(8);
    await c.createTable({ database: "db", table: "b" }, pk(10), false);
    expect(budget.kvBucketsHosted).toBe(18);
  });
});
