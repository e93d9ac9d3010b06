// Structured logs: pino, JSON lines to stderr by default (stdout stays free for command output).
// Domain code sees only the small Logger interface, which pino satisfies and tests can fake.

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
  child(bindings: Record<string, unknown>): Logger;
}

export function createLogger(level = "info", destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino({ level, base: { pid: process.pid } }, destination as pino.DestinationStream);
}

export const silentLogger: Logger = createLogger("silent");
