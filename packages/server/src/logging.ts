// Structured logs: pino, JSON lines to stderr by default (stdout stays free for command output).
// Domain code sees only the small Logger interface, which pino satisfies and tests can fake.
// Levels: error for server faults, warn for client mistakes (a request that cannot be served as
// sent), debug for routine refusals (not found, not leader), fatal for a failed assertion.

import pino from "pino";

export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A broken invariant, just before the process exits. */
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export function createLogger(level = "info", destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino({ level, base: { pid: process.pid } }, destination as pino.DestinationStream);
}

export const silentLogger: Logger = createLogger("silent");
