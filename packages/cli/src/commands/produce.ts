// `fluss produce <table>`: rows from JSON lines or CSV (stdin or --file) appended through one
// batching, idempotent writer. The first bad line stops the run with its line number; every line
// before it is flushed and acknowledged first, so nothing that was accepted is lost and nothing
// after it is half-written; the command then says how many rows were committed (write-rows.ts).
// A line whose row is too large for the writer (RECORD_TOO_LARGE_EXCEPTION, see the writer's
// requestBytesMax) is bad input like a bad value: an error naming the line, exit code 2.

import { tablePathToString } from "@fluss-ts/common";
import { type Command, Option } from "commander";
import { intArg, tablePathArg, withConnection } from "../context.ts";
import { type InputFormat, inputFormatArg } from "../input.ts";
import { writeRowsOf } from "../write-rows.ts";

interface ProduceOpts {
  file?: string;
  format: InputFormat;
  lingerMs: number;
  quiet?: boolean;
}

export const FORMAT_INPUT_HELP =
  "input: json (one object per line, keys = column names) or csv (a header line of column names; an empty field is null)";

export function registerProduce(program: Command): void {
  program
    .command("produce <table>")
    .description("append rows (JSON lines or CSV, stdin or --file) to a log table")
    .option("-f, --file <path>", "read this file instead of stdin")
    .addOption(new Option("--format <format>", FORMAT_INPUT_HELP).default("json").argParser(inputFormatArg))
    .option(
      "--linger-ms <ms>",
      "while rows keep coming, send a batch after this long even if not full (the end of the input is sent at once; 0: send whenever the input pauses, for the lowest latency at some throughput)",
      intArg("--linger-ms", 0, 60_000),
      100,
    )
    .option("-q, --quiet", "no progress or summary on stderr")
    .action(async (name: string, opts: ProduceOpts, cmd: Command) => {
      const path = tablePathArg(name);
      const progress = new Progress(!opts.quiet && process.stderr.isTTY === true);
      await withConnection(cmd, async (conn) => {
        const table = await conn.getTable(path);
        const writer = table.newAppendWriter({ lingerMs: opts.lingerMs });
        await writeRowsOf({
          file: opts.file,
          format: opts.format,
          columns: table.info.descriptor.schema.columns,
          writer,
          write: (row) => writer.append(row),
          summary: (n) => `produced ${n === 1 ? "1 row" : `${n} rows`} to ${tablePathToString(path)}`,
          quiet: opts.quiet === true,
          progress: (n) => progress.tick(n),
          beforeReport: () => progress.clear(),
        });
      });
    });
}

class Progress {
  private readonly enabled: boolean;
  private readonly startMs = Date.now();
  private lastMs = 0;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  tick(rows: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastMs < 250) return;
    this.lastMs = now;
    const rate = Math.round(rows / Math.max(0.001, (now - this.startMs) / 1000));
    process.stderr.write(`\rproduced ${rows} rows (${rate} rows/s)`);
  }

  clear(): void {
    if (this.enabled && this.lastMs > 0) process.stderr.write("\r\x1b[K");
  }
}
