// `fluss consume <table>`: a table's records on stdout, as JSON lines (default), CSV or an aligned
// table (--format). Without --follow it stops once it has read up to the latest offset seen at
// start; with --follow it tails until Ctrl-C.
// Resumable: --save-positions FILE keeps where the consumer stands (every --save-interval-ms and at
// exit, Ctrl-C included; written atomically), and --from-positions FILE starts there, so a
// restarted consumer prints every row once: none missing, none repeated (after a kill -9, the
// rows of the last interval may be printed again; none is ever skipped). Fluss has no consumer
// groups: the positions file is the consumer's own state.

import type { LogScanner, ScanPositions, ScanRecord, StartPosition, Table } from "@fluss-ts/client";
import { type Column, rowToJson, tablePathToString } from "@fluss-ts/common";
import { type Command, Option } from "commander";
import { eitherOf, intArg, listArg, tablePathArg, withConnection } from "../context.ts";
import {
  type BigintStyle,
  bigintStyleArg,
  createSink,
  type OutputFormat,
  outputFormatArg,
  type RowSink,
  withBigints,
} from "../format.ts";
import { UsageError } from "../output.ts";
import { PositionsSaver, readPositionsFile } from "../positions-file.ts";
import { looksLikeSpec, parseSpec } from "./partition.ts";

