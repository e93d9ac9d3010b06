// Shared plumbing of the client-side subcommands: connect with the global --bootstrap and --timeout
// options, run, always close. Also the small parsers for table paths and repeated `key=value` options.

import { connect, type FlussConnection } from "@fluss-ts/client";
import { parseTablePath, type TablePath } from "@fluss-ts/common";
import type { Command } from "commander";
import { UsageError } from "./output.ts";

export function bootstrapOf(cmd: Command): string {
  const root = cmd.optsWithGlobals() as { bootstrap?: string };
  return root.bootstrap ?? "localhost:9123";
}

/** The global --timeout (ms): requests, and connecting (at most 10 s of it). */
export function timeoutOf(cmd: Command): number {
  const root = cmd.optsWithGlobals() as { timeout?: number };
  return root.timeout ?? 30_000;
}

export async function withConnection<T>(cmd: Command, fn: (conn: FlussConnection) => Promise<T>): Promise<T> {
  const timeoutMs = timeoutOf(cmd);
  const conn = await connect({
    bootstrap: bootstrapOf(cmd),
    requestTimeoutMs: timeoutMs,
    connectTimeoutMs: Math.min(timeoutMs, 10_000),
  });
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

export function tablePathArg(text: string): TablePath {
  const parts = text.split(".");
  if (parts.length > 2 || parts.some((p) => p.length === 0)) {
    throw new UsageError(
      `table must be written 'database.table' (or 'table' for database 'fluss'), got '${text}'`,
    );
  }
  return parseTablePath(text);
}

/** Commander collector for repeatable `--option key=value`. */
export function collectKeyValue(value: string, previous: Record<string, string>): Record<string, string> {
  const i = value.indexOf("=");
  if (i <= 0) throw new UsageError(`expected key=value, got '${value}'`);
  return { ...previous, [value.slice(0, i).trim()]: value.slice(i + 1).trim() };
}

export function listArg(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function intArg(name: string, min: number, max: number): (text: string) => number {
  return (text: string) => {
    if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${name} must be an integer, got '${text}'`);
    const n = Number(text);
    if (n < min || n > max) throw new UsageError(`${name} must be in [${min}, ${max}], got ${n}`);
    return n;
  };
}

/** One of two spellings of an option (the second kept for older command lines). */
export function eitherOf<T>(a: T | undefined, b: T | undefined, names: string): T | undefined {
  if (a !== undefined && b !== undefined) throw new UsageError(`give only one of ${names}`);
  return a ?? b;
}
