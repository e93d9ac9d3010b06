// Lake tiering under kill -9: a cluster (in-process) takes a continuous stream of appends to a
// lake-enabled log table and upserts/deletes to a lake-enabled primary-key table (several buckets
// each) while `fluss tiering` runs as a child process with a 1 s freshness and is killed with
// SIGKILL again and again, at each of these points once per table (seeded order, seeded details:
// after 0-3 commits of that process, which Parquet file, which delay): when the k-th Parquet file
// of a round is created (mid data files), when a manifest appears (data done, before the
// snapshot), when the new metadata version's temporary file appears (just before the link that
// publishes it), when the version hint's temporary file appears (published, hint not yet moved),
// or after a random delay (start-up, mid-round or idle). After every kill, every published
// Iceberg version of both tables must reference only complete files (none missing or truncated,
// every Parquet footer readable with the recorded row count), and the log table's lake must hold
// each bucket's offsets [0, recorded offset) exactly once (DuckDB over the snapshot's files). Then
// the writers stop, a last tiering process catches up, and the final snapshot is checked through
// the union read and DuckDB: the log table's lake = the full log scan (every row once, no gap),
// the primary-key table's lake = its KV state (one row per key). Orphan files of killed rounds
// are allowed and reported. The seed is printed; FLUSS_LAKE_KILL_SEED replays one. A second test
// shows the audit catches a truncated data file and a missing manifest.

import { type ChildProcess, spawn } from "node:child_process";
import { type FSWatcher, watch } from "node:fs";
import { mkdtemp, rename, rm, stat, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Table } from "@fluss-ts/client";
import { systemClock } from "@fluss-ts/common";
import { LakeTable, tableLocation, UnionScanner } from "@fluss-ts/lake";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readManifest, readManifestList } from "../../packages/lake/src/iceberg/lake-table.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { auditLakeTable } from "../helpers/lake-warehouse.ts";

const SEED = Number(process.env.FLUSS_LAKE_KILL_SEED ?? 1403);
const LOG_BUCKETS = 4;
const PK_BUCKETS = 3;
const PK_KEYS = 400;
/** Longest wait for a kill point before killing anyway (the round may not have reached it). */
const KILL_POINT_WAIT_MS = 8_000;
const CATCH_UP_MS = 30_000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type KillAt =
  | { kind: "parquet"; nth: number }
  | { kind: "manifest" }
  | { kind: "publish" }
  | { kind: "hint" }
  | { kind: "delay"; ms: number };

/** Where to kill: in a round of `table`, once the process committed `afterCommits` snapshots. */
interface KillPoint {
  readonly table: "kill_log" | "kill_pk";
  readonly afterCommits: number;
  readonly at: KillAt;
}

/** Every table × every kind of kill point once, in a seeded order with seeded details. */
function killPlan(rnd: () => number): KillPoint[] {
  const plan: KillPoint[] = [];
  for (const table of ["kill_log", "kill_pk"] as const) {
    for (const kind of ["parquet", "manifest", "publish", "hint", "delay"] as const) {
      const afterCommits = Math.floor(rnd() * 4);
      const at: KillAt =
        kind === "parquet"
          ? { kind, nth: 1 + Math.floor(rnd() * 3) }
          : kind === "delay"
            ? { kind, ms: Math.floor(rnd() * 1500) }
            : { kind };
      plan.push({ table, afterCommits, at });
    }
  }
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  return plan;
}

/** Does a file-system event (path relative to the warehouse) reach `p`? */
function reaches(p: KillPoint, file: string, parquetSeen: number): boolean {
  if (!file.startsWith(`fluss/${p.table}/`)) return false;
  if (p.at.kind === "parquet") return file.endsWith(".parquet") && parquetSeen >= p.at.nth;
  if (p.at.kind === "manifest") return /-m0\.avro$/.test(file);
  if (p.at.kind === "publish") return /\.tmp-[^/]*\.metadata\.json$/.test(file);
  if (p.at.kind === "hint") return /\.tmp-[^/]*\.hint$/.test(file);
  return false;
}

interface Tiering {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
  commits(): number;
}

