// The metrics registry stays bounded: per-bucket gauges carry at most BUCKET_SERIES_MAX series
// whatever the number of buckets, and the rest is counted, not dropped silently.

import { RpcServer } from "@fluss-ts/rpc";
import { describe, expect, it } from "vitest";
import { BUCKET_SERIES_MAX, type BucketOffsets, ServerMetrics } from "../src/metrics/server-metrics.ts";

function* buckets(n: number): Iterable<BucketOffsets> {
  for (let i = 0; i < n; i++) {
    yield {
      tableId: 7n,
      partitionId: null,
      bucket: i,
      leader: true,
      logStartOffset: 0n,
      logEndOffset: BigInt(i + 1),
      highWatermark: BigInt(i),
    };
  }
}

describe("ServerMetrics", () => {
  it("bounds the per-bucket series and counts the buckets left out", async () => {
    const metrics = new ServerMetrics();
    metrics.instrument(new RpcServer(), "tablet-0", () => buckets(BUCKET_SERIES_MAX + 500));
    const text = await metrics.registry.metrics();
    const series = (name: string) => text.split("\n").filter((l) => l.startsWith(`${name}{`)).length;
    expect(series("fluss_table_bucket_high_watermark")).toBe(BUCKET_SERIES_MAX);
    expect(series("fluss_table_bucket_log_end_offset")).toBe(BUCKET_SERIES_MAX);
    expect(series("fluss_table_bucket_log_start_offset")).toBe(BUCKET_SERIES_MAX);
    expect(text).toContain('fluss_table_bucket_series_omitted{server="tablet-0"} 500');
    expect(text).toContain('fluss_replicas{server="tablet-0",role="leader"} 1500');
    expect(text).toContain(
      'fluss_table_bucket_high_watermark{server="tablet-0",table_id="7",partition_id="",bucket="3"} 3',
    );
  });

  it("keeps clusters in one process apart (one registry each)", async () => {
    const a = new ServerMetrics();
    const b = new ServerMetrics();
    a.instrument(new RpcServer(), "tablet-0", () => buckets(2));
    expect(await b.registry.metrics()).not.toContain("fluss_table_bucket_high_watermark{");
    expect(await a.registry.metrics()).toContain("fluss_table_bucket_high_watermark{");
  });
});
