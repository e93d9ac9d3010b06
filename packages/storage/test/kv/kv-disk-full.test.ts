// A full disk under a KV tablet: store commits fail (injected at the lmdb seam, and for real on a
// small tmpfs when this process may mount one) without killing anything: reads keep answering
// with everything below the high watermark, writes are refused with STORAGE_EXCEPTION (retriable)
// and resume by themselves once space is freed; a changelog append that fails rolls back exactly
// what the log does not hold.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import {
  Errors,
  encodeKey,
  type FlussError,
  FlussError as FlussErrorClass,
  isFlussError,
  makeSchema,
} from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import type { LogTablet } from "../../src/index.ts";
import { removeTempDirs, tempDir } from "../helpers.ts";
import { injectDiskFull, openHarness, storeOf, upsert, waitFor } from "./kv-helpers.ts";

afterAll(removeTempDirs);

const schema = makeSchema(
  [
    { name: "a", type: "INT" },
    { name: "b", type: "STRING" },
    { name: "v", type: "INT" },
  ],
  ["a", "b"],
);
const prefix = (a: number): Uint8Array => encodeKey([schema.columns[0]!.type], [a]);

async function failureOf(p: Promise<unknown>): Promise<FlussError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isFlussError(err)) throw new Error(`expected a FlussError, got ${String(err)}`);
  return err;
}

describe("store commits on a full disk (injected)", () => {
  it("reads keep working, writes are refused with STORAGE_EXCEPTION and resume once space is freed", async () => {
    let h = await openHarness({ schema, storeCommitRetryMs: 5 });
    await h.put([upsert(1, "x", 1), upsert(2, "x", 2)]);
    const full = injectDiskFull(storeOf(h.kv));
    await h.put([upsert(1, "x", 10), upsert(1, "y", 3), upsert(3, "x", 4)], { hold: true });
    h.log.updateHighWatermark(h.log.logEndOffset); // acknowledged: the store must get it
    expect(await h.kv.committed()).toBe(false);
    expect(h.kv.stats().storeCommitFailure).toMatch(/No space left on device \(disk full or failing\)/);
    expect(h.kv.appliedLogOffset).toBe(2n);
    // Reads see everything below the high watermark.
    expect([h.get(1, "x"), h.get(1, "y"), h.get(3, "x")]).toEqual([
      [1, "x", 10],
      [1, "y", 3],
      [3, "x", 4],
    ]);
    const [under1] = await h.kv.prefixLookup([prefix(1)]);
    expect(under1!.map(h.decode)).toEqual([
      [1, "x", 10],
      [1, "y", 3],
    ]);
    expect((await h.kv.limitScan(3)).map(h.decode)).toEqual([
      [1, "x", 10],
      [1, "y", 3],
      [2, "x", 2],
    ]);
    const scan = h.kv.scan(); // the committed store with the in-flight entries over it
    expect(scan.logOffset).toBe(h.log.highWatermark);
    expect([...scan.values].map(h.decode)).toEqual([
      [1, "x", 10],
      [1, "y", 3],
      [2, "x", 2],
      [3, "x", 4],
    ]);
    // Writes are refused, typed and retriable, and leave nothing behind.
    const end = h.log.logEndOffset;
    const refused = await failureOf(h.put([upsert(4, "x", 5)]));
    expect([refused.code, refused.retriable]).toEqual([Errors.STORAGE_EXCEPTION.code, true]);
    expect([h.log.logEndOffset, h.kv.stats().preWriteBufferEntries]).toEqual([end, 0]);
    expect(full.attempts).toBeGreaterThanOrEqual(1);
    // Space is freed: the store catches up by itself and writes are taken again.
    full.on = false;
    await waitFor(() => h.kv.stats().storeCommitFailure === null && h.kv.appliedLogOffset === end);
    await h.put([upsert(4, "x", 5)]);
    const rows = [
      [1, "x", 10],
      [1, "y", 3],
      [2, "x", 2],
      [3, "x", 4],
      [4, "x", 5],
    ];
    expect(h.rows()).toEqual(rows);
    await h.close();
    h = await openHarness({ schema, dir: h.dir });
    expect(h.kv.stats().recoveredRecords).toBe(0); // the store held it all
    expect(h.rows()).toEqual(rows);
    await h.close();
  });
});

