// Auto-partition time formats: the default pattern per time unit (yyyyMMddHH, yyyyMMdd, yyyyMM,
// yyyyQ, yyyy) and `table.auto-partition.time-format`, the subset of java.time DateTimeFormatter
// patterns Fluss accepts: the fields year (yyyy/uuuu), quarter (Q/q), month (MM/LL), day (dd) and
// hour (HH), fixed width, largest to smallest, exactly those the time unit needs; anything else
// is literal text ('quoted' or a non-letter character), no optional sections. Because fields are
// fixed width and ordered, names of one format sort in time order as plain strings.
// Invariants: formatting and parsing are pure; a format that passes validateTimeFormat always
// yields values that are valid partition names (checked on a representative time).

import { Errors, FlussError } from "../errors.ts";
import { invalidPartitionValueReason } from "./naming.ts";
import type { LocalDateTime } from "./zoned-time.ts";

export const AUTO_PARTITION_TIME_UNITS = ["YEAR", "QUARTER", "MONTH", "DAY", "HOUR"] as const;
export type AutoPartitionTimeUnit = (typeof AUTO_PARTITION_TIME_UNITS)[number];

type FieldName = "year" | "quarter" | "month" | "day" | "hour";

type Token =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "field"; readonly field: FieldName; readonly letter: string };

const FIELD_OF_LETTER: Readonly<Record<string, FieldName>> = {
  y: "year",
  u: "year",
  Q: "quarter",
  q: "quarter",
  M: "month",
  L: "month",
  d: "day",
  H: "hour",
};

const WIDTH: Readonly<Record<FieldName, number>> = { year: 4, quarter: 1, month: 2, day: 2, hour: 2 };

const FIELDS_OF_UNIT: Readonly<Record<AutoPartitionTimeUnit, readonly FieldName[]>> = {
  YEAR: ["year"],
  QUARTER: ["year", "quarter"],
  MONTH: ["year", "month"],
  DAY: ["year", "month", "day"],
  HOUR: ["year", "month", "day", "hour"],
};

const DEFAULT_FORMAT: Readonly<Record<AutoPartitionTimeUnit, string>> = {
  YEAR: "yyyy",
  QUARTER: "yyyyQ",
  MONTH: "yyyyMM",
  DAY: "yyyyMMdd",
  HOUR: "yyyyMMddHH",
};

/** The pattern a unit uses when no time format is configured. */
export function defaultTimeFormat(unit: AutoPartitionTimeUnit): string {
  return DEFAULT_FORMAT[unit];
}

function badFormat(message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, message);
}

function isAsciiLetter(c: string): boolean {
  return (c >= "A" && c <= "Z") || (c >= "a" && c <= "z");
}

/** Split a pattern into fields and literals; refuses letters and sections Fluss refuses. */
function tokenize(format: string): Token[] {
  const out: Token[] = [];
  const literal = (text: string): void => {
    const last = out[out.length - 1];
    if (last?.kind === "literal") out[out.length - 1] = { kind: "literal", text: last.text + text };
    else out.push({ kind: "literal", text });
  };
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === "'") {
      if (format[i + 1] === "'") {
        literal("'");
        i += 2;
        continue;
      }
      // Inside quotes, '' is one quote.
      let j = i + 1;
      let text = "";
      for (;;) {
        const close = format.indexOf("'", j);
        if (close < 0) throw badFormat(`time format '${format}' has an unterminated quoted literal`);
        text += format.slice(j, close);
        if (format[close + 1] === "'") {
          text += "'";
          j = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      if (text.length > 0) literal(text);
      continue;
    }
    if (c === "[" || c === "]") {
      throw badFormat(`time format '${format}' must not contain optional sections ('[' or ']')`);
    }
    if (c === "{" || c === "}" || c === "#") {
      throw badFormat(`time format '${format}' uses the reserved character '${c}'`);
    }
    if (!isAsciiLetter(c)) {
      literal(c);
      i++;
      continue;
    }
    let end = i + 1;
    while (end < format.length && format[end] === c) end++;
    const field = FIELD_OF_LETTER[c];
    if (field === undefined)
      throw badFormat(`time format '${format}' contains unsupported time field '${c}'`);
    if (end - i !== WIDTH[field]) {
      throw badFormat(
        `time field '${field}' in format '${format}' must have fixed width ${WIDTH[field]}, but found ${end - i}`,
      );
    }
    out.push({ kind: "field", field, letter: c });
    i = end;
  }
  return out;
}

