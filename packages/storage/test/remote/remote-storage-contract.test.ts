// The remote storage contract (remote-storage.ts), one suite run against both implementations:
// the local directory, and S3 through a local S3-compatible server (moto; skipped with a message
// when it is not installed, unless FLUSS_REQUIRE_S3=1).

import fs from "node:fs/promises";
import path from "node:path";
import { isFlussError } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasS3, S3_TEST_CREDENTIALS, type S3Server, startS3Server } from "../../../../test/helpers/s3.ts";
import { LocalFileStorage } from "../../src/remote/local-file-storage.ts";
import { checkRemoteDataDir, openRemoteStorage, parseS3Uri } from "../../src/remote/open-remote-storage.ts";
import { isRemoteKey, type RemoteStorage } from "../../src/remote/remote-storage.ts";
import { S3_PART_BYTES_MIN, S3Storage } from "../../src/remote/s3-storage.ts";
import { removeTempDirs, tempDir } from "../helpers.ts";

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function contract(name: string, make: () => Promise<RemoteStorage>, largeFileBytes: number): void {
  describe(`remote storage contract: ${name}`, () => {
    let s: RemoteStorage;
    let scratch: string;
    beforeAll(async () => {
      s = await make();
      scratch = await tempDir("fluss-remote-scratch-");
    });
    afterAll(async () => {
      await s.close();
    });

    it("put then get returns the bytes; a put replaces the object whole", async () => {
      await s.put("a/b/one.bin", pattern(1000, 1));
      expect(Buffer.from((await s.get("a/b/one.bin"))!)).toEqual(pattern(1000, 1));
      await s.put("a/b/one.bin", pattern(10, 2));
      expect(Buffer.from((await s.get("a/b/one.bin"))!)).toEqual(pattern(10, 2));
      expect(await s.stat("a/b/one.bin")).toEqual({ key: "a/b/one.bin", sizeBytes: 10 });
    });

    it("ranged gets return exactly the range, cut at the end of the object", async () => {
      await s.put("r/obj", pattern(4096, 3));
      const all = pattern(4096, 3);
      expect(Buffer.from((await s.get("r/obj", { offset: 100, length: 50 }))!)).toEqual(
        all.subarray(100, 150),
      );
      expect(Buffer.from((await s.get("r/obj", { offset: 4000, length: 500 }))!)).toEqual(all.subarray(4000));
      expect((await s.get("r/obj", { offset: 4096, length: 10 }))!.byteLength).toBe(0);
      expect((await s.get("r/obj", { offset: 10, length: 0 }))!.byteLength).toBe(0);
    });

    it("a missing object is null for get, getFile and stat; deleting it is no error", async () => {
      expect(await s.get("missing/x")).toBeNull();
      expect(await s.get("missing/x", { offset: 0, length: 10 })).toBeNull();
      expect(await s.getFile("missing/x", path.join(scratch, "m"))).toBeNull();
      expect(await s.stat("missing/x")).toBeNull();
      await s.delete(["missing/x"]);
    });

    it("lists keys under a prefix, sorted, with sizes, up to a limit", async () => {
      for (const k of ["l/p/c", "l/p/a", "l/p/b/x", "l/q/d", "l/pz"]) await s.put(k, pattern(k.length, 4));
      const listed = await s.list("l/p/");
      expect(listed).toEqual([
        { key: "l/p/a", sizeBytes: 5 },
        { key: "l/p/b/x", sizeBytes: 7 },
        { key: "l/p/c", sizeBytes: 5 },
      ]);
      expect((await s.list("l/p")).map((o) => o.key)).toEqual(["l/p/a", "l/p/b/x", "l/p/c", "l/pz"]);
      expect((await s.list("l/p/", 2)).map((o) => o.key)).toEqual(["l/p/a", "l/p/b/x"]);
      expect(await s.list("nothing/")).toEqual([]);
    });

    it("delete removes objects; deletePrefix removes everything under a prefix and nothing else", async () => {
      for (const k of ["d/1/a", "d/1/b", "d/1/c/d", "d/2/a", "d/10/a"]) await s.put(k, pattern(3, 5));
      await s.delete(["d/1/a"]);
      expect(await s.stat("d/1/a")).toBeNull();
      expect(await s.deletePrefix("d/1/")).toBe(2);
      expect((await s.list("d/")).map((o) => o.key)).toEqual(["d/10/a", "d/2/a"]);
    });

    it("putFile and getFile stream a large file (multipart on S3) and keep every byte", async () => {
      const src = path.join(scratch, "large.src");
      const data = pattern(largeFileBytes, 6);
      await fs.writeFile(src, data);
      expect(await s.putFile("big/segment.log", src)).toBe(largeFileBytes);
      expect((await s.stat("big/segment.log"))?.sizeBytes).toBe(largeFileBytes);
      const back = path.join(scratch, "large.back");
      expect(await s.getFile("big/segment.log", back)).toBe(largeFileBytes);
      expect((await fs.readFile(back)).equals(data)).toBe(true);
      const mid = Math.floor(largeFileBytes / 2) - 7;
      expect(Buffer.from((await s.get("big/segment.log", { offset: mid, length: 4096 }))!)).toEqual(
        data.subarray(mid, mid + 4096),
      );
    });

    it("partition-like names with $ and % are keys", async () => {
      await s.put("k/dt%3D1$eu/0/x", pattern(4, 7));
      expect((await s.list("k/")).map((o) => o.key)).toEqual(["k/dt%3D1$eu/0/x"]);
    });

    it("malformed keys are bugs (assertions), not storage errors", async () => {
      for (const bad of ["", "/a", "a/", "a//b", "a/../b", "a b"]) {
        expect(isRemoteKey(bad)).toBe(false);
        await expect(s.put(bad, new Uint8Array(1))).rejects.toSatisfy((e: unknown) => !isFlussError(e));
      }
    });
  });
}

