// The fault checker can fail: against a local cluster holding known rows it finds an acknowledged
// row that is missing (lost), one found at another offset than acknowledged (moved), a row written
// twice (duplicated), rows of one writer generation out of order within a bucket, and a lookup
// showing an older version than acknowledged; and, reading replica logs from segment files, a
// replica whose bytes differ, one cut short (a torn tail) and one missing its log. It also reads a
// ZooKeeper ConnectResponse's session id and password the way the session proxy does.

import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { checkAppends, checkReplicas, checkUpserts } from "./harness/checker.ts";
import { KV_TABLE, LOG_TABLE, type LoadRecord } from "./harness/load.ts";
import { compareReplicas, readReplicaLog, replicaLogDir } from "./harness/replica-logs.ts";
import { parseConnectResponse } from "./harness/zk-proxy.ts";

function emptyRecord(): LoadRecord {
  return {
    appends: new Map(),
    failedAppends: new Set(),
    appendsSent: 0,
    ackedVersion: new Map(),
    sentVersions: new Map(),
    upsertsAcked: 0,
    upsertsFailed: 0,
    clientErrors: 0,
    writerGenerations: 0,
    errors: [],
  };
}

describe("fault checker", () => {
  let tc: TestCluster;
  let tmp: string;
  const record = emptyRecord();

  async function append(rows: { id: bigint; gen: number }[], recordAcks = true): Promise<void> {
    const w = (await tc.conn.getTable(LOG_TABLE)).newAppendWriter();
    const receipts = [];
    for (const r of rows) receipts.push(await w.append({ ...r, pad: "p" }));
    await w.close();
    for (const [i, r] of rows.entries()) {
      const a = await receipts[i]!.acknowledged;
      if (recordAcks) record.appends.set(r.id, { gen: r.gen, bucket: a.bucket, offset: a.offset });
    }
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "fluss-checker-"));
    tc = await startCluster();
    await tc.conn.admin.createDatabase("fault");
    // Rows of one generation share a bucket (bucket key gen), so their order there is defined.
    await tc.conn.admin.createTable(LOG_TABLE, {
      schema: "id BIGINT NOT NULL, gen INT NOT NULL, pad STRING",
      buckets: 2,
      bucketKeys: ["gen"],
    });
    await tc.conn.admin.createTable(KV_TABLE, {
      schema: "k INT NOT NULL, v BIGINT NOT NULL, gen INT NOT NULL, PRIMARY KEY (k)",
    });
    await append(Array.from({ length: 50 }, (_, i) => ({ id: BigInt(i), gen: 1 })));
    const u = (await tc.conn.getTable(KV_TABLE)).newUpsertWriter();
    await u.upsert({ k: 1, v: 5n, gen: 1 });
    await u.upsert({ k: 2, v: 3n, gen: 1 });
    await u.close();
  });
  afterAll(async () => {
    await tc?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("passes what the cluster acknowledged, as it acknowledged it", async () => {
    expect(await checkAppends(tc.conn, record)).toMatchObject({
      scanned: 50,
      lost: 0,
      duplicated: 0,
      moved: 0,
      outOfOrder: 0,
    });
    // Acknowledged with offset -1 (written, offset not reported): checked in its bucket only.
    const unknown = { ...emptyRecord(), appends: new Map(record.appends) };
    const three = unknown.appends.get(3n)!;
    unknown.appends.set(3n, { ...three, offset: -1n });
    expect((await checkAppends(tc.conn, unknown)).moved).toBe(0);
    unknown.appends.set(3n, { ...three, bucket: three.bucket + 1, offset: -1n });
    expect((await checkAppends(tc.conn, unknown)).moved).toBe(1);
    const r = emptyRecord();
    r.sentVersions.set(1, [2n, 5n]).set(2, [3n]);
    r.ackedVersion.set(1, 5n).set(2, 3n);
    expect(await checkUpserts(tc.conn, r)).toMatchObject({ keys: 2, ackedKeys: 2, wrong: 0 });
  });

  it("finds lost, moved, duplicated and out-of-order rows", async () => {
    const r = { ...emptyRecord(), appends: new Map(record.appends) };
    r.appends.set(1000n, { gen: 1, bucket: 0, offset: 999n }); // never written: lost
    const five = r.appends.get(5n)!;
    r.appends.set(5n, { ...five, offset: five.offset + 100n }); // acknowledged elsewhere: moved
    await append([{ id: 7n, gen: 2 }], false); // id 7 a second time: duplicated
    await append(
      [
        { id: 300n, gen: 3 },
        { id: 200n, gen: 3 },
      ],
      false,
    ); // one generation, one bucket, ids going down: out of order
    const c = await checkAppends(tc.conn, r);
    expect([c.lost, c.moved, c.duplicated, c.outOfOrder]).toEqual([1, 1, 1, 1]);
    expect(c.details.join("\n")).toMatch(/append 1000 acknowledged .* is missing/);
  });

  it("finds a lookup older than the last acknowledged version, or one never written", async () => {
    const r = emptyRecord();
    r.sentVersions.set(1, [5n, 9n]).set(2, [4n]);
    r.ackedVersion.set(1, 9n); // the cluster shows 5: older than acknowledged
    // key 2 shows 3, a version this record never sent
    const c = await checkUpserts(tc.conn, r);
    expect(c.wrong).toBe(2);
    expect(c.ackedKeys).toBe(1);
  });

  it("reads replica logs from segment files and finds divergent, torn and missing replicas", async () => {
    const info = await tc.conn.admin.getTableInfo(LOG_TABLE);
    const hw = (await tc.conn.admin.listOffsets(LOG_TABLE, "latest")).get(0)!;
    await tc.stop({ keepData: true });
    const dir = await replicaLogDir(tc.dataDir, 0, "fault", "events", info.tableId, 0);
    expect(dir).not.toBeNull();
    const log = await readReplicaLog(dir!);
    expect(log.tornAt).toBeNull();
    expect(log.batches.at(-1)!.lastOffset + 1n).toBe(hw);
    expect(log.batches.reduce((n, b) => n + b.records, 0)).toBe(Number(hw));

    // A copy with one byte changed in its last batch, and one cut in the middle of that batch.
    const flipped = join(tmp, "flipped");
    const torn = join(tmp, "torn");
    await cp(dir!, flipped, { recursive: true });
    await cp(dir!, torn, { recursive: true });
    const seg = (await readdir(dir!)).filter((f) => f.endsWith(".log")).sort()[0]!;
    const bytes = await readFile(join(flipped, seg));
    bytes[bytes.length - 3]! ^= 0xff;
    await writeFile(join(flipped, seg), bytes);
    await truncate(join(torn, seg), bytes.length - 5);
    const tornLog = await readReplicaLog(torn);
    expect(tornLog.tornAt).toMatch(/\.log@\d+$/);

    const same = compareReplicas(
      new Map([
        [0, log],
        [1, log],
      ]),
      hw,
    );
    expect(same).toEqual({ divergent: [], recordsBelowHw: Number(hw) });
    const c = checkReplicas([
      {
        name: "events/0",
        hw,
        logs: new Map([
          [0, log],
          [1, await readReplicaLog(flipped)],
          [2, tornLog],
          [3, { batches: [], tornAt: "no log directory" }],
        ]),
      },
    ]);
    expect(c.divergent).toBe(3);
    expect(c.details.join("\n")).toMatch(/replica 1: batch \d+ differs/);
    expect(c.details.join("\n")).toMatch(/replica 2: ends at \d+, not at the high watermark/);
    expect(c.details.join("\n")).toMatch(/replica 3: holds nothing below/);
  });

  it("reads the session id and password of a ZooKeeper ConnectResponse", () => {
    const password = Buffer.from("0123456789abcdef");
    const body = Buffer.alloc(4 + 4 + 8 + 4 + password.length + 1);
    body.writeInt32BE(0, 0); // protocol version
    body.writeInt32BE(2000, 4); // session timeout
    body.writeBigInt64BE(0x1234_5678_9abc_def0n, 8); // session id
    body.writeInt32BE(password.length, 16);
    password.copy(body, 20);
    const frame = Buffer.concat([Buffer.alloc(4), body]);
    frame.writeInt32BE(body.length, 0);
    expect(parseConnectResponse(frame.subarray(0, 10))).toBeNull();
    const s = parseConnectResponse(frame)!;
    expect(s.id.readBigInt64BE(0)).toBe(0x1234_5678_9abc_def0n);
    expect(s.password).toEqual(password);
  });
});