function fieldsOf(tokens: readonly Token[]): FieldName[] {
  return tokens.flatMap((t) => (t.kind === "field" ? [t.field] : []));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function yearText(letter: string, year: number): string {
  // 'y' is year of era (no era printed), 'u' the proleptic year; both sign only beyond 4 digits.
  const v = letter === "y" && year <= 0 ? 1 - year : year;
  if (v < 0) return `-${pad(-v, 4)}`;
  return v > 9999 ? `+${v}` : pad(v, 4);
}

function formatTokens(tokens: readonly Token[], t: LocalDateTime): string {
  let s = "";
  for (const tok of tokens) {
    if (tok.kind === "literal") {
      s += tok.text;
      continue;
    }
    switch (tok.field) {
      case "year":
        s += yearText(tok.letter, t.year);
        break;
      case "quarter":
        s += String(Math.floor((t.month - 1) / 3) + 1);
        break;
      case "month":
        s += pad(t.month, 2);
        break;
      case "day":
        s += pad(t.day, 2);
        break;
      case "hour":
        s += pad(t.hour, 2);
        break;
    }
  }
  return s;
}

/** A compiled time format: prints local fields, recognises its own output. */
export interface TimeFormat {
  readonly pattern: string;
  format(t: LocalDateTime): string;
  /** Whether `text` parses under the pattern (as Java's SMART resolver would accept it). */
  matches(text: string): boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compile(pattern: string, tokens: readonly Token[]): TimeFormat {
  const fields: Token[] = [];
  let source = "^";
  for (const tok of tokens) {
    if (tok.kind === "literal") source += escapeRegExp(tok.text);
    else {
      source += `(\\d{${WIDTH[tok.field]}})`;
      fields.push(tok);
    }
  }
  const re = new RegExp(`${source}$`);
  return {
    pattern,
    format: (t) => formatTokens(tokens, t),
    matches(text: string): boolean {
      const m = re.exec(text);
      if (!m) return false;
      return fields.every((tok, i) => {
        if (tok.kind !== "field") return true;
        const v = Number(m[i + 1]);
        switch (tok.field) {
          case "year":
            return tok.letter === "u" || v >= 1; // year of era starts at 1
          case "quarter":
            return v >= 1 && v <= 4;
          case "month":
            return v >= 1 && v <= 12;
          case "day":
            return v >= 1 && v <= 31; // SMART clamps 29..31 to the month's end
          case "hour":
            return v <= 24; // SMART reads 24 as the next midnight
        }
        return false;
      });
    },
  };
}

const compiled = new Map<string, TimeFormat>();

/** The compiled format of a unit (custom pattern or the unit's default). Validates the pattern. */
export function timeFormatOf(unit: AutoPartitionTimeUnit, pattern: string | null): TimeFormat {
  const p = pattern ?? DEFAULT_FORMAT[unit];
  const key = `${unit}|${p}`;
  let f = compiled.get(key);
  if (!f) {
    const tokens = tokenize(p);
    checkFields(p, unit, tokens);
    f = compile(p, tokens);
    if (compiled.size > 256) compiled.clear();
    compiled.set(key, f);
  }
  return f;
}

function checkFields(pattern: string, unit: AutoPartitionTimeUnit, tokens: readonly Token[]): void {
  const actual = fieldsOf(tokens);
  const expected = FIELDS_OF_UNIT[unit];
  if (actual.length !== expected.length || actual.some((f, i) => f !== expected[i])) {
    throw badFormat(
      `time format '${pattern}' must contain fields [${expected.join(", ")}] in this order for time ` +
        `unit '${unit}', but found [${actual.join(", ")}]`,
    );
  }
}

/**
 * Check `table.auto-partition.time-format` for a unit: supported fields in order with fixed widths,
 * and the value it prints (for 2024-11-11 11:00) must be a valid partition name.
 */
export function validateTimeFormat(unit: AutoPartitionTimeUnit, pattern: string): void {
  const f = timeFormatOf(unit, pattern);
  const sample = f.format({ year: 2024, month: 11, day: 11, hour: 11, minute: 0, second: 0, millisecond: 0 });
  const reason = invalidPartitionValueReason(sample, true);
  if (reason !== null) {
    throw badFormat(`time format '${pattern}' generates invalid partition value '${sample}': ${reason}`);
  }
}
