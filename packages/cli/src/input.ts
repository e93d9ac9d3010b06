// The rows the write commands read (stdin or --file), each with the line it starts on, so an error
// names the line once. `json` (the default): one JSON object per line, blank lines skipped. `csv`:
// a header line naming the columns, then one record per line (csv-parse: RFC 4180 quoting, a quoted
// field may span lines); an empty unquoted field is null, a quoted empty one ("") the empty string,
// BOOLEAN fields read true/false (any case) or 1/0; every other value is passed as text, which the
// SDK parses per column type (integers, decimals, dates, timestamps, base64 bytes).

import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Column } from "@fluss-ts/common";
import { parse } from "csv-parse";
import { BadLineError, UsageError } from "./output.ts";

export type InputFormat = "json" | "csv";

export function inputFormatArg(text: string): InputFormat {
  if (text === "json" || text === "csv") return text;
  throw new UsageError(`--format must be json or csv, got '${text}'`);
}

export interface InputRow {
  /** The line the row is on (1-based; for a CSV record over several lines, its last). */
  readonly line: number;
  readonly row: Record<string, unknown>;
}

/** Parse one JSON-object line or throw a BadLineError naming the line. */
export function parseJsonObjectLine(line: string, lineNo: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new BadLineError(lineNo, `invalid JSON: ${jsonErrorText((err as Error).message)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadLineError(lineNo, `expected a JSON object, got ${JSON.stringify(value).slice(0, 40)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * JSON.parse's message, with its position as a column of the line ("at column 2") instead of
 * "at position 1 (line 1 column 2)": the input line is already named, a second line number would
 * only confuse.
 */
function jsonErrorText(message: string): string {
  return message.replace(
    /\bat position (\d+)(?: \(line \d+ column (\d+)\))?/,
    (_m, pos: string, col: string | undefined) => `at column ${col ?? Number(pos) + 1}`,
  );
}

export function inputStream(file: string | undefined): NodeJS.ReadableStream {
  return file ? createReadStream(file) : process.stdin;
}

/** The rows of the input, in order; a malformed line throws a BadLineError naming it. */
export function readRows(
  input: NodeJS.ReadableStream,
  format: InputFormat,
  columns: readonly Column[],
): AsyncGenerator<InputRow> {
  return format === "csv" ? csvRows(input, columns) : jsonRows(input);
}

async function* jsonRows(input: NodeJS.ReadableStream): AsyncGenerator<InputRow> {
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    if (text.trim().length === 0) continue;
    yield { line, row: parseJsonObjectLine(text, line) };
  }
}

async function* csvRows(input: NodeJS.ReadableStream, columns: readonly Column[]): AsyncGenerator<InputRow> {
  const parser = input.pipe(
    parse({
      info: true,
      skip_empty_lines: true,
      relax_column_count: false,
      cast: (value, ctx) => (value === "" && !ctx.quoting ? null : value),
    }),
  );
  let header: Array<Column | undefined> | null = null;
  const names = new Map(columns.map((c) => [c.name, c]));
  try {
    for await (const rec of parser as AsyncIterable<{ record: (string | null)[]; info: { lines: number } }>) {
      const line = rec.info.lines;
      if (header === null) {
        header = rec.record.map((name) => {
          const c = names.get(name ?? "");
          if (!c) {
            throw new BadLineError(
              line,
              `the CSV header names '${name}', which is not a column (${columns.map((x) => x.name).join(", ")})`,
            );
          }
          return c;
        });
        continue;
      }
      const row: Record<string, unknown> = {};
      for (let i = 0; i < header.length; i++)
        row[header[i]!.name] = csvValue(header[i]!, rec.record[i] ?? null, line);
      yield { line, row };
    }
  } catch (err) {
    const e = err as { code?: string; lines?: number; message: string };
    if (typeof e.code === "string" && e.code.startsWith("CSV_")) {
      // csv-parse's own message ends with its position; keep one line number.
      const why = e.message.replace(/\s*at line \d+.*$/, "");
      if (typeof e.lines === "number") throw new BadLineError(e.lines, `invalid CSV: ${why}`);
      throw new UsageError(`invalid CSV: ${why}`);
    }
    throw err;
  }
}

function csvValue(column: Column, text: string | null, line: number): unknown {
  if (text === null || column.type.root !== "BOOLEAN") return text;
  const t = text.trim().toLowerCase();
  if (t === "true" || t === "1") return true;
  if (t === "false" || t === "0") return false;
  throw new BadLineError(line, `column '${column.name}' (BOOLEAN): expected true or false, got '${text}'`);
}
