// How a log table's rows become bytes on the client: the bucket of a row (Fluss bucketing over
// the compacted encoding of its bucket key) and the Arrow log batch a closed batch is sent as
// (compressed per the table's options).

import {
  bucketForKey,
  buildArrowLogBatch,
  type Column,
  encodeKey,
  logOptionsOf,
  type TableInfo,
} from "@fluss-ts/common";
import type { RecordBatch } from "apache-arrow";

export interface RowCodec {
  bucketOf(row: Record<string, unknown>): number | undefined;
  encode(records: RecordBatch, writerId: bigint, sequence: number): Uint8Array;
}

export function createRowCodec(info: TableInfo): RowCodec {
  const schema = info.descriptor.schema;
  const keyColumns: Column[] = info.descriptor.bucketKeys.map(
    (k) => schema.columns.find((c) => c.name === k)!,
  );
  const keyTypes = keyColumns.map((c) => c.type);
  const { compression, zstdLevel } = logOptionsOf(info.descriptor);
  const bucketCount = info.bucketCount;
  return {
    bucketOf(row) {
      if (keyColumns.length === 0) return undefined;
      const key = encodeKey(
        keyTypes,
        keyColumns.map((c) => row[c.name]),
        keyColumns.map((c) => c.name),
      );
      return bucketForKey(key, bucketCount);
    },
    encode(records, writerId, sequence) {
      return buildArrowLogBatch({
        schema,
        schemaId: info.schemaId,
        recordBatch: records,
        compression: { type: compression, zstdLevel },
        writerId,
        batchSequence: sequence,
      });
    },
  };
}
