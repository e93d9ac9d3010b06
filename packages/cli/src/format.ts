// Output formats of the commands that print rows (`consume`, `lookup`): `json` (one JSON object per
// line, the default), `csv` (a header line, then RFC 4180 records written by csv-stringify) and
// `table` (aligned columns for a terminal). Values are first made JSON-safe (common's rowToJson):
// BIGINT a number when it is a safe integer, else a decimal string (`--bigint string`: always a
// string), DECIMAL a string, BYTES base64, timestamps ISO-8601. CSV writes null as an empty field and
// an empty string as "" (quoted), which `produce --format csv` reads back the same way.
// A table prints in pages: rows are held until a page is full (100 rows), the output ends, or a
// moment has passed (a following consume prints what arrived), and its column widths come from the
// first page. Invariant: `pending` counts rows taken but not yet written to stdout.

import type { JsonValue } from "@fluss-ts/common";
import { stringify } from "csv-stringify/sync";
import { jsonStringify, UsageError } from "./output.ts";

export type OutputFormat = "json" | "csv" | "table";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["json", "csv", "table"];

export function outputFormatArg(text: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(text)) return text as OutputFormat;
  throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(", ")}, got '${text}'`);
}

/** How BIGINT values are printed: numbers when exact (default), or always strings. */
export type BigintStyle = "number" | "string";

export function bigintStyleArg(text: string): BigintStyle {
  if (text === "number" || text === "string") return text;
  throw new UsageError(`--bigint must be number or string, got '${text}'`);
}

/** A row source's values, with BIGINT values as strings when the style asks for it. */
export function withBigints(
  row: Readonly<Record<string, unknown>>,
  style: BigintStyle,
): Record<string, unknown> {
  if (style === "number") return row as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === "bigint" ? v.toString() : v;
  return out;
}

/** Where printed rows go. `write` takes the row as JSON (json format) and as cells (csv, table). */
export interface RowSink {
  write(json: unknown, cells: readonly JsonValue[]): Promise<void>;
  /** Print what is held; resolves once stdout took it. */
  end(): Promise<void>;
  /** Rows taken but not yet written to stdout. */
  readonly pending: number;
}

/** Write text to stdout, waiting when the pipe is full so large outputs keep bounded memory. */
async function out(text: string): Promise<void> {
  if (!process.stdout.write(text)) {
    await new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()));
  }
}

class JsonSink implements RowSink {
  readonly pending = 0;

  write(json: unknown): Promise<void> {
    return out(`${jsonStringify(json)}\n`);
  }

  async end(): Promise<void> {}
}

class CsvSink implements RowSink {
  readonly pending = 0;
  private header: readonly string[] | null;

  constructor(header: readonly string[]) {
    this.header = header;
  }

  write(_json: unknown, cells: readonly JsonValue[]): Promise<void> {
    const head = this.header;
    this.header = null;
    return out(csvLines(head ? [head, cells] : [cells]));
  }

  async end(): Promise<void> {
    if (this.header) await out(csvLines([this.header])); // no rows: the header alone
    this.header = null;
  }
}

function csvLines(records: ReadonlyArray<readonly JsonValue[]>): string {
  // null: an empty field; the empty string: "" (quoted), so the two read back apart.
  return stringify(records as JsonValue[][], {
    cast: {
      boolean: (v: boolean) => (v ? "true" : "false"),
      string: (v: string) => (v === "" ? { value: "", quoted_empty: true } : v),
    },
  });
}

const PAGE_ROWS = 100;
const PAGE_WAIT_MS = 200;

class TableSink implements RowSink {
  private readonly header: readonly string[];
  private widths: number[] | null = null;
  private rows: string[][] = [];
  private numeric: boolean[];
  private timer: NodeJS.Timeout | undefined;
  private printing: Promise<void> = Promise.resolve();

  constructor(header: readonly string[]) {
    this.header = header;
    this.numeric = header.map(() => false);
  }

  get pending(): number {
    return this.rows.length;
  }

  write(_json: unknown, cells: readonly JsonValue[]): Promise<void> {
    this.rows.push(cells.map((c) => (c === null ? "NULL" : String(c))));
    cells.forEach((c, i) => {
      if (typeof c === "number") this.numeric[i] = true;
    });
    if (this.rows.length >= PAGE_ROWS) return this.page();
    if (!this.timer) {
      this.timer = setTimeout(() => void this.page(), PAGE_WAIT_MS);
      this.timer.unref();
    }
    return Promise.resolve();
  }

  /** Print the rows held (the first page also fixes the widths and prints the header). */
  private page(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.rows;
    this.rows = [];
    const lines: string[] = [];
    if (!this.widths) {
      this.widths = this.header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      lines.push(this.line(this.header, false), this.widths.map((w) => "-".repeat(w)).join("  "));
    }
    for (const r of rows) lines.push(this.line(r, true));
    const text = lines.length > 0 ? `${lines.join("\n")}\n` : "";
    this.printing = this.printing.then(() => (text ? out(text) : undefined));
    return this.printing;
  }

  private line(cells: readonly string[], alignNumbers: boolean): string {
    const w = this.widths!;
    return cells
      .map((c, i) => (alignNumbers && this.numeric[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
      .join("  ")
      .trimEnd();
  }

  end(): Promise<void> {
    return this.page();
  }
}

export function createSink(format: OutputFormat, header: readonly string[]): RowSink {
  if (format === "csv") return new CsvSink(header);
  if (format === "table") return new TableSink(header);
  return new JsonSink();
}
