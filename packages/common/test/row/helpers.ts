// Test helpers for the row formats: hex <-> bytes, SQL type lists, and matching FlussErrors by kind.

import { expect } from "vitest";
import { type ErrorKind, isFlussError } from "../../src/errors.ts";
import { type DataType, parseType } from "../../src/types.ts";

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function types(...sql: string[]): DataType[] {
  return sql.map((s) => parseType(s));
}

/** Run `fn`, expect a FlussError of `kind` whose message matches `message`. */
export function expectFlussError(fn: () => unknown, kind: ErrorKind, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isFlussError(thrown), `expected a FlussError, got ${String(thrown)}`).toBe(true);
  const err = thrown as { kind: ErrorKind; message: string };
  expect(err.kind.name).toBe(kind.name);
  if (message) expect(err.message).toMatch(message);
}
