// With metrics.port set, the local cluster serves Prometheus /metrics (prom-client): requests per
// API, errors by Fluss error name, request time, record bytes in and out, KV puts and lookups,
// open connections, per-bucket offsets and Node.js process metrics. Counters move with traffic.

import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

/** A port nobody listens on right now (metrics.port 0 means "off", so the test picks one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Samples of a Prometheus text exposition: `name{labels}` -> value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe("Prometheus metrics", () => {
  let tc: TestCluster;
  let url: string;
  beforeAll(async () => {
    tc = await startCluster({ "metrics.port": String(await freePort()) });
    url = `http://${tc.cluster.metricsAddress}/metrics`;
  });
  afterAll(async () => {
    await tc?.stop();
  });

  async function scrape(): Promise<Map<string, number>> {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return parse(await res.text());
  }

  it("counts requests, bytes, KV work and errors, and reports bucket offsets", async () => {
    const { conn } = tc;
    const before = await scrape();
    expect(before.get('fluss_requests_total{server="tablet-0",api="PRODUCE_LOG"}') ?? 0).toBe(0);

    await conn.admin.createTable("fluss.events", { schema: "id BIGINT NOT NULL, s STRING" });
    const events = await conn.getTable("fluss.events");
    const writer = events.newAppendWriter();
    for (let i = 0; i < 100; i++) await writer.append({ id: BigInt(i), s: `row ${i}` });
    await writer.close();
    let read = 0;
    for await (const _ of events.newLogScanner({ from: "earliest", untilLatest: true })) read++;
    expect(read).toBe(100);

    await conn.admin.createTable("fluss.users", {
      schema: "id BIGINT NOT NULL, name STRING, PRIMARY KEY (id)",
    });
    const users = await conn.getTable("fluss.users");
    const upserts = users.newUpsertWriter();
    await upserts.upsert({ id: 1n, name: "ann" });
    await upserts.close();
    expect(await users.newLookuper().lookup({ id: 1n })).toEqual({ id: 1n, name: "ann" });
    await expect(conn.getTable("fluss.missing")).rejects.toThrow();

    const m = await scrape();
    const tablet = (name: string, labels = ""): number =>
      m.get(`${name}{server="tablet-0"${labels}}`) ?? Number.NaN;
    expect(tablet("fluss_requests_total", ',api="PRODUCE_LOG"')).toBeGreaterThanOrEqual(1);
    expect(tablet("fluss_requests_total", ',api="FETCH_LOG"')).toBeGreaterThanOrEqual(1);
    expect(tablet("fluss_requests_total", ',api="PUT_KV"')).toBeGreaterThanOrEqual(1);
    expect(tablet("fluss_bytes_in_total")).toBeGreaterThan(0);
    expect(tablet("fluss_bytes_out_total")).toBeGreaterThan(0);
    expect(tablet("fluss_kv_put_batches_total")).toBeGreaterThanOrEqual(1);
    expect(tablet("fluss_kv_lookup_keys_total", ',kind="point"')).toBe(1);
    expect(tablet("fluss_request_duration_seconds_count", ',api="PRODUCE_LOG"')).toBeGreaterThanOrEqual(1);
    expect(tablet("fluss_connections")).toBeGreaterThanOrEqual(1);
    expect(tablet("fluss_replicas", ',role="leader"')).toBe(2);
    const eventsId = (await conn.admin.getTableInfo("fluss.events")).tableId;
    const bucket = `{server="tablet-0",table_id="${eventsId}",partition_id="",bucket="0"}`;
    expect(m.get(`fluss_table_bucket_high_watermark${bucket}`)).toBe(100);
    expect(m.get(`fluss_table_bucket_log_end_offset${bucket}`)).toBe(100);
    expect(m.get(`fluss_table_bucket_log_start_offset${bucket}`)).toBe(0);
    expect(
      m.get('fluss_request_errors_total{server="coordinator",api="GET_METADATA",error="TABLE_NOT_EXIST"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(m.get("process_cpu_user_seconds_total")).toBeGreaterThan(0);
  });

  it("answers 404 off /metrics", async () => {
    const res = await fetch(`http://${tc.cluster.metricsAddress}/other`);
    expect(res.status).toBe(404);
  });

  it("has no endpoint when metrics.port is 0 (the default)", async () => {
    const off = await startCluster();
    try {
      expect(off.cluster.metricsAddress).toBeUndefined();
    } finally {
      await off.stop();
    }
  });
});
