// `fluss upsert`, `fluss delete` and `fluss lookup` for primary-key tables. Input is JSON lines or
// CSV (one row or key per line); the first bad line stops the run with its line number after every
// line before it is flushed and acknowledged, and the command says how many were committed
// (write-rows.ts). A row too large for the writer (RECORD_TOO_LARGE_EXCEPTION) counts as a bad
// line. `lookup` prints the row(s) found as JSON, CSV or a table (--format).

import type { UpsertWriter } from "@fluss-ts/client";
import { rowToJson, tablePathToString } from "@fluss-ts/common";
import { type Command, Option } from "commander";
import { listArg, tablePathArg, withConnection } from "../context.ts";
import {
  type BigintStyle,
  bigintStyleArg,
  createSink,
  type OutputFormat,
  outputFormatArg,
  withBigints,
} from "../format.ts";
import { type InputFormat, inputFormatArg, parseJsonObjectLine } from "../input.ts";
import { EXIT_NOT_FOUND } from "../output.ts";
import { writeRowsOf } from "../write-rows.ts";
import { FORMAT_INPUT_HELP } from "./produce.ts";

interface KvWriteOpts {
  file?: string;
  format: InputFormat;
  columns?: string[];
  quiet?: boolean;
}

interface LookupOpts {
  prefix?: string[];
  format: OutputFormat;
  bigint: BigintStyle;
}

export function registerKv(program: Command): void {
  registerKvWrite(program, {
    name: "upsert",
    description: "insert or update rows of a primary-key table (JSON lines or CSV, stdin or --file)",
    columnsHelp: "partial update: only these columns (the primary key among them)",
    write: (w, row) => w.upsert(row),
    summary: (n, table) => `upserted ${n === 1 ? "1 row" : `${n} rows`} into ${table}`,
  });
  registerKvWrite(program, {
    name: "delete",
    description: "delete rows of a primary-key table by key (JSON lines or CSV of key columns)",
    columnsHelp: "partial delete: null only these columns (the primary key among them)",
    write: (w, row) => w.delete(row),
    summary: (n, table) => `deleted ${n === 1 ? "1 key" : `${n} keys`} from ${table}`,
  });
  program
    .command("lookup <table> <key>")
    .description(
      `look up a row by primary key given as JSON, e.g. '{"id": 7}'; prints the row, or nothing and exits ${EXIT_NOT_FOUND} when absent`,
    )
    .option(
      "--prefix <cols>",
      "prefix lookup by these columns (the bucket key); prints every matching row",
      listArg,
    )
    .addOption(
      new Option("--format <format>", "output: json, csv (with a header) or table")
        .default("json")
        .argParser(outputFormatArg),
    )
    .addOption(
      new Option("--bigint <style>", "BIGINT values: number (a string beyond 2^53) or always string")
        .default("number")
        .argParser(bigintStyleArg),
    )
    .action(async (name: string, keyText: string, opts: LookupOpts, cmd: Command) => {
      const path = tablePathArg(name);
      const key = parseJsonObjectLine(keyText, 1);
      await withConnection(cmd, async (conn) => {
        const table = await conn.getTable(path);
        const columns = table.info.descriptor.schema.columns;
        const rows = opts.prefix
          ? await table.newPrefixLookuper(opts.prefix).lookup(key)
          : [await table.newLookuper().lookup(key)].filter((r) => r !== null);
        const sink = createSink(
          opts.format,
          columns.map((c) => c.name),
        );
        for (const r of rows) {
          const json = rowToJson(withBigints(r, opts.bigint), columns);
          await sink.write(
            json,
            columns.map((c) => json[c.name]!),
          );
        }
        if (rows.length > 0) await sink.end();
        else {
          process.stderr.write(opts.prefix ? "no rows\n" : "not found\n");
          process.exitCode = EXIT_NOT_FOUND;
        }
      });
    });
}

interface KvWriteCommand {
  name: string;
  description: string;
  columnsHelp: string;
  write: (w: UpsertWriter, row: Record<string, unknown>) => Promise<unknown>;
  summary: (n: number, table: string) => string;
}

/** `fluss upsert` and `fluss delete`: the same reading, writing and reporting, another operation. */
function registerKvWrite(program: Command, c: KvWriteCommand): void {
  program
    .command(`${c.name} <table>`)
    .description(c.description)
    .option("-f, --file <path>", "read this file instead of stdin")
    .addOption(new Option("--format <format>", FORMAT_INPUT_HELP).default("json").argParser(inputFormatArg))
    .option("-c, --columns <cols>", c.columnsHelp, listArg)
    .option("-q, --quiet", "no summary on stderr")
    .action(async (name: string, opts: KvWriteOpts, cmd: Command) => {
      const path = tablePathArg(name);
      await withConnection(cmd, async (conn) => {
        const table = await conn.getTable(path);
        const writer = table.newUpsertWriter(opts.columns ? { targetColumns: opts.columns } : {});
        await writeRowsOf({
          file: opts.file,
          format: opts.format,
          columns: table.info.descriptor.schema.columns,
          writer,
          write: (row) => c.write(writer, row),
          summary: (n) => c.summary(n, tablePathToString(path)),
          quiet: opts.quiet === true,
        });
      });
    });
}
