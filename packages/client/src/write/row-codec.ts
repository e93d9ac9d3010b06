// How a log table's rows become bytes on the client: the row check at append time, the bucket of a
// row (Fluss bucketing over the compacted encoding of its bucket key), and the Arrow log batch a
// group of rows is sent as (compressed per the table's options).

import {
  bucketForKey,
  buildArrowLogBatch,
  type Column,
  Errors,
  encodeKey,
  FlussError,
  logOptionsOf,
  type TableInfo,
} from "@fluss-ts/common";

export interface RowCodec {
  check(row: Record<string, unknown>): void;
  bucketOf(row: Record<string, unknown>): number | undefined;
  encode(rows: readonly Record<string, unknown>[], writerId: bigint, sequence: number): Uint8Array;
}

export function createRowCodec(info: TableInfo): RowCodec {
  const schema = info.descriptor.schema;
  const known = new Set(schema.columns.map((c) => c.name));
  const required = schema.columns.filter((c) => !c.type.nullable).map((c) => c.name);
  const names = schema.columns.map((c) => c.name).join(", ");
  const keyColumns: Column[] = info.descriptor.bucketKeys.map(
    (k) => schema.columns.find((c) => c.name === k)!,
  );
  const keyTypes = keyColumns.map((c) => c.type);
  const { compression, zstdLevel } = logOptionsOf(info.descriptor);
  const bucketCount = info.bucketCount;
  return {
    check(row) {
      for (const k in row) {
        if (!known.has(k)) {
          throw new FlussError(Errors.SCHEMA_MISMATCH, `unknown column '${k}' (the table has: ${names})`);
        }
      }
      for (const k of required) {
        if (row[k] === null || row[k] === undefined) {
          throw new FlussError(
            Errors.SCHEMA_MISMATCH,
            `column '${k}' is NOT NULL but the row has no value for it`,
          );
        }
      }
    },
    bucketOf(row) {
      if (keyColumns.length === 0) return undefined;
      const key = encodeKey(
        keyTypes,
        keyColumns.map((c) => row[c.name]),
        keyColumns.map((c) => c.name),
      );
      return bucketForKey(key, bucketCount);
    },
    encode(rows, writerId, sequence) {
      return buildArrowLogBatch({
        schema,
        schemaId: info.schemaId,
        rows,
        compression: { type: compression, zstdLevel },
        writerId,
        batchSequence: sequence,
      });
    },
  };
}
