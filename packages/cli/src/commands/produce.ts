// `fluss produce <table>`: JSON lines (stdin or --file) appended through one batching, idempotent
// writer. The first bad line stops the run with its line number; every line before it is flushed
// and acknowledged first, so nothing that was accepted is lost and nothing after it is half-written.
// A line whose row is too large for the writer (RECORD_TOO_LARGE_EXCEPTION, see the writer's
// requestBytesMax) is bad input like a bad value: an error naming the line, exit code 2.

import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Errors, isFlussError, tablePathToString } from "@fluss-ts/common";
import type { Command } from "commander";
import { intArg, tablePathArg, withConnection } from "../context.ts";
import { UsageError } from "../output.ts";

interface ProduceOpts {
  file?: string;
  lingerMs?: number;
  quiet?: boolean;
}

export function registerProduce(program: Command): void {
  program
    .command("produce <table>")
    .description("append JSON lines (one object per line, keys = column names) to a log table")
    .option("-f, --file <path>", "read this file instead of stdin")
    .option(
      "--linger-ms <ms>",
      "send a batch after this long even if not full",
      intArg("--linger-ms", 0, 60_000),
    )
    .option("-q, --quiet", "no progress or summary on stderr")
    .action(async (name: string, opts: ProduceOpts, cmd: Command) => {
      const path = tablePathArg(name);
      const input = opts.file ? createReadStream(opts.file) : process.stdin;
      const progress = new Progress(!opts.quiet && process.stderr.isTTY === true);
      await withConnection(cmd, async (conn) => {
        const table = await conn.getTable(path);
        const writer = table.newAppendWriter(opts.lingerMs !== undefined ? { lingerMs: opts.lingerMs } : {});
        let lineNo = 0;
        let rows = 0;
        try {
          for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
            lineNo++;
            if (line.trim().length === 0) continue;
            let row: unknown;
            try {
              row = JSON.parse(line);
            } catch (err) {
              throw new UsageError(`line ${lineNo}: invalid JSON: ${(err as Error).message}`);
            }
            if (typeof row !== "object" || row === null || Array.isArray(row)) {
              throw new UsageError(
                `line ${lineNo}: expected a JSON object, got ${JSON.stringify(row).slice(0, 40)}`,
              );
            }
            try {
              await writer.append(row as Record<string, unknown>);
            } catch (err) {
              if (isFlussError(err) && (err.code >= 10000 || err.is(Errors.RECORD_TOO_LARGE_EXCEPTION)))
                throw new UsageError(`line ${lineNo}: ${err.message}`);
              throw err;
            }
            rows++;
            progress.tick(rows);
          }
        } finally {
          // Lines accepted before a failure are still delivered and acknowledged.
          await writer
            .close()
            .finally(() => progress.done(rows, tablePathToString(path), opts.quiet === true));
        }
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

  done(rows: number, table: string, quiet: boolean): void {
    if (this.enabled) process.stderr.write("\r\x1b[K");
    if (!quiet) process.stderr.write(`produced ${rows} rows to ${table}\n`);
  }
}