interface ConsumeOpts {
  from: string;
  partitions?: string;
  partition?: string;
  filter?: string;
  where?: string;
  columns?: string[];
  buckets?: string[];
  follow?: boolean;
  limit?: number;
  meta?: boolean;
  union?: boolean;
  warehouse?: string;
  format: OutputFormat;
  bigint: BigintStyle;
  fromPositions?: string;
  savePositions?: string;
  saveIntervalMs: number;
  outOfRange: "fail" | "clamp";
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
    .description("print a table's records (JSON lines, CSV or a table)")
    .option(
      "--from <position>",
      "earliest | latest | offset:N | timestamp:T (epoch ms or ISO-8601)",
      "earliest",
    )
    .option("-c, --columns <cols>", "only these columns (read from the server column by column)", listArg)
    .option("--buckets <ids>", "only these buckets, e.g. 0,2 (default: all)", listArg)
    .option("-F, --follow", "keep waiting for new records (Ctrl-C to stop)")
    .option("-n, --limit <n>", "stop after n records", intArg("--limit", 0, Number.MAX_SAFE_INTEGER))
    .option(
      "-p, --partitions <partitions>",
      "partitioned tables: a partition (dt=20261126[,k=v]) or a filter on partition keys (\"dt >= '20261120'\"); default all",
    )
    .addOption(new Option("--partition <partitions>").hideHelp())
    .option(
      "-w, --filter <predicate>",
      "only rows matching, e.g. 'price > 100 AND region = \"EU\"' (the server skips batches that cannot match; also --where)",
    )
    .addOption(new Option("--where <predicate>").hideHelp())
    .addOption(
      new Option("--format <format>", "output: json (one object per line), csv (with a header) or table")
        .default("json")
        .argParser(outputFormatArg),
    )
    .addOption(
      new Option("--bigint <style>", "BIGINT values: number (a string beyond 2^53) or always string")
        .default("number")
        .argParser(bigintStyleArg),
    )
    .option(
      "--meta",
      "add bucket, offset, timestamp and change type to each row (primary-key tables always show the change type)",
    )
    .option("--from-positions <file>", "start where the positions in this file say (a missing file: --from)")
    .option("--save-positions <file>", "keep this file updated with where the consumer stands")
    .option(
      "--save-interval-ms <ms>",
      "how often --save-positions writes while consuming",
      intArg("--save-interval-ms", 10, 3_600_000),
      1000,
    )
    .addOption(
      new Option(
        "--out-of-range <policy>",
        "with --from-positions: a saved offset outside the log (removed by retention) fails, or clamps to the log's nearest end",
      )
        .choices(["fail", "clamp"])
        .default("fail"),
    )
    .option("-u, --union", "lake-enabled tables: the lake snapshot, then the log from where it ends")
    .option("--warehouse <dir>", "with --union: the Iceberg warehouse (env FLUSS_LAKE_WAREHOUSE)")
    .action(async (name: string, opts: ConsumeOpts, cmd: Command) => {
      const path = tablePathArg(name);
      const partitions = eitherOf(opts.partitions, opts.partition, "--partitions and --partition");
      const filter = eitherOf(opts.filter, opts.where, "--filter and --where");
      let from: StartPosition | ScanPositions = parseFrom(opts.from);
      if (opts.fromPositions) {
        const saved = await readPositionsFile(opts.fromPositions);
        if (saved) from = saved;
        else process.stderr.write(`no positions in ${opts.fromPositions} yet: starting from ${opts.from}\n`);
      }
      if (opts.union && (opts.fromPositions || opts.savePositions || opts.format !== "json")) {
        throw new UsageError(
          "--union prints JSON and does not take --from-positions, --save-positions or --format",
        );
      }
      const controller = new AbortController();
      const onSignal = (): void => controller.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await withConnection(cmd, async (conn) => {
          const table = await conn.getTable(path);
          if (opts.union) {
            const { consumeUnion, warehouseOf } = await import("../lake.ts");
            const spec = partitions && looksLikeSpec(partitions) ? parseSpec(partitions) : undefined;
            const n = await consumeUnion(conn, table, {
              warehouse: warehouseOf(opts.warehouse),
              ...(opts.columns ? { columns: opts.columns } : {}),
              ...(filter ? { where: filter } : {}),
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
            outOfRange: opts.outOfRange,
            ...(buckets ? { buckets } : {}),
            ...(partitions
              ? { partitions: looksLikeSpec(partitions) ? parseSpec(partitions) : partitions }
              : {}),
            ...(filter ? { filter } : {}),
            untilLatest: opts.follow !== true,
          });
          // Ctrl-C closes the scan: a clean stop (an aborted `signal` would make it reject instead).
          controller.signal.addEventListener("abort", () => scanner.close(), { once: true });
          const n = await printRecords(table, scanner, opts);
          if (process.stderr.isTTY)
            process.stderr.write(`consumed ${n} records from ${tablePathToString(path)}\n`);
        });
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}

/** Print the scanner's records in the chosen format, saving positions if asked; returns the count. */
async function printRecords(table: Table, scanner: LogScanner, opts: ConsumeOpts): Promise<number> {
  const shape = recordShape(table, scanner.columns, opts.meta === true);
  const sink = createSink(opts.format, shape.header);
  const saver = opts.savePositions
    ? new PositionsSaver(
        opts.savePositions,
        { ready: () => scanner.positionsKnown && sink.pending === 0, positions: () => scanner.positions() },
        opts.saveIntervalMs,
      )
    : null;
  let n = 0;
  try {
    if (opts.limit === 0) return 0;
    for await (const rec of scanner) {
      await shape.print(sink, rec, opts.bigint);
      n++;
      if (opts.limit !== undefined && n >= opts.limit) break;
    }
  } finally {
    // Printed first, then saved: saved positions never cover a row that was not printed.
    await sink.end();
    await saver?.finish();
  }
  return n;
}

interface RecordShape {
  readonly header: readonly string[];
  print(sink: RowSink, rec: ScanRecord, bigint: BigintStyle): Promise<void>;
}

/**
 * How a record is printed: the row alone (log tables), with its change type (primary-key tables:
 * their log is a changelog), or with bucket, offset, timestamp and change type (--meta).
 */
function recordShape(table: Table, columns: readonly Column[], meta: boolean): RecordShape {
  const names = columns.map((c) => c.name);
  const partitioned = table.info.descriptor.partitionKeys.length > 0;
  const isChangelog = table.info.descriptor.schema.primaryKey.length > 0;
  if (meta) {
    const head = [...(partitioned ? ["partition"] : []), "bucket", "offset", "timestamp", "changeType"];
    return {
      header: [...head, ...names],
      print: (sink, rec, bigint) => {
        const row = rowToJson(withBigints(rec.row, bigint), columns);
        const m = {
          ...(partitioned ? { partition: rec.partition } : {}),
          bucket: rec.bucket,
          offset: rec.offset,
          timestamp: rec.timestamp,
          changeType: rec.changeType,
        };
        const cells = [
          ...Object.values(m).map((v) => (typeof v === "bigint" ? Number(v) : v)),
          ...names.map((k) => row[k]!),
        ];
        return sink.write({ ...m, row }, cells as never);
      },
    };
  }
  if (isChangelog) {
    return {
      header: ["changeType", ...names],
      print: (sink, rec, bigint) => {
        const row = rowToJson(withBigints(rec.row, bigint), columns);
        return sink.write({ changeType: rec.changeType, row }, [
          rec.changeType,
          ...names.map((k) => row[k]!),
        ]);
      },
    };
  }
  return {
    header: names,
    print: (sink, rec, bigint) => {
      const row = rowToJson(withBigints(rec.row, bigint), columns);
      return sink.write(
        row,
        names.map((k) => row[k]!),
      );
    },
  };
}
