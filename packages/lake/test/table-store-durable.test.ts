// Unit test of the table store's durability: a file written into directories that do not exist
// yet (a new `__bucket=N`, a new table) has every directory it created recorded in its parent
// (the parent fsynced) before the write returns, so a committed version never names a file whose
// directory a machine crash could lose. fsync calls are observed by wrapping node:fs/promises.

import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

const synced: string[] = [];

vi.mock("node:fs/promises", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs/promises")>();
  const open: typeof fs.open = async (path, ...rest) => {
    const fh = await fs.open(path, ...rest);
    const sync = fh.sync.bind(fh);
    fh.sync = async () => {
      await sync();
      synced.push(String(path));
    };
    return fh;
  };
  return { ...fs, default: { ...fs, open }, open };
});

const { writeFileDurable } = await import("../src/iceberg/table-store.ts");

describe("table store durability", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-lake-durable-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    synced.length = 0;
  });

  it("fsyncs the parent of every directory it creates, then the file", async () => {
    const file = join(dir, "db", "t", "data", "__bucket=3", "f.parquet");
    await writeFileDurable(file, Buffer.from("bytes"), false);
    expect(await readFile(file, "utf8")).toBe("bytes");
    for (const parent of [dir, join(dir, "db"), join(dir, "db", "t"), join(dir, "db", "t", "data")])
      expect(synced, `${parent} fsynced`).toContain(parent);
    expect(synced).toContain(file);
  });

  it("syncs no directory when they all exist (the file's own entry is synced at commit)", async () => {
    await mkdir(join(dir, "old"), { recursive: true });
    const file = join(dir, "old", "g.parquet");
    await writeFileDurable(file, Buffer.from("x"), false);
    expect(synced).toEqual([file]);
  });
});
