// The table descriptor JSON fluss-ts writes must be what Fluss's TableDescriptorJsonSerde writes
// and reads: a distribution always carries `bucket_key` (an empty array without bucket keys; Fluss's
// reader throws a NullPointerException without it), fields in Fluss's order, and a round trip
// through descriptorFromJson keeps everything.

import { describe, expect, it } from "vitest";
import { descriptorFromJson, descriptorToJson, parseSchema, type TableDescriptor } from "../src/index.ts";

function descriptor(over: Partial<TableDescriptor>): TableDescriptor {
  return {
    schema: parseSchema("id BIGINT, msg STRING"),
    partitionKeys: [],
    bucketKeys: [],
    properties: {},
    customProperties: {},
    ...over,
  };
}

describe("table descriptor JSON as Fluss writes it", () => {
  it("keeps bucket_key: [] next to bucket_count for a table without bucket keys", () => {
    const json = descriptorToJson(descriptor({ bucketCount: 3 }));
    expect(json.bucket_key).toEqual([]);
    expect(json.bucket_count).toBe(3);
  });

  it("writes Fluss's fields in Fluss's order, comment included", () => {
    const json = descriptorToJson(
      descriptor({ bucketCount: 2, bucketKeys: ["id"], comment: "c", properties: { a: "1" } }),
    );
    expect(Object.keys(json)).toEqual([
      "version",
      "schema",
      "comment",
      "partition_key",
      "bucket_key",
      "bucket_count",
      "properties",
      "custom_properties",
    ]);
  });

  it("has no distribution fields when neither a bucket count nor keys are set", () => {
    const json = descriptorToJson(descriptor({}));
    expect("bucket_key" in json).toBe(false);
    expect("bucket_count" in json).toBe(false);
    expect(json.custom_properties).toEqual({});
  });

  it("round-trips through descriptorFromJson", () => {
    const d = descriptor({ bucketCount: 4, bucketKeys: ["id"], comment: "x", customProperties: { k: "v" } });
    expect(descriptorFromJson(JSON.parse(JSON.stringify(descriptorToJson(d))))).toEqual(d);
  });
});
