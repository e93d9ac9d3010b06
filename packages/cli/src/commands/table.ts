// `fluss table create|list|describe|drop`.

import { type TableInfo, tablePathToString, typeToSql } from "@fluss-ts/common";
import { type Command, Option } from "commander";
import { collectKeyValue, eitherOf, intArg, listArg, tablePathArg, withConnection } from "../context.ts";
import { jsonStringify, writeLine } from "../output.ts";

interface CreateOpts {
  schema: string;
  partitionKey?: string[];
  partitionBy?: string[];
  primaryKey?: string[];
  buckets?: number;
  bucketKey?: string[];
  option: Record<string, string>;
  comment?: string;
  ifNotExists?: boolean;
}

export function registerTable(program: Command): void {
  const table = program.command("table").description("create, list, describe and drop tables");
  table
    .command("create <table>")
    .description("create a table ('database.table'; a bare name means database 'fluss')")
    .requiredOption(
      "-s, --schema <columns>",
      "columns, e.g. 'id BIGINT NOT NULL, name STRING, PRIMARY KEY (id)'",
    )
    .option("-k, --primary-key <cols>", "primary key columns (or PRIMARY KEY (...) inside --schema)", listArg)
    .option(
      "--buckets <n>",
      "number of buckets (default: the cluster's default.bucket.number)",
      intArg("--buckets", 1, 1_000_000),
    )
    .option(
      "--bucket-key <cols>",
      "columns whose hash picks the bucket, e.g. 'id' (default: the primary key minus partition keys; none for a log table)",
      listArg,
    )
    .option(
      "--partition-key <cols>",
      "partition keys, e.g. 'dt' or 'dt,region' (also --partition-by)",
      listArg,
    )
    .addOption(new Option("--partition-by <cols>").hideHelp().argParser(listArg))
    .option(
      "-o, --option <key=value>",
      "table option, repeatable (e.g. table.log.ttl=3d)",
      collectKeyValue,
      {},
    )
    .option("--comment <text>", "table comment")
    .option("--if-not-exists", "do nothing when it already exists")
    .action(async (name: string, opts: CreateOpts, cmd: Command) => {
      const path = tablePathArg(name);
      const partitionKeys = eitherOf(
        opts.partitionKey,
        opts.partitionBy,
        "--partition-key and --partition-by",
      );
      await withConnection(cmd, (conn) =>
        conn.admin.createTable(
          path,
          {
            schema: opts.schema,
            ...(opts.primaryKey ? { primaryKey: opts.primaryKey } : {}),
            ...(opts.buckets !== undefined ? { buckets: opts.buckets } : {}),
            ...(opts.bucketKey ? { bucketKeys: opts.bucketKey } : {}),
            ...(partitionKeys ? { partitionKeys } : {}),
            options: opts.option,
            ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
          },
          { ignoreIfExists: opts.ifNotExists },
        ),
      );
      process.stderr.write(`table '${tablePathToString(path)}' created\n`);
    });
  table
    .command("list [database]")
    .description("list the tables of a database (default 'fluss')")
    .action(async (database: string | undefined, _opts: unknown, cmd: Command) => {
      const names = await withConnection(cmd, (conn) => conn.admin.listTables(database ?? "fluss"));
      for (const n of names) await writeLine(n);
    });
  table
    .command("describe <table>")
    .description("show a table's schema, keys, buckets, options and offsets")
    .option("--json", "print JSON")
    .option("--warehouse <dir>", "lake-enabled tables: the Iceberg warehouse (env FLUSS_LAKE_WAREHOUSE)")
    .action(async (name: string, opts: { json?: boolean; warehouse?: string }, cmd: Command) => {
      const path = tablePathArg(name);
      await withConnection(cmd, async (conn) => {
        const info = await conn.admin.getTableInfo(path);
        const partitioned = info.descriptor.partitionKeys.length > 0;
        const partitions = partitioned ? await conn.admin.listPartitions(path) : [];
        const empty = new Map<number, bigint>();
        const earliest = partitioned ? empty : await conn.admin.listOffsets(path, "earliest");
        const latest = partitioned ? empty : await conn.admin.listOffsets(path, "latest");
        const lakeEnabled = info.descriptor.properties["table.datalake.enabled"] === "true";
        const { describeLakeOf, warehouseOf } = await import("../lake.ts");
        const lake = lakeEnabled
          ? await describeLakeOf(conn, await conn.getTable(path), warehouseOf(opts.warehouse))
          : null;
        if (opts.json) {
          await writeLine(
            jsonStringify({
              ...(describeJson(info, earliest, latest) as object),
              partitions: partitions.map((p) => p.name),
              ...(lake ? { lake: lake.json } : {}),
            }),
          );
        } else {
          for (const line of describeText(info, earliest, latest)) await writeLine(line);
          if (partitioned) {
            await writeLine(
              `Partitions:   ${partitions.length} (partitioned by ${info.descriptor.partitionKeys.join(", ")})`,
            );
            for (const p of partitions) await writeLine(`  ${p.name}  (id ${p.partitionId})`);
          }
          for (const line of lake?.lines ?? []) await writeLine(line);
        }
      });
    });
  table
    .command("drop <table>")
    .description("drop a table and delete its data")
    .option("--if-exists", "do nothing when it does not exist")
    .action(async (name: string, opts: { ifExists?: boolean }, cmd: Command) => {
      const path = tablePathArg(name);
      await withConnection(cmd, (conn) => conn.admin.dropTable(path, { ignoreIfNotExists: opts.ifExists }));
      process.stderr.write(`table '${tablePathToString(path)}' dropped\n`);
    });
}

