// Log integrity end to end, against an embedded cluster restarted over the same data directory:
// - a corrupt batch below the recovery point takes only its bucket offline (a typed error naming
//   file, byte and offset answers every request for it), the rest of the server keeps serving, and
//   no restart deletes or truncates anything;
// - a corrupt batch met by a read reaches the reader as a non-retriable CORRUPT_RECORD_EXCEPTION
//   with bucket and offset, projected or not, and `fluss consume` exits 1 with one line;
// - rows holding 1 MB strings scan whole, projected and unprojected.

import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect, type FlussConnection, type LogScanner } from "@fluss-ts/client";
import { Errors, type FlussError, isFlussError } from "@fluss-ts/common";
import { applyServerOptions, defaultServerConfig, LocalCluster, type Logger } from "@fluss-ts/server";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { startCluster } from "../helpers/cluster.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), "fluss-corrupt-"));
  dirs.push(d);
  return d;
}

/** The log directory of one bucket of a table. */
function bucketDir(root: string, table: string, bucket: number): string {
  for (const server of fs.readdirSync(root).filter((n) => n.startsWith("tablet-server-"))) {
    const db = path.join(root, server, "fluss");
    if (!fs.existsSync(db)) continue;
    for (const t of fs.readdirSync(db)) {
      if (t.startsWith(`${table}-`)) return path.join(db, t, `log-${bucket}`);
    }
  }
  throw new Error(`no directory for ${table} bucket ${bucket} under ${root}`);
}

function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".log"))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Name, size and digest of every segment file of a bucket. */
function fingerprint(dir: string): string[] {
  return segmentFiles(dir).map((f) => {
    const bytes = fs.readFileSync(f);
    return `${path.basename(f)} ${bytes.byteLength} ${createHash("sha256").update(bytes).digest("hex")}`;
  });
}

/** Batch positions of a segment file: [position, base offset] (v0/v1 header: base offset, length). */
function batchStarts(file: string): Array<{ position: number; offset: bigint; size: number }> {
  const bytes = fs.readFileSync(file);
  const out: Array<{ position: number; offset: bigint; size: number }> = [];
  for (let p = 0; p + 12 <= bytes.byteLength; ) {
    const size = bytes.readInt32LE(p + 8) + 12;
    out.push({ position: p, offset: bytes.readBigInt64LE(p), size });
    p += size;
  }
  return out;
}

function flipByte(file: string, at: number): void {
  const fd = fs.openSync(file, "r+");
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, at);
  b[0] ^= 0x01;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
}

/** Every record of a scanner (bounded in time), or the error it failed with. */
async function drain(
  make: (signal: AbortSignal) => LogScanner,
  timeoutMs = 15_000,
): Promise<{ rows: Array<Record<string, unknown>>; error: FlussError | null }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const rows: Array<Record<string, unknown>> = [];
  try {
    for await (const r of make(controller.signal)) rows.push(r.row);
  } catch (err) {
    if (!isFlussError(err)) throw err;
    return { rows, error: err };
  } finally {
    clearTimeout(timer);
  }
  if (controller.signal.aborted) throw new Error(`the scan neither ended nor failed within ${timeoutMs} ms`);
  return { rows, error: null };
}

async function rowsOf(conn: FlussConnection, table: string, buckets?: number[]): Promise<number> {
  const t = await conn.getTable(table);
  const r = await drain((signal) =>
    t.newLogScanner({ untilLatest: true, signal, ...(buckets ? { buckets } : {}) }),
  );
  expect(r.error).toBeNull();
  return r.rows.length;
}

interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

/** A logger that keeps every line (warn and error lines are what operators see). */
function capturingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (a: object | string, b?: string): void => {
      lines.push(
        typeof a === "string"
          ? { level, obj: {}, msg: a }
          : { level, obj: a as Record<string, unknown>, msg: b ?? "" },
      );
    };
  const logger: Logger = {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
    child: () => logger,
  };
  return logger;
}