function spawnTiering(bootstrap: string, warehouse: string): Tiering {
  const child = spawn(
    process.execPath,
    ["packages/cli/bin/fluss.ts", "-b", bootstrap, "tiering", "--warehouse", warehouse],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-200_000);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    stderr: () => err,
    commits: () => err.split("snapshot committed").length - 1,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const norm = (r: object) => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? Number(v) : v));

/** The lake rows of a table's current snapshot, through the lake's own reader (no deletes applied). */
async function lakeFiles(warehouse: string, t: Table) {
  const lake = await LakeTable.open(warehouse, t.info, systemClock, false);
  const state = lake ? await lake.state() : null;
  if (!state) return null;
  const data: Array<{ path: string; seq: number }> = [];
  const deletes: Array<{ path: string; seq: number }> = [];
  for (const mf of await readManifestList(state.snapshot["manifest-list"])) {
    for (const e of await readManifest(mf.manifest_path)) {
      const f = { path: e.data_file.file_path, seq: e.sequence_number ?? mf.sequence_number };
      (e.data_file.content === 0 ? data : deletes).push(f);
    }
  }
  return { state, data, deletes };
}

describe("lake tiering killed with SIGKILL mid-round", () => {
  let tc: TestCluster;
  let warehouse: string;
  let watcher: FSWatcher | undefined;
  let tiering: Tiering | undefined;
  let duck: DuckDBInstance;
  /** Stops the writers (also when the test failed midway, before the cluster stops). */
  let stopWriters: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    tc = await startCluster();
    warehouse = await mkdtemp(join(tmpdir(), "fluss-lake-kill-"));
    duck = await DuckDBInstance.create(":memory:");
  });
  afterAll(async () => {
    await stopWriters().catch(() => undefined);
    watcher?.close();
    if (tiering && tiering.child.exitCode === null) {
      tiering.child.kill("SIGKILL");
      await tiering.exited;
    }
    duck?.closeSync();
    await tc?.stop();
    await rm(warehouse, { recursive: true, force: true });
  });

  async function duckRows(sql: string): Promise<string[]> {
    const c = await duck.connect();
    try {
      return (await c.runAndReadAll(sql)).getRowObjectsJS().map(norm);
    } finally {
      c.closeSync();
    }
  }

  it("never publishes a partial snapshot and resumes with no loss and no duplicate", async () => {
    console.log(`lake-tiering-kill seed ${SEED} (FLUSS_LAKE_KILL_SEED=${SEED} replays it)`);
    const rnd = mulberry32(SEED);
    const freshness = { "table.datalake.enabled": "true", "table.datalake.freshness": "1 s" };
    await tc.conn.admin.createTable("fluss.kill_log", {
      schema: "id BIGINT NOT NULL, msg STRING, v DOUBLE",
      buckets: LOG_BUCKETS,
      options: freshness,
    });
    await tc.conn.admin.createTable("fluss.kill_pk", {
      schema: "k INT NOT NULL, name STRING, n BIGINT, PRIMARY KEY (k)",
      buckets: PK_BUCKETS,
      options: freshness,
    });
    const logT = await tc.conn.getTable("fluss.kill_log");
    const pkT = await tc.conn.getTable("fluss.kill_pk");
    const logLoc = tableLocation(warehouse, logT.info.path);
    const pkLoc = tableLocation(warehouse, pkT.info.path);

    // Writers: a stream of appends and upserts/deletes until told to stop (expected state kept).
    const pkExpected = new Map<number, string>();
    // Cold keys: written once before tiering starts, so the union read has lake rows to merge.
    const cold = pkT.newUpsertWriter();
    for (let k = PK_KEYS; k < PK_KEYS + 100; k++) {
      const row = { k, name: `cold${k}`, n: -1n };
      await cold.upsert(row);
      pkExpected.set(k, norm(row));
    }
    await cold.close();
    let written = 0;
    let writing = true;
    const writer = (async () => {
      const lw = logT.newAppendWriter();
      const uw = pkT.newUpsertWriter();
      const wrnd = mulberry32(SEED ^ 0x9e3779b9);
      let n = 0;
      while (writing) {
        for (let i = 0; i < 150; i++, written++)
          await lw.append({
            id: BigInt(written),
            msg: `m${written}-${"x".repeat(written % 60)}`,
            v: written / 8,
          });
        for (let i = 0; i < 40; i++, n++) {
          const k = Math.floor(wrnd() * PK_KEYS);
          if (wrnd() < 0.15) {
            await uw.delete({ k });
            pkExpected.delete(k);
          } else {
            const row = { k, name: `k${k}-${n}`, n: BigInt(n) };
            await uw.upsert(row);
            pkExpected.set(k, norm(row));
          }
        }
        await Promise.all([lw.flush(), uw.flush()]);
        await sleep(15);
      }
      await Promise.all([lw.close(), uw.close()]);
    })();
    stopWriters = async () => {
      writing = false;
      await writer;
    };

    // One watcher over the warehouse; each tiering process gets the kill point it must reach.
    let onFile: ((file: string) => void) | null = null;
    watcher = watch(warehouse, { recursive: true }, (_event, name) => {
      if (name !== null) onFile?.(String(name));
    });

    const log: string[] = [];
    let orphansBefore = 0;
    let killsLeavingOrphans = 0;
    let commitsWhileKilling = 0;
    const plan = killPlan(rnd);
    for (let kill = 0; kill < plan.length; kill++) {
      const point = plan[kill]!;
      const t = spawnTiering(tc.bootstrap, warehouse);
      tiering = t;
      const armAt = Date.now() + KILL_POINT_WAIT_MS;
      while (t.commits() < point.afterCommits && t.child.exitCode === null && Date.now() < armAt)
        await sleep(10);
      let parquetSeen = 0;
      let timer: NodeJS.Timeout | undefined;
      const reached = new Promise<string>((resolve) => {
        onFile = (file) => {
          if (file.startsWith(`fluss/${point.table}/`) && file.endsWith(".parquet")) parquetSeen++;
          if (reaches(point, file, parquetSeen)) {
            t.child.kill("SIGKILL");
            resolve(`at ${file}`);
          }
        };
        const waitMs = point.at.kind === "delay" ? point.at.ms : KILL_POINT_WAIT_MS;
        timer = setTimeout(
          () => resolve(point.at.kind === "delay" ? `after ${waitMs} ms` : "not reached"),
          waitMs,
        );
        if (t.child.exitCode !== null) resolve(`exited by itself with ${t.child.exitCode}`);
        void t.exited.then((code) => resolve(`exited by itself with ${code}`));
      });
      const how = await reached;
      clearTimeout(timer);
      onFile = null;
      t.child.kill("SIGKILL");
      const code = await t.exited;
      expect(how, `tiering process ${kill} exited before its kill: ${t.stderr().slice(-2000)}`).not.toMatch(
        /exited by itself/,
      );
      expect(code).toBeNull();
      expect(t.stderr(), "the tiering process logged no failed round").not.toMatch(/round failed/);
      commitsWhileKilling += t.commits();
      const [la, pa] = [await auditLakeTable(logLoc), await auditLakeTable(pkLoc)];
      expect([...la.problems, ...pa.problems], `published versions after kill ${kill}`).toEqual([]);
      const orphans =
        la.orphanDataFiles + pa.orphanDataFiles + la.orphanMetadataFiles + pa.orphanMetadataFiles;
      if (orphans > orphansBefore) killsLeavingOrphans++;
      orphansBefore = orphans;
      log.push(
        `kill ${kill}: ${JSON.stringify(point)} ${how}, ${t.commits()} commits, log v${la.versions} pk v${pa.versions}, orphans ${orphans}`,
      );
      await checkLogLakeContiguous(kill);
    }
    console.log(log.join("\n"));

    // The writers stop; a last tiering process catches up with the end of both tables.
    await stopWriters();
    const logScan: string[] = [];
    const scanner = logT.newLogScanner({ from: "earliest", untilLatest: true });
    for await (const r of scanner) logScan.push(`${r.bucket}:${r.offset}:${norm(r.row)}`);
    scanner.close();
    expect(logScan.length).toBe(written);
    const kv: string[] = [];
    for await (const row of pkT.newSnapshotScanner()) kv.push(norm(row));
    expect(kv.sort()).toEqual([...pkExpected.values()].sort());
    // Union reads at the lake state the last killed process left (lake, then the log tail).
    const beforeCatchUp = { log: await unionOf(logT, true), pk: await unionOf(pkT, false) };
    expect(beforeCatchUp.log.rows.sort()).toEqual([...logScan].sort());
    expect(beforeCatchUp.pk.rows.sort()).toEqual([...kv].sort());
    expect([...beforeCatchUp.log.sources].sort(), "a log-table union read from lake and log").toEqual([
      "lake",
      "log",
    ]);
    expect(beforeCatchUp.pk.sources.has("lake"), "a primary-key union read with lake rows").toBe(true);
    const final = spawnTiering(tc.bootstrap, warehouse);
    tiering = final;
    const ends = async (t: Table, buckets: number) =>
      tc.conn.admin.listOffsets(
        t.info.path,
        "latest",
        Array.from({ length: buckets }, (_, i) => i),
        null,
      );
    const logEnds = await ends(logT, LOG_BUCKETS);
    const pkEnds = await ends(pkT, PK_BUCKETS);
    const caughtUp = async (t: Table, e: Map<number, bigint>) => {
      const f = await lakeFiles(warehouse, t);
      return f !== null && [...e].every(([b, end]) => f.state.offsets.buckets.get(`:${b}`)?.offset === end);
    };
    const deadline = Date.now() + CATCH_UP_MS;
    while (!((await caughtUp(logT, logEnds)) && (await caughtUp(pkT, pkEnds)))) {
      if (Date.now() > deadline || final.child.exitCode !== null)
        throw new Error(
          `the last tiering process did not catch up within ${CATCH_UP_MS} ms: ${final.stderr().slice(-2000)}`,
        );
      await sleep(200);
    }
    final.child.kill("SIGTERM");
    expect(await final.exited).toBe(0);
    expect(final.stderr()).not.toMatch(/round failed/);

    // (c) every version ever published references only complete files.
    const la = await auditLakeTable(logLoc);
    const pa = await auditLakeTable(pkLoc);
    expect([...la.problems, ...pa.problems]).toEqual([]);
    console.log(
      `final: log ${la.versions} versions / ${la.snapshots} snapshots, pk ${pa.versions} / ${pa.snapshots}; ` +
        `orphans left by killed rounds: ${la.orphanDataFiles + pa.orphanDataFiles} data files, ` +
        `${la.orphanMetadataFiles + pa.orphanMetadataFiles} metadata files; ${killsLeavingOrphans} of ${plan.length} kills ` +
        `left new orphans (died mid-round), ${commitsWhileKilling} snapshots committed between kills; ${written} log rows; ` +
        `union read before the last catch-up from ${[...beforeCatchUp.log.sources]} (log table), ${[...beforeCatchUp.pk.sources]} (primary-key table)`,
    );
    // The seeded kill points do land inside rounds (else this test would prove nothing).
    expect(killsLeavingOrphans).toBeGreaterThan(0);

    // (a) log table: the lake holds every log row once (offsets 0..end per bucket, no gap), the
    // same rows as the full log scan, through the union read and DuckDB alike.
    const union = await unionOf(logT, true);
    expect([...union.sources]).toEqual(["lake"]);
    expect(union.rows.length).toBe(logScan.length);
    expect(union.rows.sort()).toEqual([...logScan].sort());
    const lf = (await lakeFiles(warehouse, logT))!;
    const files = (paths: string[], cols: string) =>
      paths.map((p) => `SELECT ${cols} FROM read_parquet('${p}')`).join(" UNION ALL ");
    const viaDuck = await duckRows(
      `SELECT __bucket AS b, __offset AS o, id, msg, v FROM (${files(
        lf.data.map((f) => f.path),
        "__bucket, __offset, id, msg, v",
      )})`,
    );
    const duckKeys = viaDuck.map((s) => {
      const r = JSON.parse(s);
      return `${r.b}:${r.o}:${norm({ id: r.id, msg: r.msg, v: r.v })}`;
    });
    expect(duckKeys.sort()).toEqual([...logScan].sort());

    // (b) primary-key table: the lake state (data minus newer equality deletes) = the KV state.
    const pkUnion = await unionOf(pkT, false);
    expect([...pkUnion.sources]).toEqual(["lake"]);
    expect(pkUnion.rows.sort()).toEqual([...kv].sort());
    const pf = (await lakeFiles(warehouse, pkT))!;
    const dataSql = pf.data
      .map((f) => `SELECT k, name, n, ${f.seq} AS seq FROM read_parquet('${f.path}')`)
      .join(" UNION ALL ");
    const delSql = pf.deletes
      .map((f) => `SELECT k, ${f.seq} AS seq FROM read_parquet('${f.path}')`)
      .join(" UNION ALL ");
    const pkDuck = await duckRows(
      pf.deletes.length === 0
        ? `SELECT k, name, n FROM (${dataSql})`
        : `SELECT k, name, n FROM (${dataSql}) x WHERE NOT EXISTS (SELECT 1 FROM (${delSql}) d WHERE d.k = x.k AND d.seq > x.seq)`,
    );
    const pkKeys = pkDuck.map((r) => JSON.parse(r).k);
    expect(new Set(pkKeys).size).toBe(pkKeys.length);
    expect(pkDuck.sort()).toEqual([...kv].sort());

    /** A union read: rows (with bucket:offset for the log table) and the sources seen. */
    async function unionOf(t: Table, withOffsets: boolean) {
      const rows: string[] = [];
      const sources = new Set<string>();
      for await (const r of new UnionScanner(t, tc.conn.admin, { warehouse })) {
        sources.add(r.source);
        rows.push(withOffsets ? `${r.bucket}:${r.offset}:${norm(r.row)}` : norm(r.row));
      }
      return { rows, sources };
    }

    /** The log table's current lake snapshot holds each bucket's offsets [0, recorded) exactly once. */
    async function checkLogLakeContiguous(kill: number): Promise<void> {
      const f = await lakeFiles(warehouse, logT);
      if (f === null) return;
      const rows = await duckRows(
        `SELECT __bucket AS b, count(*) AS n, count(DISTINCT __offset) AS d, min(__offset) AS lo, max(__offset) AS hi FROM (${f.data
          .map((d) => `SELECT __bucket, __offset FROM read_parquet('${d.path}')`)
          .join(" UNION ALL ")}) GROUP BY __bucket ORDER BY __bucket`,
      );
      const got = new Map(rows.map((s) => [JSON.parse(s).b as number, JSON.parse(s)]));
      for (let b = 0; b < LOG_BUCKETS; b++) {
        const recorded = Number(f.state.offsets.buckets.get(`:${b}`)?.offset ?? 0n);
        const g = got.get(b);
        const seen = g ? { n: g.n, d: g.d, lo: g.lo, hi: g.hi } : { n: 0, d: 0, lo: null, hi: null };
        const want =
          recorded === 0
            ? { n: 0, d: 0, lo: null, hi: null }
            : { n: recorded, d: recorded, lo: 0, hi: recorded - 1 };
        expect(seen, `log lake bucket ${b} after kill ${kill}`).toEqual(want);
      }
    }
  }, 120_000);

  it("the warehouse audit finds a truncated data file and a missing manifest", async () => {
    const t = await tc.conn.getTable("fluss.kill_log");
    const loc = tableLocation(warehouse, t.info.path);
    expect((await auditLakeTable(loc)).problems).toEqual([]);
    const f = (await lakeFiles(warehouse, t))!;
    const manifests = (await readManifestList(f.state.snapshot["manifest-list"])).filter(
      (m) => m.content === 0,
    );
    expect(manifests.length).toBeGreaterThan(1);
    const victim = (await readManifest(manifests.at(-1)!.manifest_path))[0]!.data_file.file_path;
    await truncate(victim, (await stat(victim)).size - 10);
    const gone = manifests[0]!.manifest_path;
    await rename(gone, `${gone}.gone`);
    const problems = (await auditLakeTable(loc)).problems;
    expect(problems.some((p) => p.includes(victim) && /bytes, \d+ recorded/.test(p))).toBe(true);
    expect(problems.some((p) => p.includes(gone) && /is missing/.test(p))).toBe(true);
  });
});