function describeJson(info: TableInfo, earliest: Map<number, bigint>, latest: Map<number, bigint>): unknown {
  const d = info.descriptor;
  return {
    table: tablePathToString(info.path),
    tableId: info.tableId,
    schemaId: info.schemaId,
    columns: d.schema.columns.map((c) => ({ name: c.name, type: typeToSql(c.type), comment: c.comment })),
    primaryKey: d.schema.primaryKey,
    mergeEngine: d.properties["table.merge-engine"] ?? null,
    bucketKeys: d.bucketKeys,
    partitionKeys: d.partitionKeys,
    buckets: info.bucketCount,
    options: d.properties,
    comment: d.comment,
    offsets: [...latest.keys()].map((b) => ({ bucket: b, earliest: earliest.get(b), latest: latest.get(b) })),
    createdTime: new Date(info.createdTime).toISOString(),
  };
}

/** Merge engine, delete behaviour and changelog image of a primary-key table (Fluss defaults shown). */
function kvLines(p: Readonly<Record<string, string>>): string[] {
  const engine = p["table.merge-engine"] ?? "(last row wins)";
  const version = p["table.merge-engine.versioned.ver-column"];
  const lines = [`Merge engine: ${engine}${version ? ` (version column ${version})` : ""}`];
  const aggs = Object.entries(p).filter(([k]) => /^fields\.[^.]+\.agg$/.test(k));
  if (aggs.length > 0)
    lines.push(`Aggregation:  ${aggs.map(([k, v]) => `${k.slice(7, -4)}=${v}`).join(", ")}`);
  lines.push(
    `Deletes:      ${p["table.delete.behavior"] ?? (engine === "(last row wins)" ? "ALLOW" : "IGNORE")}`,
  );
  lines.push(`Changelog:    ${p["table.changelog.image"] ?? "FULL"} image`);
  return lines;
}

function describeText(info: TableInfo, earliest: Map<number, bigint>, latest: Map<number, bigint>): string[] {
  const d = info.descriptor;
  const width = Math.max(...d.schema.columns.map((c) => c.name.length));
  const lines = [
    `Table:        ${tablePathToString(info.path)} (table id ${info.tableId}, schema id ${info.schemaId})`,
    `Kind:         ${d.schema.primaryKey.length > 0 ? "primary-key table" : "log table"}`,
    "Columns:",
    ...d.schema.columns.map(
      (c) => `  ${c.name.padEnd(width)}  ${typeToSql(c.type)}${c.comment ? `  -- ${c.comment}` : ""}`,
    ),
    `Primary key:  ${d.schema.primaryKey.length > 0 ? d.schema.primaryKey.join(", ") : "(none)"}`,
    ...(d.schema.primaryKey.length > 0 ? kvLines(d.properties) : []),
    `Bucket key:   ${d.bucketKeys.length > 0 ? d.bucketKeys.join(", ") : "(none: batches spread over buckets)"}`,
    `Buckets:      ${info.bucketCount}`,
  ];
  if (d.comment) lines.push(`Comment:      ${d.comment}`);
  lines.push("Options:");
  for (const [k, v] of Object.entries(d.properties).sort()) lines.push(`  ${k} = ${v}`);
  lines.push("Offsets (bucket: earliest..latest):");
  for (const b of [...latest.keys()].sort((x, y) => x - y)) {
    lines.push(`  ${b}: ${earliest.get(b) ?? "?"}..${latest.get(b)}`);
  }
  lines.push(`Created:      ${new Date(info.createdTime).toISOString()}`);
  return lines;
}
