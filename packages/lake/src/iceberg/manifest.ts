// Iceberg v2 manifests and manifest lists as Avro object container files, written and read with
// avsc (no hand-written Avro). The record schemas carry Iceberg's field ids ("field-id"), and
// int-keyed maps are arrays of key/value records (logicalType "map"), as the spec requires; the
// file metadata holds the table schema, partition spec and content kind Iceberg readers expect.
// Single-value bounds (lower/upper_bounds, partition summaries) use Iceberg's binary form:
// int/date 4 bytes LE, long/timestamp 8 bytes LE, float/double IEEE LE, string UTF-8, boolean 1 byte.

import avro from "avsc";
import type { IcebergSchema, PartitionSpec } from "./metadata.ts";

export const CONTENT_DATA = 0;
export const CONTENT_POSITION_DELETES = 1;
export const CONTENT_EQUALITY_DELETES = 2;
export const STATUS_EXISTING = 0;
export const STATUS_ADDED = 1;
export const STATUS_DELETED = 2;

export type PartitionValue = number | string | null;

export interface DataFile {
  content: number;
  file_path: string;
  file_format: "PARQUET";
  /** Partition tuple by partition field name. */
  partition: Record<string, PartitionValue>;
  record_count: number;
  file_size_in_bytes: number;
  column_sizes: Array<{ key: number; value: number }> | null;
  value_counts: Array<{ key: number; value: number }> | null;
  null_value_counts: Array<{ key: number; value: number }> | null;
  lower_bounds: Array<{ key: number; value: Buffer }> | null;
  upper_bounds: Array<{ key: number; value: Buffer }> | null;
  equality_ids: number[] | null;
  sort_order_id: number | null;
}

export interface ManifestEntry {
  status: number;
  snapshot_id: number | null;
  sequence_number: number | null;
  file_sequence_number: number | null;
  data_file: DataFile;
}

export interface ManifestFile {
  manifest_path: string;
  manifest_length: number;
  partition_spec_id: number;
  content: number;
  sequence_number: number;
  min_sequence_number: number;
  added_snapshot_id: number;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: number;
  existing_rows_count: number;
  deleted_rows_count: number;
  partitions: Array<{
    contains_null: boolean;
    contains_nan: boolean | null;
    lower_bound: Buffer | null;
    upper_bound: Buffer | null;
  }> | null;
}

const opt = (type: unknown) => ["null", type];

function intMap(name: string, fieldId: number, keyId: number, valueId: number, valueType: string) {
  return {
    name,
    type: opt({
      type: "array",
      logicalType: "map",
      items: {
        type: "record",
        name: `k${keyId}_v${valueId}`,
        fields: [
          { name: "key", type: "int", "field-id": keyId },
          { name: "value", type: valueType, "field-id": valueId },
        ],
      },
    }),
    default: null,
    "field-id": fieldId,
  };
}

/** Avro type of a partition field value (the result type of its transform). */
function avroPartitionType(icebergType: string): string {
  switch (icebergType) {
    case "int":
    case "date":
      return "int";
    case "long":
      return "long";
    case "boolean":
      return "boolean";
    default:
      return "string";
  }
}

export function manifestEntrySchema(spec: PartitionSpec, schema: IcebergSchema): object {
  const partitionFields = spec.fields.map((f) => {
    const source = schema.fields.find((x) => x.id === f["source-id"]);
    return {
      name: f.name,
      type: opt(avroPartitionType(source?.type ?? "string")),
      default: null,
      "field-id": f["field-id"],
    };
  });
  return {
    type: "record",
    name: "manifest_entry",
    fields: [
      { name: "status", type: "int", "field-id": 0 },
      { name: "snapshot_id", type: opt("long"), default: null, "field-id": 1 },
      { name: "sequence_number", type: opt("long"), default: null, "field-id": 3 },
      { name: "file_sequence_number", type: opt("long"), default: null, "field-id": 4 },
      {
        name: "data_file",
        "field-id": 2,
        type: {
          type: "record",
          name: "r2",
          fields: [
            { name: "content", type: "int", "field-id": 134 },
            { name: "file_path", type: "string", "field-id": 100 },
            { name: "file_format", type: "string", "field-id": 101 },
            {
              name: "partition",
              "field-id": 102,
              type: { type: "record", name: "r102", fields: partitionFields },
            },
            { name: "record_count", type: "long", "field-id": 103 },
            { name: "file_size_in_bytes", type: "long", "field-id": 104 },
            intMap("column_sizes", 108, 117, 118, "long"),
            intMap("value_counts", 109, 119, 120, "long"),
            intMap("null_value_counts", 110, 121, 122, "long"),
            intMap("lower_bounds", 125, 126, 127, "bytes"),
            intMap("upper_bounds", 128, 129, 130, "bytes"),
            {
              name: "equality_ids",
              type: opt({ type: "array", items: "int", "element-id": 136 }),
              default: null,
              "field-id": 135,
            },
            { name: "sort_order_id", type: opt("int"), default: null, "field-id": 140 },
          ],
        },
      },
    ],
  };
}