describe("log corruption", () => {
  it("a corrupt batch below the recovery point takes only its bucket offline; restarts delete nothing", async () => {
    const dir = await dataDir();
    const options = { "log.segment.file-size": "16384" };
    let c = await startCluster(options, dir);
    await c.conn.admin.createTable("fluss.hurt", {
      schema: "id BIGINT NOT NULL, s STRING",
      buckets: 2,
      bucketKeys: ["id"],
      options: { "table.log.arrow.compression.type": "NONE" },
    });
    await c.conn.admin.createTable("fluss.fine", { schema: "id BIGINT NOT NULL, s STRING", buckets: 1 });
    const hurt = (await c.conn.getTable("fluss.hurt")).newAppendWriter({ batchSizeBytes: 2048, lingerMs: 1 });
    for (let i = 0; i < 3000; i++) await hurt.append({ id: BigInt(i), s: `hurt-${i}` });
    await hurt.close();
    const fine = (await c.conn.getTable("fluss.fine")).newAppendWriter();
    for (let i = 0; i < 500; i++) await fine.append({ id: BigInt(i), s: `fine-${i}` });
    await fine.close();
    const inBucket1 = await rowsOf(c.conn, "fluss.hurt", [1]);
    expect(inBucket1).toBeGreaterThan(0);
    expect(inBucket1).toBeLessThan(3000);
    await c.stop({ keepData: true });

    // A crash after the recovery point covered the whole log (the clean close wrote it; removing
    // the marker makes the next open recover), and a flipped byte in the middle of the last segment.
    const b0 = bucketDir(dir, "hurt", 0);
    fs.rmSync(path.join(b0, ".clean_shutdown"));
    const segments = segmentFiles(b0);
    expect(segments.length).toBeGreaterThan(2);
    const last = segments[segments.length - 1]!;
    const batches = batchStarts(last);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    const victim = batches[batches.length - 2]!; // valid batches follow it, all below the recovery point
    flipByte(last, victim.position + victim.size - 20);
    const before = fingerprint(b0);

    c = await startCluster(options, dir);
    try {
      // The rest of the server serves: another table, and the other bucket of this one.
      expect(await rowsOf(c.conn, "fluss.fine")).toBe(500);
      expect(await rowsOf(c.conn, "fluss.hurt", [1])).toBe(inBucket1);
      // The damaged bucket answers with a typed, non-retriable error naming file, byte and offset.
      const t = await c.conn.getTable("fluss.hurt");
      const r = await drain((signal) => t.newLogScanner({ untilLatest: true, buckets: [0], signal }));
      expect(r.error?.code).toBe(Errors.LOG_STORAGE_EXCEPTION.code);
      expect(r.error?.retriable).toBe(false);
      const message = r.error?.message ?? "";
      expect(message).toMatch(/bucket 0 of table fluss\.hurt .*offline/);
      expect(message).toContain(last);
      expect(message).toContain(`byte ${victim.position}`);
      expect(message).toContain(`offset ${victim.offset}`);
      // Writes to it fail the same way instead of hanging.
      const w = t.newAppendWriter({ lingerMs: 1 });
      const rows = Array.from({ length: 20 }, (_, i) => ({ id: BigInt(10_000 + i), s: "x" }));
      const written = await Promise.all(rows.map((row) => w.append(row)))
        .then(() => w.flush())
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(isFlussError(written) && written.is(Errors.LOG_STORAGE_EXCEPTION)).toBe(true);
      await w.close().catch(() => undefined);
      expect(fingerprint(b0)).toEqual(before);
    } finally {
      await c.stop({ keepData: true });
    }
    // Another restart finds the same and still changes nothing.
    c = await startCluster(options, dir);
    try {
      const t = await c.conn.getTable("fluss.hurt");
      const r = await drain((signal) => t.newLogScanner({ untilLatest: true, buckets: [0], signal }));
      expect(r.error?.code).toBe(Errors.LOG_STORAGE_EXCEPTION.code);
      expect(fingerprint(b0)).toEqual(before);
    } finally {
      await c.stop({ keepData: true });
    }
  }, 60_000);

  it("a reader meeting a corrupt batch fails with CORRUPT_RECORD_EXCEPTION, bucket and offset; consume exits 1", async () => {
    const dir = await dataDir();
    let c = await startCluster({}, dir);
    await c.conn.admin.createTable("fluss.rot", {
      schema: "id BIGINT NOT NULL, s STRING, n INT",
      buckets: 1,
      options: { "table.log.arrow.compression.type": "NONE" },
    });
    const w = (await c.conn.getTable("fluss.rot")).newAppendWriter();
    for (let batch = 0; batch < 4; batch++) {
      for (let i = 0; i < 50; i++)
        await w.append({ id: BigInt(batch * 50 + i), s: `row-${batch * 50 + i}-`, n: i });
      await w.flush();
    }
    await w.close();
    await c.stop({ keepData: true });

    // A cleanly shut down log is opened without a scan: the flip is met by reads only. It lands in
    // the value of column s of a row in the first batch (offset 0).
    const b0 = bucketDir(dir, "rot", 0);
    const file = segmentFiles(b0)[0]!;
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf("row-7-");
    const second = batchStarts(file)[1]!;
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(second.position);
    flipByte(file, at + 4);

    c = await startCluster({}, dir);
    try {
      const t = await c.conn.getTable("fluss.rot");
      for (const columns of [undefined, ["s"], ["id"], ["n", "s"]]) {
        const r = await drain((signal) =>
          t.newLogScanner({ untilLatest: true, signal, ...(columns ? { columns } : {}) }),
        );
        expect(r.rows, `columns ${columns}`).toEqual([]);
        expect(r.error?.code, `columns ${columns}`).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
        expect(r.error?.retriable).toBe(false);
        expect(r.error?.message).toMatch(/bucket 0\b.*offset 0\b/);
        expect(r.error?.message).toMatch(/CRC/);
      }
      // The bucket is not offline: reading past the bad batch works.
      const after = await drain((signal) =>
        t.newLogScanner({ untilLatest: true, signal, from: { offset: second.offset } }),
      );
      expect(after.error).toBeNull();
      expect(after.rows.length).toBe(150);

      const cli = await runCli(["--bootstrap", c.bootstrap, "consume", "fluss.rot", "--limit", "10"]);
      expect(cli.code).toBe(1);
      expect(cli.stdout).toBe("");
      const lines = cli.stderr.trimEnd().split("\n");
      expect(lines.length, cli.stderr).toBe(1);
      expect(lines[0]).toMatch(/^fluss: .*bucket 0\b.*offset 0\b.*\[CORRUPT_RECORD_EXCEPTION\]$/);
    } finally {
      await c.stop();
    }
  }, 60_000);

  it("logs each torn tail cut at open (warn: file, position, bytes) and each offline bucket (error)", async () => {
    const dir = await dataDir();
    const c = await startCluster({}, dir);
    await c.conn.admin.createTable("fluss.tails", {
      schema: "id BIGINT NOT NULL, s STRING",
      buckets: 2,
      bucketKeys: ["id"],
    });
    const w = (await c.conn.getTable("fluss.tails")).newAppendWriter({ lingerMs: 1 });
    for (let i = 0; i < 200; i++) await w.append({ id: BigInt(i), s: `t-${i}` });
    await w.close();
    await c.stop({ keepData: true });
    // Bucket 0: a crash left half a batch after the last flushed one (a torn tail, cut).
    const b0 = bucketDir(dir, "tails", 0);
    fs.rmSync(path.join(b0, ".clean_shutdown"));
    const file0 = segmentFiles(b0).at(-1)!;
    const size0 = fs.statSync(file0).size;
    expect(size0).toBeGreaterThan(0);
    fs.appendFileSync(file0, Buffer.alloc(100, 0x33));
    // Bucket 1: cleanly shut down, yet its log does not end on a whole batch (corruption).
    const file1 = segmentFiles(bucketDir(dir, "tails", 1)).at(-1)!;
    fs.appendFileSync(file1, Buffer.alloc(100, 0x44));

    const lines: LogLine[] = [];
    const config = applyServerOptions(defaultServerConfig(), {
      "data.dir": dir,
      "coordinator.port": "0",
      "tablet-server.port": "0",
    });
    const cluster = await LocalCluster.start({ config, logger: capturingLogger(lines) });
    try {
      const cut = lines.filter((l) => l.level === "warn" && l.obj.file === file0);
      expect(cut.length, JSON.stringify(lines.filter((l) => l.level === "warn"))).toBe(1);
      expect(cut[0]!.obj).toMatchObject({ position: size0, bytesCut: 100 });
      expect(cut[0]!.msg).toContain(`cut 100 bytes at byte ${size0} of ${file0}`);
      const offline = lines.filter(
        (l) => l.level === "error" && /bucket 1 of table fluss\.tails is offline/.test(l.msg),
      );
      expect(offline.length).toBe(1);
      expect(String((offline[0]!.obj.err as Error).message)).toContain(file1);
      expect(fs.statSync(file0).size).toBe(size0);
      const conn = await connect({ bootstrap: cluster.bootstrap });
      try {
        expect(await rowsOf(conn, "fluss.tails", [0])).toBeGreaterThan(0);
      } finally {
        await conn.close();
      }
    } finally {
      await cluster.stop();
    }
  }, 60_000);

  it("scans rows holding 1 MB strings, projected and unprojected", async () => {
    const c = await startCluster();
    try {
      await c.conn.admin.createTable("fluss.wide", {
        schema: "id BIGINT NOT NULL, s STRING, n INT",
        buckets: 1,
      });
      const t = await c.conn.getTable("fluss.wide");
      const w = t.newAppendWriter();
      const strings = [0, 1, 2].map(() => randomBytes(768 * 1024).toString("base64")); // 1 MiB each
      for (let i = 0; i < strings.length; i++) await w.append({ id: BigInt(i), s: strings[i], n: i });
      await w.append({ id: 3n, s: "short", n: 3 });
      await w.close();
      const expected = [...strings, "short"];
      for (const columns of [undefined, ["s"], ["id", "s"], ["n"]]) {
        const r = await drain((signal) =>
          t.newLogScanner({ untilLatest: true, signal, ...(columns ? { columns } : {}) }),
        );
        expect(r.error, `columns ${columns}`).toBeNull();
        expect(r.rows.length, `columns ${columns}`).toBe(4);
        if (columns === undefined || columns.includes("s")) {
          expect(r.rows.map((row) => row.s)).toEqual(expected);
        }
        if (columns?.includes("n")) expect(r.rows.map((row) => row.n)).toEqual([0, 1, 2, 3]);
        if (columns !== undefined) expect(Object.keys(r.rows[0]!)).toEqual(columns);
      }
    } finally {
      await c.stop();
    }
  }, 60_000);
});
