// Table model: columns, schema, table path, table descriptor and table info, with the JSON forms
// Fluss stores in `table_json` / `schema_json` and the SQL-ish text the CLI takes
// ("id BIGINT NOT NULL, name STRING, PRIMARY KEY (id)").
// Invariants: column names are unique (case-sensitive, as Fluss); primary-key columns exist and are
// NOT NULL; bucket keys exist; a schema has at least one column.

import { Errors, FlussError, invalidArgument } from "./errors.ts";
import { type DataType, parseType, typeFromJson, typeToJson, typeToSql, withNullable } from "./types.ts";

export const COLUMNS_MAX = 4096;
export const NAME_LENGTH_MAX = 200;

export interface Column {
  readonly name: string;
  readonly type: DataType;
  readonly comment?: string;
  readonly id: number;
}

export interface Schema {
  readonly columns: readonly Column[];
  /** Primary key column names, empty for a log table. */
  readonly primaryKey: readonly string[];
  readonly highestFieldId: number;
}

export interface TablePath {
  readonly database: string;
  readonly table: string;
}

export interface TableDescriptor {
  readonly schema: Schema;
  readonly comment?: string;
  readonly partitionKeys: readonly string[];
  readonly bucketKeys: readonly string[];
  readonly bucketCount?: number;
  /** Table options (Fluss `table.*` and friends), validated at create. */
  readonly properties: Readonly<Record<string, string>>;
  /** Free-form user properties, stored untouched. */
  readonly customProperties: Readonly<Record<string, string>>;
}

export interface TableInfo {
  readonly path: TablePath;
  readonly tableId: bigint;
  readonly schemaId: number;
  readonly descriptor: TableDescriptor;
  /** Resolved bucket count (the descriptor's or the server default). */
  readonly bucketCount: number;
  readonly createdTime: number;
  readonly modifiedTime: number;
}

const NAME_RE = /^[A-Za-z0-9_-]+$/;

/** Database and table names: Fluss's rules (letters, digits, `_`, `-`; at most 200 chars). */
export function validateName(kind: "database" | "table", name: string): void {
  const code = kind === "database" ? Errors.INVALID_DATABASE_EXCEPTION : Errors.INVALID_TABLE_EXCEPTION;
  if (name.length === 0) throw new FlussError(code, `${kind} name must not be empty`);
  if (name.length > NAME_LENGTH_MAX) {
    throw new FlussError(code, `${kind} name '${name}' is longer than ${NAME_LENGTH_MAX} characters`);
  }
  if (!NAME_RE.test(name)) {
    throw new FlussError(code, `${kind} name '${name}' may contain only letters, digits, '_' and '-'`);
  }
  if (name.startsWith("__")) throw new FlussError(code, `${kind} name '${name}' must not start with '__'`);
}

export function tablePathToString(p: TablePath): string {
  return `${p.database}.${p.table}`;
}

/** Parse `db.table` (or `table` with a default database). */
export function parseTablePath(text: string, defaultDatabase = "fluss"): TablePath {
  const parts = text.split(".");
  if (parts.length === 1) return { database: defaultDatabase, table: parts[0]! };
  if (parts.length === 2) return { database: parts[0]!, table: parts[1]! };
  throw invalidArgument(`table path '${text}' must be 'database.table' or 'table'`);
}

export interface ColumnSpec {
  name: string;
  type: DataType | string;
  comment?: string;
}

/** Build a schema, checking names and keys. Primary-key columns become NOT NULL as in SQL. */
export function makeSchema(columns: readonly ColumnSpec[], primaryKey: readonly string[] = []): Schema {
  if (columns.length === 0)
    throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, "a schema needs at least one column");
  if (columns.length > COLUMNS_MAX) {
    throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, `a schema has at most ${COLUMNS_MAX} columns`);
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (c.name.length === 0)
      throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, "column names must not be empty");
    if (seen.has(c.name))
      throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, `duplicate column '${c.name}'`);
    seen.add(c.name);
  }
  const pkSeen = new Set<string>();
  for (const k of primaryKey) {
    if (!seen.has(k))
      throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, `primary key column '${k}' does not exist`);
    if (pkSeen.has(k))
      throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, `primary key column '${k}' repeated`);
    pkSeen.add(k);
  }
  const out: Column[] = columns.map((c, i) => {
    const t = typeof c.type === "string" ? parseType(c.type) : c.type;
    return {
      name: c.name,
      type: pkSeen.has(c.name) ? withNullable(t, false) : t,
      ...(c.comment !== undefined ? { comment: c.comment } : {}),
      id: i,
    };
  });
  return { columns: out, primaryKey: [...primaryKey], highestFieldId: out.length - 1 };
}

/** Split on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function unquote(name: string): string {
  const m = /^`(.+)`$/.exec(name) ?? /^"(.+)"$/.exec(name);
  return m ? m[1]! : name;
}

export interface ParsedSchemaText {
  schema: Schema;
  primaryKey: string[];
}

/**
 * Parse the CLI / SQL column list: `id BIGINT NOT NULL, name STRING COMMENT 'x', PRIMARY KEY (id)`.
 * `PRIMARY KEY (a, b) NOT ENFORCED` is accepted as Flink writes it.
 */