export const MANIFEST_FILE_SCHEMA = {
  type: "record",
  name: "manifest_file",
  fields: [
    { name: "manifest_path", type: "string", "field-id": 500 },
    { name: "manifest_length", type: "long", "field-id": 501 },
    { name: "partition_spec_id", type: "int", "field-id": 502 },
    { name: "content", type: "int", "field-id": 517 },
    { name: "sequence_number", type: "long", "field-id": 515 },
    { name: "min_sequence_number", type: "long", "field-id": 516 },
    { name: "added_snapshot_id", type: "long", "field-id": 503 },
    { name: "added_files_count", type: "int", "field-id": 504 },
    { name: "existing_files_count", type: "int", "field-id": 505 },
    { name: "deleted_files_count", type: "int", "field-id": 506 },
    { name: "added_rows_count", type: "long", "field-id": 512 },
    { name: "existing_rows_count", type: "long", "field-id": 513 },
    { name: "deleted_rows_count", type: "long", "field-id": 514 },
    {
      name: "partitions",
      type: opt({
        type: "array",
        "element-id": 508,
        items: {
          type: "record",
          name: "r508",
          fields: [
            { name: "contains_null", type: "boolean", "field-id": 509 },
            { name: "contains_nan", type: opt("boolean"), default: null, "field-id": 518 },
            { name: "lower_bound", type: opt("bytes"), default: null, "field-id": 510 },
            { name: "upper_bound", type: opt("bytes"), default: null, "field-id": 511 },
          ],
        },
      }),
      default: null,
      "field-id": 507,
    },
  ],
};

/** Encode records as an Avro object container file (deflate blocks) with file metadata. */
export async function encodeAvroFile(
  schema: object,
  records: readonly object[],
  metadata: Record<string, string>,
): Promise<Buffer> {
  const meta: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v, "utf8");
  // The schema object (not a Type) is passed so the header keeps the field ids verbatim.
  const options = { codec: "deflate", metadata: meta };
  const enc = new avro.streams.BlockEncoder(schema as avro.Schema, options);
  const chunks: Buffer[] = [];
  enc.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    enc.on("end", () => resolve());
    enc.on("error", reject);
  });
  for (const r of records) enc.write(r);
  enc.end();
  await done;
  return Buffer.concat(chunks);
}

/** Decode an Avro object container file: its records and file metadata. */
export async function decodeAvroFile<T>(
  bytes: Uint8Array,
): Promise<{ records: T[]; metadata: Record<string, string> }> {
  const dec = new avro.streams.BlockDecoder();
  const records: T[] = [];
  const metadata: Record<string, string> = {};
  dec.on("metadata", (_type: unknown, _codec: unknown, header: { meta: Record<string, Buffer> }) => {
    for (const [k, v] of Object.entries(header.meta))
      if (!k.startsWith("avro.")) metadata[k] = v.toString("utf8");
  });
  dec.on("data", (r: T) => records.push(r));
  const done = new Promise<void>((resolve, reject) => {
    dec.on("end", () => resolve());
    dec.on("error", reject);
  });
  dec.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  await done;
  return { records, metadata };
}

// ---- single-value serialization -----------------------------------------------------------------

/** Iceberg's binary single-value form of a bound, or null when the type has none we write. */
export function encodeBound(icebergType: string, v: unknown): Buffer | null {
  switch (icebergType) {
    case "int":
    case "date": {
      if (typeof v !== "number" || !Number.isInteger(v)) return null;
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      return b;
    }
    case "long": {
      if (typeof v !== "bigint") return null;
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(v);
      return b;
    }
    case "double": {
      if (typeof v !== "number" || Number.isNaN(v)) return null;
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      return b;
    }
    case "float": {
      if (typeof v !== "number" || Number.isNaN(v)) return null;
      const b = Buffer.alloc(4);
      b.writeFloatLE(v);
      return b;
    }
    case "boolean":
      return typeof v === "boolean" ? Buffer.from([v ? 1 : 0]) : null;
    case "string":
      return typeof v === "string" ? Buffer.from(v, "utf8") : null;
    default:
      return null;
  }
}

/** The value of a bound written by encodeBound. */
export function decodeBound(icebergType: string, b: Uint8Array): number | bigint | boolean | string | null {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  switch (icebergType) {
    case "int":
    case "date":
      return buf.length === 4 ? buf.readInt32LE(0) : null;
    case "long":
      return buf.length === 8 ? buf.readBigInt64LE(0) : null;
    case "double":
      return buf.length === 8 ? buf.readDoubleLE(0) : null;
    case "float":
      return buf.length === 4 ? buf.readFloatLE(0) : null;
    case "boolean":
      return buf.length === 1 ? buf[0] !== 0 : null;
    case "string":
      return buf.toString("utf8");
    default:
      return null;
  }
}
