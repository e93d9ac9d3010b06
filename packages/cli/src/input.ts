// Parsing of the JSON-lines input the write commands read.

import { UsageError } from "./output.ts";

/** Parse one JSON-object line or throw a UsageError naming the line. */
export function parseJsonObjectLine(line: string, lineNo: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new UsageError(`line ${lineNo}: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`line ${lineNo}: expected a JSON object, got ${JSON.stringify(value).slice(0, 40)}`);
  }
  return value as Record<string, unknown>;
}
