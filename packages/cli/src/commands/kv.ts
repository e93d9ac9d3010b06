// `fluss upsert`, `fluss delete` and `fluss lookup` for primary-key tables. Input is JSON lines
// (one row or key per line); the first bad line stops the run with its line number after every
// line before it is flushed and acknowledged. A row too large for the writer
// (RECORD_TOO_LARGE_EXCEPTION) counts as a bad line.

import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { UpsertWriter } from "@fluss-ts/client";
import { Errors, isFlussError, rowToJson, tablePathToString } from "@fluss-ts/common";
import type { Command } from "commander";
import { listArg, tablePathArg, withConnection } from "../context.ts";
import { parseJsonObjectLine } from "../input.ts";
import { EXIT_NOT_FOUND, jsonStringify, UsageError, writeLine } from "../output.ts";

interface KvWriteOpts {
  file?: string;
  columns?: string[];
  quiet?: boolean;
}

async function writeLines(
  input: NodeJS.ReadableStream,
  writer: UpsertWriter,
  op: (w: UpsertWriter, row: Record<string, unknown>) => Promise<unknown>,
): Promise<number> {
  let lineNo = 0;
  let n = 0;
  try {
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      lineNo++;
      if (line.trim().length === 0) continue;
      const row = parseJsonObjectLine(line, lineNo);
      try {
        await op(writer, row);
      } catch (err) {
        if (
          isFlussError(err) &&
          (err.code >= 10000 ||
            err.is(Errors.INVALID_TARGET_COLUMN) ||
            err.is(Errors.RECORD_TOO_LARGE_EXCEPTION))
        ) {
          throw new UsageError(`line ${lineNo}: ${err.message}`);
        }
        throw err;
      }
      n++;
    }
  } finally {
    await writer.close();
  }
  return n;
}

export function registerKv(program: Command): void {
  registerKvWrite(program, {
    name: "upsert",
    description: "insert or update rows of a primary-key table from JSON lines (stdin or --file)",
    columnsHelp: "partial update: only these columns (the primary key among them)",
    write: (w, row) => w.upsert(row),
    summary: (n, table) => `upserted ${n} rows into ${table}`,
  });
  registerKvWrite(program, {
    name: "delete",
    description: "delete rows of a primary-key table by key, from JSON lines of key columns",
    columnsHelp: "partial delete: null only these columns (the primary key among them)",
    write: (w, row) => w.delete(row),
    summary: (n, table) => `deleted ${n} keys from ${table}`,
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
    .action(async (name: string, keyText: string, opts: { prefix?: string[] }, cmd: Command) => {
      const path = tablePathArg(name);
      const key = parseJsonObjectLine(keyText, 1);
      await withConnection(cmd, async (conn) => {
        const table = await conn.getTable(path);
        const columns = table.info.descriptor.schema.columns;
        if (opts.prefix) {
          const rows = await table.newPrefixLookuper(opts.prefix).lookup(key);
          for (const r of rows) await writeLine(jsonStringify(rowToJson(r, columns)));
          if (rows.length === 0) {
            process.stderr.write("no rows\n");
            process.exitCode = EXIT_NOT_FOUND;
          }
          return;
        }
        const row = await table.newLookuper().lookup(key);
        if (row === null) {
          process.stderr.write("not found\n");
          process.exitCode = EXIT_NOT_FOUND;
          return;
        }
        await writeLine(jsonStringify(rowToJson(row, columns)));
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
    .option("-c, --columns <cols>", c.columnsHelp, listArg)
    .option("-q, --quiet", "no summary on stderr")
    .action(async (name: string, opts: KvWriteOpts, cmd: Command) => {
      const path = tablePathArg(name);
      const input = opts.file ? createReadStream(opts.file) : process.stdin;
      await withConnection(cmd, async (conn) => {
        const table = await conn.getTable(path);
        const writer = table.newUpsertWriter(opts.columns ? { targetColumns: opts.columns } : {});
        const n = await writeLines(input, writer, c.write);
        if (!opts.quiet) process.stderr.write(`${c.summary(n, tablePathToString(path))}\n`);
      });
    });
}
