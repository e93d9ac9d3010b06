// The database descriptor JSON exactly as Fluss writes it (DatabaseDescriptorJsonSerde):
// {"version":1,["comment":...,]"custom_properties":{...}}. Fluss's clients parse GetDatabaseInfo's
// database_json with that serde, which needs `custom_properties`; a client that sends no JSON (or
// `{}`) gets a database with no comment and no properties.
// Invariant: the output always has version 1 and a string-valued custom_properties object.

import { Errors, FlussError } from "@fluss-ts/common";

export interface DatabaseDescriptorJson {
  version: 1;
  comment?: string;
  custom_properties: Record<string, string>;
}

function invalid(message: string): FlussError {
  return new FlussError(Errors.INVALID_DATABASE_EXCEPTION, `invalid database descriptor JSON: ${message}`);
}

/** Parses a database descriptor JSON (empty = none) into Fluss's form; INVALID_DATABASE_EXCEPTION if bad. */
export function flussDatabaseJson(text: string): DatabaseDescriptorJson {
  let parsed: unknown = {};
  if (text.trim() !== "") {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw invalid((err as Error).message);
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid("not an object");
  const j = parsed as Record<string, unknown>;
  const props = j.custom_properties ?? {};
  if (typeof props !== "object" || props === null || Array.isArray(props)) {
    throw invalid("custom_properties is not an object");
  }
  const customProperties: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) customProperties[k] = String(v);
  // Fluss's field order: version, comment (when there is one), custom_properties.
  return {
    version: 1,
    ...(j.comment !== undefined && j.comment !== null ? { comment: String(j.comment) } : {}),
    custom_properties: customProperties,
  };
}
