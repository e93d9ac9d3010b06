// Unit tests of the lake's file formats: the offsets file in Fluss's JSON (exact big offsets,
// -1 for untiered buckets, partitioned form), Avro manifests round-tripped through avsc with the
// field ids Iceberg readers need in the header, Iceberg single-value bounds, and the commit
// protocol of the file-system table store (one winner per version, readers probe past the hint).

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeAvroFile,
  decodeBound,
  encodeAvroFile,
  encodeBound,
  MANIFEST_FILE_SCHEMA,
  manifestEntrySchema,
} from "../src/iceberg/manifest.ts";
import { newTableMetadata } from "../src/iceberg/metadata.ts";
import { bucketKey, decodeOffsets, encodeOffsets } from "../src/iceberg/offsets-file.ts";
import { commitVersion, loadTable, metadataFileOf } from "../src/iceberg/table-store.ts";

describe("offsets file", () => {
  it("writes Fluss's JSON with exact offsets and -1 for buckets not tiered", () => {
    const big = 2n ** 60n + 7n;
    const text = encodeOffsets({
      tableId: 9n,
      buckets: new Map([
        [bucketKey(null, 0), { partitionId: null, partitionName: null, bucket: 0, offset: 120n }],
        [bucketKey(null, 2), { partitionId: null, partitionName: null, bucket: 2, offset: big }],
      ]),
    });
    expect(text).toBe(`{"version":1,"table_id":9,"bucket_offsets":[120,-1,${big}]}`);
    const back = decodeOffsets(text);
    expect(back.tableId).toBe(9n);
    expect(back.buckets.get(bucketKey(null, 2))?.offset).toBe(big);
    expect(back.buckets.has(bucketKey(null, 1))).toBe(false);
  });

  it("writes partitions as partition_offsets with their names", () => {
    const text = encodeOffsets({
      tableId: 3n,
      buckets: new Map([
        [bucketKey(5n, 1), { partitionId: 5n, partitionName: "2026", bucket: 1, offset: 4n }],
      ]),
    });
    expect(JSON.parse(text)).toEqual({
      version: 1,
      table_id: 3,
      partition_offsets: [{ partition_id: 5, partition_name: "2026", bucket_offsets: [-1, 4] }],
    });
    expect(decodeOffsets(text).buckets.get(bucketKey(5n, 1))?.partitionName).toBe("2026");
    expect(() => decodeOffsets('{"version":2,"table_id":1}')).toThrow(/version 2/);
  });
});

describe("Avro manifests", () => {
  const schema = {
    type: "struct" as const,
    "schema-id": 0,
    fields: [
      { id: 1, name: "id", required: true, type: "long" },
      { id: 2, name: "__bucket", required: true, type: "int" },
    ],
  };
  const spec = {
    "spec-id": 0,
    fields: [{ name: "__bucket", transform: "identity", "source-id": 2, "field-id": 1000 }],
  };

  it("round-trips manifest entries and keeps field ids and metadata in the header", async () => {
    const entry = {
      status: 1,
      snapshot_id: 123456789,
      sequence_number: 4,
      file_sequence_number: 4,
      data_file: {
        content: 2,
        file_path: "/w/db/t/data/__bucket=1/x.parquet",
        file_format: "PARQUET",
        partition: { __bucket: 1 },
        record_count: 10,
        file_size_in_bytes: 999,
        column_sizes: [{ key: 1, value: 50 }],
        value_counts: null,
        null_value_counts: null,
        lower_bounds: [{ key: 1, value: encodeBound("long", 5n)! }],
        upper_bounds: [{ key: 1, value: encodeBound("long", 99n)! }],
        equality_ids: [1],
        sort_order_id: null,
      },
    };
    const bytes = await encodeAvroFile(manifestEntrySchema(spec, schema), [entry], {
      "format-version": "2",
      content: "deletes",
    });
    const { records, metadata } = await decodeAvroFile<typeof entry>(bytes);
    expect(metadata).toEqual({ "format-version": "2", content: "deletes" });
    expect(records[0]!.data_file.equality_ids).toEqual([1]);
    expect(records[0]!.data_file.partition).toEqual({ __bucket: 1 });
    expect(decodeBound("long", records[0]!.data_file.upper_bounds![0]!.value)).toBe(99n);
    // The header schema keeps Iceberg's field ids (readers map by id).
    const header = bytes.subarray(0, 4000).toString("latin1");
    expect(header).toContain('"field-id":134');
    expect(header).toContain('"field-id":1000');
    const list = await encodeAvroFile(MANIFEST_FILE_SCHEMA, [], { "snapshot-id": "1" });
    expect((await decodeAvroFile(list)).records).toEqual([]);
  });

  it("encodes bounds in Iceberg's single-value form", () => {
    expect([...encodeBound("int", 1)!]).toEqual([1, 0, 0, 0]);
    expect([...encodeBound("long", -1n)!]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
    expect(encodeBound("string", "é")!.toString("hex")).toBe("c3a9");
    expect(encodeBound("double", Number.NaN)).toBeNull();
    expect(encodeBound("decimal(10, 2)", 1)).toBeNull();
    expect(decodeBound("double", encodeBound("double", 2.5)!)).toBe(2.5);
  });
});

describe("file-system table store", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-store-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("publishes versions once, and readers find versions past a stale hint", async () => {
    const m = newTableMetadata({
      uuid: "u",
      location: dir,
      schema: { type: "struct", "schema-id": 0, fields: [{ id: 1, name: "a", required: true, type: "int" }] },
      spec: { "spec-id": 0, fields: [] },
      sortOrder: { "order-id": 0, fields: [] },
      properties: {},
      nowMs: 1,
    });
    expect(await loadTable(dir)).toBeNull();
    await commitVersion(dir, 0, m);
    await expect(commitVersion(dir, 0, m)).rejects.toMatchObject({ name: "CommitConflict" });
    await commitVersion(dir, 1, { ...m, "last-updated-ms": 2 });
    // A crash between the link and the hint update leaves the hint one behind.
    await writeFile(join(dir, "metadata", "version-hint.text"), "1");
    const t = await loadTable(dir);
    expect(t?.version).toBe(2);
    expect(t?.metadata["last-updated-ms"]).toBe(2);
    expect(JSON.parse(await readFile(metadataFileOf(dir, 2), "utf8"))["format-version"]).toBe(2);
  });
});
