// The partition value of a typed row value, exactly as Fluss's writers compute it
// (PartitionUtils.convertValueOfType), so a TypeScript writer routes a row to the same partition a
// Java writer would. Text per type (chosen by Fluss so that every value is a valid name):
//   CHAR / STRING        the string itself
//   BOOLEAN              "true" / "false"
//   BINARY / BYTES       lower-case hex, two digits per byte
//   TINYINT .. BIGINT    decimal ("-32760")
//   DATE                 "yyyy-MM-dd" (year zero-padded to 4)
//   TIME                 "HH-mm-ss_SSS" (milliseconds of the day)
//   FLOAT / DOUBLE       Java Float/Double.toString with '.' → '_' ("5_73", "1_0E10"); "NaN",
//                        "Inf", "-Inf"
//   TIMESTAMP(_LTZ)      UTC "yyyy-MM-dd-HH-mm-ss_" + nano-of-second without trailing zeros
//                        ("2025-05-31-03-42-35_428099988", "…-35_" when the fraction is zero)
// Row values are first read as the writers read them (values/ converters: BIGINT bigint or number,
// DATE "YYYY-MM-DD", TIMESTAMP Date / ISO text / epoch ms / bigint in the column unit, floored to
// the column precision). A null is refused: a row must name its partition.
// Invariants: pure; never depends on the process time zone.

import { Errors, FlussError } from "../errors.ts";
import { type DataType, type TypeRoot, typeToSql } from "../types.ts";
import { ValueMismatch } from "../values/mismatch.ts";
import { toBoolean, toFloat64, toInt64, toIntInRange } from "../values/numeric.ts";
import {
  civilFromDays,
  MS_PER_DAY,
  toEpochDays,
  toMillisOfDay,
  toTimestampParts,
} from "../values/temporal.ts";
import { toByteArray, toCharString } from "../values/text.ts";
import { javaDoubleToString, javaFloatToString } from "./java-number-text.ts";

/** Column types a partition key may have (Fluss's PARTITION_KEY_SUPPORTED_TYPES). */
export const PARTITION_KEY_TYPES: readonly TypeRoot[] = [
  "CHAR",
  "STRING",
  "BOOLEAN",
  "BINARY",
  "BYTES",
  "TINYINT",
  "SMALLINT",
  "INTEGER",
  "DATE",
  "TIME_WITHOUT_TIME_ZONE",
  "BIGINT",
  "FLOAT",
  "DOUBLE",
  "TIMESTAMP_WITHOUT_TIME_ZONE",
  "TIMESTAMP_WITH_LOCAL_TIME_ZONE",
];

export function isPartitionKeyType(root: TypeRoot): boolean {
  return PARTITION_KEY_TYPES.includes(root);
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(n < 0 ? width - 1 : width, "0");
  return n < 0 ? `-${s}` : s;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function hexOfBytes(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b];
  return s;
}

function floatingText(v: number, text: (x: number) => string): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return text(v).replace(".", "_");
}

/** "yyyy-MM-dd" of days since epoch (Java's %04d: a negative year keeps its sign inside the width). */
export function datePartitionText(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** "HH-mm-ss_SSS" of milliseconds of the day. */
export function timePartitionText(millisOfDay: number): string {
  const ms = ((millisOfDay % 1000) + 1000) % 1000;
  const secs = Math.floor(millisOfDay / 1000);
  const h = Math.floor(secs / 3600);
  const m = Math.floor((((secs % 3600) + 3600) % 3600) / 60);
  const s = ((secs % 60) + 60) % 60;
  return `${pad(h, 2)}-${pad(m, 2)}-${pad(s, 2)}_${pad(ms, 3)}`;
}

/** Year as DateTimeFormatter's "yyyy" prints it: year of era, 4 digits, '+' beyond 9999. */
function yearOfEraText(year: number): string {
  const yoe = year <= 0 ? 1 - year : year;
  return yoe > 9999 ? `+${yoe}` : pad(yoe, 4);
}

/** UTC "yyyy-MM-dd-HH-mm-ss_fffffffff" (trailing fraction zeros dropped) of an instant. */
export function timestampPartitionText(epochMs: number, nanoOfMs: number): string {
  const days = Math.floor(epochMs / MS_PER_DAY);
  const msOfDay = epochMs - days * MS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  const secOfDay = Math.floor(msOfDay / 1000);
  const nanoOfSecond = (msOfDay % 1000) * 1_000_000 + nanoOfMs;
  const fraction = nanoOfSecond === 0 ? "" : String(nanoOfSecond).padStart(9, "0").replace(/0+$/, "");
  return (
    `${yearOfEraText(year)}-${pad(month, 2)}-${pad(day, 2)}-${pad(Math.floor(secOfDay / 3600), 2)}-` +
    `${pad(Math.floor(secOfDay / 60) % 60, 2)}-${pad(secOfDay % 60, 2)}_${fraction}`
  );
}

function convert(type: DataType, v: unknown): string {
  switch (type.root) {
    case "CHAR":
      return toCharString(v, type.length ?? 1);
    case "STRING":
      return toCharString(v, Number.POSITIVE_INFINITY);
    case "BOOLEAN":
      return String(toBoolean(v));
    case "BINARY":
      return hexOfBytes(toByteArray(v, type.length));
    case "BYTES":
      return hexOfBytes(toByteArray(v));
    case "TINYINT":
      return String(toIntInRange(v, -128, 127));
    case "SMALLINT":
      return String(toIntInRange(v, -32768, 32767));
    case "INTEGER":
      return String(toIntInRange(v, -2147483648, 2147483647));
    case "BIGINT":
      return String(toInt64(v));
    case "DATE":
      return datePartitionText(toEpochDays(v));
    case "TIME_WITHOUT_TIME_ZONE":
      return timePartitionText(toMillisOfDay(v, type.precision ?? 0));
    case "FLOAT":
      return floatingText(Math.fround(toFloat64(v)), javaFloatToString);
    case "DOUBLE":
      return floatingText(toFloat64(v), javaDoubleToString);
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
      const ltz = type.root === "TIMESTAMP_WITH_LOCAL_TIME_ZONE";
      const parts = toTimestampParts(v, type.precision ?? 6, ltz);
      return timestampPartitionText(parts.epochMs, parts.nanoOfMs);
    }
    default:
      throw new FlussError(
        Errors.INVALID_TABLE_EXCEPTION,
        `type ${typeToSql(type)} cannot be a partition key (allowed: ${PARTITION_KEY_TYPES.join(", ")})`,
      );
  }
}

/**
 * The partition value (text) of a row value of a partition column. Throws SCHEMA_MISMATCH naming
 * the column when the value does not fit its type or is null.
 */
export function partitionValueOf(column: string, type: DataType, value: unknown): string {
  if (value === null || value === undefined) {
    throw new FlussError(
      Errors.SCHEMA_MISMATCH,
      `partition column '${column}' (${typeToSql(type)}) must not be null: a row must name its partition`,
    );
  }
  try {
    return convert(type, value);
  } catch (err) {
    if (err instanceof ValueMismatch) {
      throw new FlussError(
        Errors.SCHEMA_MISMATCH,
        `partition column '${column}' (${typeToSql(type)}): ${err.message}`,
      );
    }
    throw err;
  }
}
