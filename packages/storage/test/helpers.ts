// Shared test helpers: temp directories (removed after each test file), batch builders with
// deterministic bodies, and a manual clock.

import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildBatch, type Clock, NO_WRITER_ID } from "@fluss-ts/common";

export class TestClock implements Clock {
  ms: number;
  constructor(startMs = 1_700_000_000_000) {
    this.ms = startMs;
  }
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

const dirs: string[] = [];

export async function tempDir(prefix = "fluss-log-"): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
}

export interface BatchSpec {
  /** Body bytes (filled with a pattern derived from `seed`). */
  bodyBytes?: number;
  records?: number;
  writerId?: bigint;
  sequence?: number;
  seed?: number;
}

export function body(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function batch(spec: BatchSpec = {}): Uint8Array {
  const records = spec.records ?? 1;
  return buildBatch({
    schemaId: 1,
    appendOnly: true,
    writerId: spec.writerId ?? NO_WRITER_ID,
    batchSequence: spec.sequence ?? -1,
    recordCount: records,
    lastOffsetDelta: Math.max(records - 1, 0),
    body: [body(spec.bodyBytes ?? 100, spec.seed ?? 0)],
  });
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** The batch bytes with base offset and commit timestamp zeroed (what a client sent, unstamped). */
export function unstamped(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy.fill(0, 0, 8);
  copy.fill(0, 13, 21);
  return copy;
}

/** Wait (bounded) until `condition` holds; for effects of background work such as flushes. */
export async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
