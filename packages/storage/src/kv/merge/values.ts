// Value helpers for the mergers, over the decoded-row conventions (decodeCompactedRow with
// `{ timestamps: "bigint" }`): TINYINT/SMALLINT/INT/FLOAT/DOUBLE number, BIGINT bigint, DECIMAL
// string with exactly `scale` fraction digits, STRING/CHAR string, BYTES/BINARY Uint8Array, DATE
// "YYYY-MM-DD", TIME "HH:MM:SS[.f]", TIMESTAMP(_LTZ) bigint in the precision's unit, BOOLEAN.
// Orderings follow Fluss (InternalRowUtils.compare): strings by UTF-8 bytes, FLOAT/DOUBLE as
// Java's Float/Double.compare (-0 < +0, NaN above everything), bytes unsigned lexicographic.
// Invariant: callers never pass null here (the aggregators handle nulls first).

import { assert, type DataType } from "@fluss-ts/common";

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareFloat(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
  // equal numerically: order -0 below +0 as Java does
  return sign((Object.is(a, -0) ? -1 : 0) - (Object.is(b, -0) ? -1 : 0));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return sign(Buffer.compare(a, b));
}

function compareDate(a: string, b: string): number {
  const pa = dateParts(a);
  const pb = dateParts(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  return 0;
}

function dateParts(text: string): [number, number, number] {
  const m = /^([+-]?\d+)-(\d{2})-(\d{2})$/.exec(text);
  assert(m !== null, `decoded DATE '${text}' has the YYYY-MM-DD form`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Unscaled value of a decoded DECIMAL string ("-12.50" → -1250n). */
export function decimalUnscaled(text: string): bigint {
  return BigInt(text.replace(".", ""));
}

/** True when |unscaled| has at most `precision` digits. */
export function decimalFits(unscaled: bigint, precision: number): boolean {
  const abs = unscaled < 0n ? -unscaled : unscaled;
  return abs < 10n ** BigInt(precision);
}

/** Three-way comparison of two non-null values of `type`. */
export function compareValues(type: DataType, a: unknown, b: unknown): number {
  switch (type.root) {
    case "FLOAT":
    case "DOUBLE":
      return compareFloat(a as number, b as number);
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
      return sign((a as number) - (b as number));
    case "BIGINT":
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return a === b ? 0 : (a as bigint) < (b as bigint) ? -1 : 1;
    case "DECIMAL": {
      const x = decimalUnscaled(a as string);
      const y = decimalUnscaled(b as string);
      return x === y ? 0 : x < y ? -1 : 1;
    }
    case "STRING":
    case "CHAR":
      return compareBytes(Buffer.from(a as string, "utf8"), Buffer.from(b as string, "utf8"));
    case "BYTES":
    case "BINARY":
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case "DATE":
      return compareDate(a as string, b as string);
    case "TIME_WITHOUT_TIME_ZONE":
      return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
    case "BOOLEAN":
      return sign(Number(a as boolean) - Number(b as boolean));
  }
}