export function parseSchema(text: string, extraPrimaryKey: readonly string[] = []): Schema {
  const specs: ColumnSpec[] = [];
  let primaryKey: string[] = [...extraPrimaryKey];
  let clauseSeen = false;
  for (const part of splitTopLevel(text)) {
    const pk = /^PRIMARY\s+KEY\s*\(([^)]*)\)(\s+NOT\s+ENFORCED)?$/i.exec(part);
    if (pk) {
      if (clauseSeen || extraPrimaryKey.length > 0) {
        throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, "the primary key is given twice");
      }
      clauseSeen = true;
      primaryKey = pk[1]!
        .split(",")
        .map((s) => unquote(s.trim()))
        .filter((s) => s.length > 0);
      continue;
    }
    const m = /^(`[^`]+`|"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)\s+(.+?)(?:\s+COMMENT\s+'((?:[^']|'')*)')?$/i.exec(
      part,
    );
    if (!m) throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, `cannot parse column definition '${part}'`);
    const comment = m[3]?.replace(/''/g, "'");
    specs.push({
      name: unquote(m[1]!),
      type: parseType(m[2]!),
      ...(comment !== undefined ? { comment } : {}),
    });
  }
  return makeSchema(specs, primaryKey);
}

export function schemaToSql(schema: Schema): string {
  const cols = schema.columns.map((c) => `${c.name} ${typeToSql(c.type)}`);
  if (schema.primaryKey.length > 0) cols.push(`PRIMARY KEY (${schema.primaryKey.join(", ")})`);
  return cols.join(", ");
}

export function columnIndex(schema: Schema, name: string): number {
  const i = schema.columns.findIndex((c) => c.name === name);
  if (i < 0) throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, `column '${name}' does not exist`);
  return i;
}

// ---- JSON forms (Fluss SchemaJsonSerde / TableDescriptorJsonSerde shapes) -----------------------

interface ColumnJson {
  name: string;
  data_type: unknown;
  comment?: string;
  id: number;
}

interface SchemaJson {
  version: number;
  columns: ColumnJson[];
  primary_key?: string[];
  highest_field_id?: number;
}

export function schemaToJson(schema: Schema): SchemaJson {
  const json: SchemaJson = {
    version: 1,
    columns: schema.columns.map((c) => ({
      name: c.name,
      data_type: typeToJson(c.type),
      ...(c.comment !== undefined ? { comment: c.comment } : {}),
      id: c.id,
    })),
    highest_field_id: schema.highestFieldId,
  };
  if (schema.primaryKey.length > 0) json.primary_key = [...schema.primaryKey];
  return json;
}

function asStringArray(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
    throw invalidArgument(`${what} must be strings`);
  return v as string[];
}

function asStringRecord(v: unknown, what: string): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw invalidArgument(`${what} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = String(x);
  return out;
}

export function schemaFromJson(json: unknown): Schema {
  if (typeof json !== "object" || json === null) throw invalidArgument("schema JSON must be an object");
  const j = json as Partial<SchemaJson>;
  if (!Array.isArray(j.columns)) throw invalidArgument("schema JSON needs 'columns'");
  const columns: Column[] = j.columns.map((c, i) => ({
    name: String(c.name),
    type: typeFromJson(c.data_type),
    ...(c.comment !== undefined ? { comment: String(c.comment) } : {}),
    id: typeof c.id === "number" ? c.id : i,
  }));
  const primaryKey = asStringArray(j.primary_key, "primary_key");
  const highestFieldId = typeof j.highest_field_id === "number" ? j.highest_field_id : columns.length - 1;
  return { columns, primaryKey, highestFieldId };
}

interface TableDescriptorJson {
  version: number;
  schema: SchemaJson;
  comment?: string;
  partition_key: string[];
  bucket_key?: string[];
  bucket_count?: number;
  properties: Record<string, string>;
  custom_properties: Record<string, string>;
}

export function descriptorToJson(d: TableDescriptor): TableDescriptorJson {
  // Fields and their order as Fluss's TableDescriptorJsonSerde writes them: a distribution (bucket
  // count or keys) always carries `bucket_key`, [] when there is none; Fluss's reader needs it.
  const hasDistribution = d.bucketCount !== undefined || d.bucketKeys.length > 0;
  return {
    version: 1,
    schema: schemaToJson(d.schema),
    ...(d.comment !== undefined ? { comment: d.comment } : {}),
    partition_key: [...d.partitionKeys],
    ...(hasDistribution ? { bucket_key: [...d.bucketKeys] } : {}),
    ...(d.bucketCount !== undefined ? { bucket_count: d.bucketCount } : {}),
    properties: { ...d.properties },
    custom_properties: { ...d.customProperties },
  };
}

export function descriptorFromJson(json: unknown): TableDescriptor {
  if (typeof json !== "object" || json === null) throw invalidArgument("table JSON must be an object");
  const j = json as Partial<TableDescriptorJson>;
  return {
    schema: schemaFromJson(j.schema),
    ...(j.comment !== undefined ? { comment: String(j.comment) } : {}),
    partitionKeys: asStringArray(j.partition_key, "partition_key"),
    bucketKeys: asStringArray(j.bucket_key, "bucket_key"),
    ...(typeof j.bucket_count === "number" ? { bucketCount: j.bucket_count } : {}),
    properties: asStringRecord(j.properties, "properties"),
    customProperties: asStringRecord(j.custom_properties, "custom_properties"),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new FlussError(Errors.CORRUPT_MESSAGE, `invalid JSON: ${(err as Error).message}`);
  }
}
