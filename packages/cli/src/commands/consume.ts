// `fluss consume <table>`: rows as JSON lines on stdout. Without --follow it stops once it has read
// up to the latest offset seen at start; with --follow it tails until Ctrl-C.

import type { StartPosition } from "@fluss-ts/client";
import { rowToJson, tablePathToString } from "@fluss-ts/common";
import type { Command } from "commander";
import { intArg, listArg, tablePathArg, withConnection } from "../context.ts";
import { jsonStringify, UsageError, writeLine } from "../output.ts";
import { looksLikeSpec, parseSpec } from "./partition.ts";

interface ConsumeOpts {
  from: string;
  partition?: string;
  where?: string;
  columns?: string[];
  buckets?: string[];
  follow?: boolean;
  limit?: number;
  meta?: boolean;
  union?: boolean;
  warehouse?: string;
}

export function parseFrom(text: string): StartPosition {
  if (text === "earliest" || text === "latest") return text;
  const offset = /^offset:(\d+)$/.exec(text);
  if (offset) return { offset: BigInt(offset[1]!) };
  const ts = /^timestamp:(.+)$/.exec(text);
  if (ts) {
    const v = ts[1]!;
    const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (Number.isNaN(ms))
      throw new UsageError(`--from timestamp '${v}' is neither epoch milliseconds nor ISO-8601`);
    return { timestamp: ms };
  }
  throw new UsageError(`--from must be earliest, latest, offset:N or timestamp:T, got '${text}'`);
}

export function registerConsume(program: Command): void {
  program
    .command("consume <table>")
    .description("print a table's records as JSON lines")
    .option(
      "--from <position>",
      "earliest | latest | offset:N | timestamp:T (epoch ms or ISO-8601)",
      "earliest",
    )
    .option("-c, --columns <cols>", "only these columns (read from the server column by column)", listArg)
    .option("--buckets <ids>", "only these buckets, e.g. 0,2", listArg)
    .option("-F, --follow", "keep waiting for new records (Ctrl-C to stop)")
    .option("-n, --limit <n>", "stop after n records", intArg("--limit", 0, Number.MAX_SAFE_INTEGER))
    .option(
      "-p, --partition <partition>",
      "partitioned tables: a partition (dt=20261126[,k=v]) or a filter on partition keys (\"dt >= '20261120'\")",
    )
    .option(
      "-w, --where <filter>",
      "only rows matching, e.g. 'price > 100 AND region = \"EU\"' (the server skips batches that cannot match)",
    )
    .option("-u, --union", "lake-enabled tables: the lake snapshot, then the log from where it ends")
    .option("--warehouse <dir>", "with --union: the Iceberg warehouse (env FLUSS_LAKE_WAREHOUSE)")
    .option(
      "--meta",
      "wrap each row with bucket, offset, timestamp and change type (primary-key tables always show the change type)",
    )
    .action(async (name: string, opts: ConsumeOpts, cmd: Command) => {
      const path = tablePathArg(name);
      const from = parseFrom(opts.from);
      const controller = new AbortController();
      const onSignal = (): void => controller.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await withConnection(cmd, async (conn) => {
          const table = await conn.getTable(path);
          if (opts.union) {
            const { consumeUnion, warehouseOf } = await import("../lake.ts");
            const spec = opts.partition && looksLikeSpec(opts.partition) ? parseSpec(opts.partition) : undefined;
            const n = await consumeUnion(conn, table, {
              warehouse: warehouseOf(opts.warehouse),
              ...(opts.columns ? { columns: opts.columns } : {}),
              ...(opts.where ? { where: opts.where } : {}),
              ...(spec ? { partition: spec } : {}),
              follow: opts.follow === true,
              ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
              meta: opts.meta === true,
              signal: controller.signal,
            });
            if (process.stderr.isTTY) process.stderr.write(`consumed ${n} records (lake + log)\n`);
            return;
          }
          const buckets = opts.buckets?.map((b) => intArg("--buckets", 0, table.info.bucketCount - 1)(b));
          const scanner = table.newLogScanner({
            ...(opts.columns ? { columns: opts.columns } : {}),
            from,
            ...(buckets ? { buckets } : {}),
            ...(opts.partition
              ? { partitions: looksLikeSpec(opts.partition) ? parseSpec(opts.partition) : opts.partition }
              : {}),
            ...(opts.where ? { filter: opts.where } : {}),
            untilLatest: opts.follow !== true,
          });
          // Ctrl-C closes the scan: a clean stop (an aborted `signal` would make it reject instead).
          controller.signal.addEventListener("abort", () => scanner.close(), { once: true });
          const columns = scanner.columns;
          // A primary-key table's log is a changelog: every line says what changed.
          const isChangelog = table.info.descriptor.schema.primaryKey.length > 0;
          let n = 0;
          if (opts.limit === 0) return;
          for await (const rec of scanner) {
            const row = rowToJson(rec.row, columns);
            const out = opts.meta
              ? {
                  ...(rec.partition !== null ? { partition: rec.partition } : {}),
                  bucket: rec.bucket,
                  offset: rec.offset,
                  timestamp: rec.timestamp,
                  changeType: rec.changeType,
                  row,
                }
              : isChangelog
                ? { changeType: rec.changeType, row }
                : row;
            await writeLine(jsonStringify(out));
            n++;
            if (opts.limit !== undefined && n >= opts.limit) break;
          }
          if (process.stderr.isTTY)
            process.stderr.write(`consumed ${n} records from ${tablePathToString(path)}\n`);
        });
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
