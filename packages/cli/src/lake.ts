// The CLI's lake pieces, loaded lazily (the lake package brings a WebAssembly Parquet codec):
// where the warehouse is (`--warehouse`, env FLUSS_LAKE_WAREHOUSE, else the default of
// `fluss local`: <data dir>/iceberg), `fluss consume --union` (the lake snapshot, then the log),
// and the lake lines of `fluss table describe`.

import { homedir } from "node:os";
import { join } from "node:path";
import type { FlussConnection, Table } from "@fluss-ts/client";
import { rowToJson, systemClock } from "@fluss-ts/common";
import { jsonStringify, writeLine } from "./output.ts";

export const WAREHOUSE_HELP =
  "Iceberg warehouse of lake-enabled tables (env FLUSS_LAKE_WAREHOUSE; default <data dir of fluss local>/iceberg)";

export function warehouseOf(flag: string | undefined): string {
  if (flag) return flag;
  if (process.env.FLUSS_LAKE_WAREHOUSE) return process.env.FLUSS_LAKE_WAREHOUSE;
  return join(process.env.FLUSS_DATA_DIR ?? join(homedir(), ".fluss-ts", "local"), "iceberg");
}

export interface UnionConsumeOpts {
  readonly warehouse: string;
  readonly columns?: readonly string[];
  readonly where?: string;
  readonly partition?: Readonly<Record<string, string>>;
  readonly follow: boolean;
  readonly limit?: number;
  readonly meta: boolean;
  readonly signal: AbortSignal;
}

/** Print a union read as JSON lines; returns the number of records. */
export async function consumeUnion(
  conn: FlussConnection,
  table: Table,
  o: UnionConsumeOpts,
): Promise<number> {
  const { UnionScanner } = await import("@fluss-ts/lake");
  const scanner = new UnionScanner(table, conn.admin, {
    warehouse: o.warehouse,
    ...(o.columns ? { columns: o.columns } : {}),
    ...(o.where ? { filter: o.where } : {}),
    ...(o.partition ? { partition: o.partition } : {}),
    follow: o.follow,
    signal: o.signal,
  });
  let n = 0;
  if (o.limit === 0) return 0;
  // Ctrl-C aborts the signal: the scan then rejects with its reason, a clean stop here.
  try {
    for await (const r of scanner) {
      const row = rowToJson(r.row as never, scanner.columns);
      const out = o.meta
        ? {
            source: r.source,
            ...(r.partition !== null ? { partition: r.partition } : {}),
            bucket: r.bucket,
            offset: r.offset,
            timestamp: r.timestamp,
            row,
          }
        : row;
      await writeLine(jsonStringify(out));
      n++;
      if (o.limit !== undefined && n >= o.limit) break;
      if (o.signal.aborted) break;
    }
  } catch (err) {
    if (!o.signal.aborted || err !== o.signal.reason) throw err;
  }
  return n;
}

/** Lines for `fluss table describe` of a lake-enabled table (or a JSON-able object). */
export async function describeLakeOf(
  conn: FlussConnection,
  table: Table,
  warehouse: string,
): Promise<{ lines: string[]; json: unknown }> {
  const { describeLake } = await import("@fluss-ts/lake");
  const d = await describeLake(conn.admin, table, warehouse, systemClock);
  if (d === null) {
    return {
      lines: [`Lake:         not tiered yet (warehouse ${warehouse}; is a tiering service running?)`],
      json: { warehouse, tiered: false },
    };
  }
  const rate = d.lastRoundRowsPerSecond === null ? "-" : `${Math.round(d.lastRoundRowsPerSecond)} rows/s`;
  const age = d.snapshotAgeMs === null ? "-" : `${(d.snapshotAgeMs / 1000).toFixed(1)} s ago`;
  const lines = [
    `Lake:         iceberg ${d.warehouseTable}`,
    `  snapshot    ${d.snapshotId ?? "-"} (${age}), ${d.totalRecords} records`,
    `  tiering     last round ${d.lastRoundRecords} records at ${rate}; lag ${d.lagRecords} records`,
    ...d.buckets.map(
      (b) =>
        `  ${b.partition !== null ? `${b.partition} ` : ""}bucket ${b.bucket}: tiered to ${b.tieredOffset ?? "-"} of ${b.logEndOffset}`,
    ),
  ];
  return { lines, json: { warehouse, ...d } };
}
