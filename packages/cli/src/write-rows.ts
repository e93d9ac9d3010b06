// The loop shared by `produce`, `upsert` and `delete`: read rows (JSON lines or CSV), hand each to
// the writer, and account for them. The first bad line stops the run: every row before it is
// flushed and acknowledged, nothing from it on is written, and the command prints the error once
// ("line N: ...") and then how many rows the cluster committed. A failure of the cluster is
// reported the same way, with the count of rows it acknowledged before failing (the writer's own
// count, exact per batch).

import type { Column } from "@fluss-ts/common";
import { Errors, isFlussError } from "@fluss-ts/common";
import { type InputFormat, inputStream, readRows } from "./input.ts";
import { BadLineError, reportError } from "./output.ts";

export interface RowWriter {
  close(): Promise<void>;
  readonly acknowledgedCount: number;
}

export interface WriteRun {
  readonly file: string | undefined;
  readonly format: InputFormat;
  readonly columns: readonly Column[];
  readonly writer: RowWriter;
  write(row: Record<string, unknown>): Promise<unknown>;
  /** What was done, e.g. (n) => `produced ${n} rows to t`. */
  summary(rows: number): string;
  quiet: boolean;
  progress?: (rows: number) => void;
  /** Called before the summary or error is printed (e.g. to clear a progress line). */
  beforeReport?: () => void;
}

/** A failure caused by the row itself: the line is bad input (exit 2), the rest stays unwritten. */
function isRowError(err: unknown): boolean {
  return (
    isFlussError(err) &&
    (err.code >= 10000 || err.is(Errors.INVALID_TARGET_COLUMN) || err.is(Errors.RECORD_TOO_LARGE_EXCEPTION))
  );
}

function rows(n: number): string {
  return n === 1 ? "1 row" : `${n} rows`;
}

/** Run the loop; on failure print the error and what was committed, and set the exit code. */
export async function writeRowsOf(run: WriteRun): Promise<void> {
  let read = 0;
  let failure: unknown;
  try {
    for await (const { line, row } of readRows(inputStream(run.file), run.format, run.columns)) {
      try {
        await run.write(row);
      } catch (err) {
        if (isRowError(err)) throw new BadLineError(line, (err as Error).message);
        throw err;
      }
      read++;
      run.progress?.(read);
    }
  } catch (err) {
    failure = err;
  }
  // Rows accepted before a failure are still delivered and acknowledged.
  try {
    await run.writer.close();
  } catch (err) {
    failure ??= err;
  }
  const committed = run.writer.acknowledgedCount;
  run.beforeReport?.();
  if (failure === undefined) {
    if (!run.quiet) process.stderr.write(`${run.summary(committed)}\n`);
    return;
  }
  process.exitCode = reportError(failure);
  const lineNote =
    failure instanceof BadLineError ? `; nothing from line ${failure.line} on was written` : "";
  process.stderr.write(
    committed === read
      ? `${rows(committed)} committed (every row before the failure)${lineNote}\n`
      : `${rows(committed)} of ${read} committed before the failure${lineNote}\n`,
  );
}
