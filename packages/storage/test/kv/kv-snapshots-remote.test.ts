// KV snapshots over the remote storage interface: the same snapshot/restore cycle through a local
// directory and through S3 (moto; skipped with a message when absent unless FLUSS_REQUIRE_S3=1);
// incomplete snapshots are never listed, damaged ones are skipped for older ones, and a remote that
// is down fails the restore with a retriable error instead of skipping sound snapshots.

import fs from "node:fs";
import { isFlussError, makeSchema } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasS3, S3_TEST_CREDENTIALS, type S3Server, startS3Server } from "../../../../test/helpers/s3.ts";
import { RemoteStorageSnapshotStore, type SnapshotTarget } from "../../src/index.ts";
import { LocalFileStorage } from "../../src/remote/local-file-storage.ts";
import type { RemoteStorage } from "../../src/remote/remote-storage.ts";
import { S3Storage } from "../../src/remote/s3-storage.ts";
import { removeTempDirs, tempDir } from "../helpers.ts";
import { del, openHarness, upsert } from "./kv-helpers.ts";

afterAll(removeTempDirs);

const schema = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "s", type: "STRING" },
    { name: "ts", type: "TIMESTAMP(6)" },
    { name: "d", type: "DECIMAL(20, 3)" },
  ],
  ["id"],
);

function cycle(name: string, make: () => Promise<RemoteStorage>): void {
  describe(`kv snapshots on ${name}`, () => {
    let storage: RemoteStorage;
    beforeAll(async () => {
      storage = await make();
    });
    afterAll(async () => {
      await storage.close();
    });

    function target(bucket: number): SnapshotTarget {
      return {
        remote: new RemoteStorageSnapshotStore(storage),
        scope: { tableId: 7n, partition: "dt=1$eu", bucket },
        retained: 2,
      };
    }

    it("restores a lost store from the newest snapshot plus the log; keeps the newest two", async () => {
      const snapshots = target(0);
      let h = await openHarness({ schema, snapshots });
      await h.put([upsert(1, "a", 1n, "1.000"), upsert(2, "b", null, null)]);
      await h.kv.snapshot();
      await h.put([upsert(3, "c", null, null)]);
      await h.kv.snapshot();
      await h.put([del(1), upsert(4, "d", 4n, "-4.500")]);
      const s2 = await h.kv.snapshot();
      await h.put([upsert(5, "e", null, null)]); // only in the log
      expect((await snapshots.remote.list(snapshots.scope)).map((m) => m.snapshotId)).toEqual([1, 2]);
      const rows = h.rows();
      await h.close();
      fs.rmSync(h.kvDir, { recursive: true });
      h = await openHarness({ schema, dir: h.dir, snapshots });
      expect(h.kv.latestSnapshot()?.snapshotId).toBe(s2.snapshotId);
      expect(h.rows()).toEqual(rows);
      await h.close();
    });

    it("an incomplete snapshot is not listed; a damaged one is skipped for the older one", async () => {
      const snapshots = target(1);
      const store = snapshots.remote as RemoteStorageSnapshotStore;
      let h = await openHarness({ schema, snapshots });
      await h.put([upsert(1, "a", null, null)]);
      await h.kv.snapshot();
      await h.put([upsert(2, "b", null, null)]);
      await h.kv.snapshot();
      const rows = h.rows();
      // A snapshot whose manifest never arrived (a crash mid-upload): not listed.
      await storage.put(`${store.snapshotPrefix(snapshots.scope, 9)}data.mdb`, new Uint8Array(100));
      expect((await store.list(snapshots.scope)).map((m) => m.snapshotId)).toEqual([0, 1]);
      // The newest snapshot's data is cut short: restore falls back to snapshot 0 plus the log.
      const newest = `${store.snapshotPrefix(snapshots.scope, 1)}data.mdb`;
      await storage.put(newest, new Uint8Array(10));
      await h.close();
      fs.rmSync(h.kvDir, { recursive: true });
      h = await openHarness({ schema, dir: h.dir, snapshots });
      expect(h.kv.latestSnapshot()?.snapshotId).toBe(0);
      expect(h.rows()).toEqual(rows);
      await h.close();
      await store.deleteAll(snapshots.scope);
      expect(await storage.list(store.bucketPrefix(snapshots.scope))).toEqual([]);
    });
  });
}

cycle("a local directory", async () => new LocalFileStorage(await tempDir("fluss-remote-")));

describe.skipIf(!hasS3())("S3", () => {
  let server: S3Server;
  beforeAll(async () => {
    server = await startS3Server();
  });
  afterAll(async () => {
    await server?.stop();
  });
  cycle(
    "S3 (moto)",
    async () =>
      new S3Storage({
        bucket: await server.createBucket(),
        prefix: "kv/",
        endpoint: server.endpoint,
        region: "us-east-1",
        pathStyle: true,
        credentials: S3_TEST_CREDENTIALS,
      }),
  );

  it("a store that is down fails the restore with a retriable error (no snapshot is skipped)", async () => {
    const dead = new S3Storage({
      bucket: "gone",
      prefix: "",
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      pathStyle: true,
      credentials: S3_TEST_CREDENTIALS,
      attemptsMax: 1,
    });
    const snapshots: SnapshotTarget = {
      remote: new RemoteStorageSnapshotStore(dead),
      scope: { tableId: 1n, partition: null, bucket: 0 },
    };
    const err = await snapshots.remote.list(snapshots.scope).catch((e: unknown) => e);
    expect(isFlussError(err) && err.retriable).toBe(true);
    await dead.close();
  });
});