describe("changelog appends on a full disk (injected)", () => {
  type Append = LogTablet["append"];
  const diskFull = (): FlussError =>
    new FlussErrorClass(Errors.STORAGE_EXCEPTION, "append failed: No space left on device");

  it("an append refused before writing leaves nothing staged", async () => {
    const h = await openHarness({ schema });
    await h.put([upsert(1, "x", 1)]);
    const append: Append = h.log.append.bind(h.log);
    h.log.append = () => {
      throw diskFull();
    };
    const err = await failureOf(h.put([upsert(1, "x", 2), upsert(2, "x", 3)]));
    expect(err.is(Errors.STORAGE_EXCEPTION)).toBe(true);
    expect(h.kv.stats().preWriteBufferEntries).toBe(0);
    h.log.append = append;
    await h.put([upsert(1, "x", 4)]);
    expect(await h.changelog(1n)).toEqual(["-U(1, x, 1)", "+U(1, x, 4)"]);
    expect(h.rows()).toEqual([[1, "x", 4]]);
    await h.close();
  });

  it("an append whose write the log takes back leaves nothing staged; one the log keeps stays staged", async () => {
    const h = await openHarness({ schema });
    await h.put([upsert(1, "x", 1)]);
    const append: Append = h.log.append.bind(h.log);
    const start = h.log.logEndOffset;
    h.log.append = (batch, o) =>
      append(batch, o).then(() => {
        h.log.truncateTo(start); // the log drops the write its flush could not make durable
        throw diskFull();
      });
    expect(
      (await failureOf(h.put([upsert(1, "x", 2), upsert(2, "x", 3)]))).is(Errors.STORAGE_EXCEPTION),
    ).toBe(true);
    expect([h.log.logEndOffset, h.kv.stats().preWriteBufferEntries]).toEqual([start, 0]);
    h.log.append = (batch, o) =>
      append(batch, o).then(() => {
        throw diskFull(); // the log keeps the records (they are the changelog now)
      });
    expect((await failureOf(h.put([upsert(3, "x", 5)]))).is(Errors.STORAGE_EXCEPTION)).toBe(true);
    expect(h.kv.stats().preWriteBufferEntries).toBe(1);
    h.log.append = append;
    await h.put([upsert(1, "x", 6)]);
    expect(await h.changelog(start)).toEqual(["+I(3, x, 5)", "-U(1, x, 1)", "+U(1, x, 6)"]);
    expect(h.rows()).toEqual([
      [1, "x", 6],
      [3, "x", 5],
    ]);
    await h.close();
  });
});

/** Mount a tmpfs of `sizeBytes` at `dir`, or say why not (not root, no mount in a container). */
function mountTmpfs(dir: string, sizeBytes: number): string | null {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", dir], { stdio: "pipe" });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe("a KV store on a full file system (tmpfs)", async () => {
  const probe = await tempDir("fluss-kvtmpfs-");
  const why = mountTmpfs(probe, 1 << 20);
  if (why === null) execFileSync("umount", [probe]);

  it.skipIf(why !== null)(
    "fills up without killing the process, keeps reading, writes again once space is freed",
    async () => {
      const dir = await tempDir("fluss-kvfull-");
      fs.mkdirSync(`${dir}/kv`);
      expect(mountTmpfs(`${dir}/kv`, 4 << 20)).toBeNull(); // only the KV store is on the small disk
      try {
        fs.writeFileSync(`${dir}/kv/filler`, Buffer.alloc(1 << 20, 1));
        const h = await openHarness({ schema, dir, storeCommitRetryMs: 5 });
        const value = "v".repeat(1000);
        let batches = 0;
        let refused: FlussError | null = null;
        while (refused === null && batches < 200) {
          const rows = Array.from({ length: 50 }, (_, i) => upsert(batches, `${i}-${value}`, i));
          const put = await h.put(rows).then(
            () => null,
            (e: unknown) => e,
          );
          if (put !== null) refused = put as FlussError;
          else if (h.kv.stats().storeCommitFailure !== null)
            refused = await failureOf(h.put([upsert(-1, "x", 0)]));
          else batches++;
        }
        expect(refused?.code).toBe(Errors.STORAGE_EXCEPTION.code);
        expect(refused?.message).toMatch(/disk full or failing/);
        // Alive, and every acknowledged row reads back (the last batches from the in-flight entries).
        for (const a of [0, batches - 1, batches])
          expect(h.get(a, `7-${value}`)).toEqual([a, `7-${value}`, 7]);
        fs.rmSync(`${dir}/kv/filler`);
        await waitFor(() => h.kv.stats().storeCommitFailure === null, 20_000);
        await h.put([upsert(-1, "after", 1)]);
        expect(h.get(-1, "after")).toEqual([-1, "after", 1]);
        expect(h.get(batches, `49-${value}`)).toEqual([batches, `49-${value}`, 49]);
        await h.close();
      } finally {
        execFileSync("umount", ["-l", `${dir}/kv`]);
      }
    },
  );
});
