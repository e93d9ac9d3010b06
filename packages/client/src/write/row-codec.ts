// Bucketing of rows on the client: Fluss's murmur hash over the COMPACTED encoding of a row's
// bucket-key columns, as the server and every Fluss client compute it.

import { bucketForKey, CompactedKeyEncoder, type TableInfo } from "@fluss-ts/common";

/** The bucket of a row by the table's bucket key, or undefined when the table has none. */
export function bucketFunction(
  info: TableInfo,
): (row: Readonly<Record<string, unknown>>) => number | undefined {
  const keys = info.descriptor.bucketKeys;
  if (keys.length === 0) return () => undefined;
  const encoder = new CompactedKeyEncoder(info.descriptor.schema.columns, keys);
  const count = info.bucketCount;
  return (row) => bucketForKey(encoder.encode(row), count);
}
