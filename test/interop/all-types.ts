// The all-types fixture of the interop suite (fixtures/all-types.json): one schema with every
// scalar type fluss-ts and the Fluss clients share, and rows (edge values, nulls) in a canonical
// JSON form that each client converts to its own values. This module converts canonical rows to
// TypeScript SDK inputs and SDK outputs back to canonical rows, so a test compares plain JSON.
// Invariant: converting a canonical row to the SDK and reading it back gives the same canonical row
// (sub-millisecond digits of TIMESTAMP(6) columns are compared separately, through Arrow, because
// the SDK's row reader returns Date).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RecordBatch } from "apache-arrow";

export type CanonicalValue = boolean | number | string | null;
export type CanonicalRow = Record<string, CanonicalValue>;

export interface Fixture {
  readonly schema: string;
  readonly rows: readonly CanonicalRow[];
}

export const FIXTURE_PATH = fileURLToPath(new URL("./fixtures/all-types.json", import.meta.url));

/** Columns of the fixture holding microseconds (TIMESTAMP(6), TIMESTAMP_LTZ(6)). */
export const MICROS_COLUMNS = ["ts6", "ltz6"] as const;

export function loadFixture(): Fixture {
  const doc = JSON.parse(readFileSync(FIXTURE_PATH, "utf8")) as { schema: string; rows: CanonicalRow[] };
  return { schema: doc.schema, rows: doc.rows };
}

/** Microseconds since the epoch of an ISO timestamp with up to 6 fraction digits (UTC). */
export function isoToMicros(iso: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z?$/.exec(iso);
  if (!m) throw new Error(`bad timestamp ${iso}`);
  const seconds = Date.parse(`${m[1]}Z`);
  const fraction = (m[2] ?? "").padEnd(6, "0");
  return BigInt(seconds) * 1000n + BigInt(fraction);
}

function base64ToBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "base64"));
}

/** A canonical row as the TypeScript SDK takes it. */
export function toSdkRow(row: CanonicalRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null) out[k] = null;
    else if (k === "bi") out[k] = BigInt(v as string);
    else if (k === "by" || k === "bin") out[k] = base64ToBytes(v as string);
    else if (k === "ts6" || k === "ltz6") out[k] = isoToMicros(v as string);
    else out[k] = v;
  }
  return out;
}

/** Truncates the micro digits of TIMESTAMP(6) columns to milliseconds (what SDK rows carry). */
export function atMillis(row: CanonicalRow): CanonicalRow {
  const out = { ...row };
  for (const k of MICROS_COLUMNS) {
    const v = out[k];
    if (typeof v === "string") {
      const micros = isoToMicros(v);
      const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
      const iso = new Date(Number(ms)).toISOString();
      out[k] = k === "ltz6" ? iso : iso.slice(0, -1);
    }
  }
  return out;
}

/** An SDK output row in canonical form (TIMESTAMP(6) columns at millisecond precision). */
export function fromSdkRow(row: Record<string, unknown>): CanonicalRow {
  const out: CanonicalRow = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) out[k] = null;
    else if (typeof v === "bigint") out[k] = v.toString();
    else if (v instanceof Uint8Array) out[k] = Buffer.from(v).toString("base64");
    else if (v instanceof Date) out[k] = k.startsWith("ltz") ? v.toISOString() : v.toISOString().slice(0, -1);
    else out[k] = v as CanonicalValue;
  }
  return out;
}

/** Raw epoch microseconds of the TIMESTAMP(6) columns of an Arrow batch, by `id`. */
export function microsById(batch: RecordBatch): Map<number, Record<string, bigint | null>> {
  const out = new Map<number, Record<string, bigint | null>>();
  const ids = batch.getChild("id")!;
  for (let i = 0; i < batch.numRows; i++) {
    const entry: Record<string, bigint | null> = {};
    for (const k of MICROS_COLUMNS) {
      const col = batch.getChild(k)!;
      const data = col.data[0]!;
      entry[k] = col.isValid(i) ? (data.values as BigInt64Array)[data.offset + i]! : null;
    }
    out.set(Number(ids.get(i)), entry);
  }
  return out;
}

/** The expected epoch microseconds of a canonical row's TIMESTAMP(6) columns. */
export function expectedMicros(row: CanonicalRow): Record<string, bigint | null> {
  const out: Record<string, bigint | null> = {};
  for (const k of MICROS_COLUMNS) {
    const v = row[k];
    out[k] = typeof v === "string" ? isoToMicros(v) : null;
  }
  return out;
}

/**
 * The fixture rows in the internal forms Fluss's row APIs use (for clients without date/time
 * libraries at hand): DATE days since the epoch, TIME milliseconds of the day, TIMESTAMP and
 * TIMESTAMP_LTZ [epoch milliseconds, nanoseconds of the millisecond]; the rest as in the fixture.
 */
export function internalRows(): Record<string, unknown>[] {
  return loadFixture().rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (typeof v !== "string" || !["dt", "t", "ts", "ts6", "ltz", "ltz6"].includes(k)) {
        out[k] = v;
      } else if (k === "dt") {
        out[k] = Date.parse(`${v}T00:00:00Z`) / 86_400_000;
      } else if (k === "t") {
        out[k] = Number(isoToMicros(`1970-01-01T${v}Z`) / 1000n);
      } else {
        const micros = isoToMicros(v);
        const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
        out[k] = [Number(ms), Number(micros - ms * 1000n) * 1000];
      }
    }
    return out;
  });
}