afterAll(removeTempDirs);

contract(
  "local directory",
  async () => new LocalFileStorage(await tempDir("fluss-remote-")),
  3 * 1024 * 1024 + 17,
);

describe.skipIf(!hasS3())("S3 (moto)", () => {
  let server: S3Server;
  const made: S3Storage[] = [];
  beforeAll(async () => {
    server = await startS3Server();
  });
  afterAll(async () => {
    for (const s of made) await s.close();
    await server?.stop();
  });
  contract(
    "S3 through a local S3-compatible server",
    async () => {
      const s = new S3Storage({
        bucket: await server.createBucket(),
        prefix: "fluss/remote/",
        endpoint: server.endpoint,
        region: "us-east-1",
        pathStyle: true,
        credentials: S3_TEST_CREDENTIALS,
        partBytes: S3_PART_BYTES_MIN,
      });
      made.push(s);
      return s;
    },
    2 * S3_PART_BYTES_MIN + 12345,
  );

  it("an unreachable store fails with a retriable STORAGE_EXCEPTION naming it", async () => {
    const s = new S3Storage({
      bucket: "nowhere",
      prefix: "",
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      pathStyle: true,
      credentials: S3_TEST_CREDENTIALS,
      attemptsMax: 1,
    });
    made.push(s);
    const err = await s.put("x", new Uint8Array(1)).catch((e: unknown) => e);
    expect(isFlussError(err) && err.retriable && /s3:\/\/nowhere\/x/.test(err.message)).toBe(true);
  });
});

describe("remote.data.dir", () => {
  it("s3:// URIs name a bucket and a prefix; bad ones are refused", () => {
    expect(parseS3Uri("s3://my-bucket")).toEqual({ bucket: "my-bucket", prefix: "" });
    expect(parseS3Uri("s3://my-bucket/a/b/")).toEqual({ bucket: "my-bucket", prefix: "a/b/" });
    expect(() => checkRemoteDataDir("s3://B")).toThrow(/valid bucket/);
    expect(() => checkRemoteDataDir("hdfs://x/y")).toThrow(/only local paths/);
    expect(() => checkRemoteDataDir(" ")).toThrow(/empty/);
  });

  it("a path or file:// is a local directory; s3:// is S3", async () => {
    const dir = await tempDir("fluss-remote-open-");
    expect(openRemoteStorage(dir)).toBeInstanceOf(LocalFileStorage);
    expect((openRemoteStorage(`file://${dir}`) as LocalFileStorage).root).toBe(dir);
    expect(openRemoteStorage("s3://bkt/p")).toBeInstanceOf(S3Storage);
  });
});
