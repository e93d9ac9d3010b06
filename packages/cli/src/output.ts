// Terminal conventions of the `fluss` command: data on stdout, progress and errors on stderr, one
// line per error with its stable code, and exit codes a script can branch on.

import { isFlussError } from "@fluss-ts/common";

export const EXIT_OK = 0;
/** The server or client reported a failure (unknown table, network, ...). */
export const EXIT_FAILURE = 1;
/** The command line or the input was wrong (bad option, bad JSON line, wrong type). */
export const EXIT_USAGE = 2;
/** `fluss lookup` found no row. */
export const EXIT_NOT_FOUND = 3;

/** A failure of the command's own input: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Bad input on one line of the input: "line N: ...". */
export class BadLineError extends UsageError {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

// Codes that blame the request: invalid table, database, replication factor, acks, projection,
// target columns, config, partition spec, scan request (and the client-side kinds).
const usageCodes = new Set([10001, 10002, 15, 16, 17, 18, 34, 35, 39, 43, 68]);

/** A message on one line (a server's message may carry line breaks). */
function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, " ");
}

export function reportError(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`fluss: ${oneLine(err.message)}\n`);
    return EXIT_USAGE;
  }
  if (isFlussError(err)) {
    process.stderr.write(`fluss: ${oneLine(err.message)} [${err.kind.name}]\n`);
    return usageCodes.has(err.code) ? EXIT_USAGE : EXIT_FAILURE;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`fluss: ${oneLine(message)}\n`);
  if (process.env.FLUSS_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT_FAILURE;
}

/** Write one line to stdout, waiting when the pipe is full so large outputs keep bounded memory. */
export async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(`${line}\n`)) {
    await new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()));
  }
}

export function jsonStringify(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
