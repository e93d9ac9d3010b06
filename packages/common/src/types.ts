// Data types of table columns, as Fluss names them (type roots of Fluss's DataTypeRoot), with
// parsing from SQL text ("DECIMAL(10, 2) NOT NULL") and the JSON form Fluss stores in table_json.
// Invariant: a DataType is immutable and validated (lengths and precisions in range) when built.

import { Errors, FlussError, invalidArgument } from "./errors.ts";

export type TypeRoot =
  | "BOOLEAN"
  | "TINYINT"
  | "SMALLINT"
  | "INTEGER"
  | "BIGINT"
  | "FLOAT"
  | "DOUBLE"
  | "DECIMAL"
  | "STRING"
  | "CHAR"
  | "BYTES"
  | "BINARY"
  | "DATE"
  | "TIME_WITHOUT_TIME_ZONE"
  | "TIMESTAMP_WITHOUT_TIME_ZONE"
  | "TIMESTAMP_WITH_LOCAL_TIME_ZONE";

export interface DataType {
  readonly root: TypeRoot;
  readonly nullable: boolean;
  /** CHAR(n) / BINARY(n) length. */
  readonly length?: number;
  /** DECIMAL precision, TIME / TIMESTAMP fractional-second precision. */
  readonly precision?: number;
  readonly scale?: number;
}

export const DECIMAL_PRECISION_MAX = 38;
export const TIME_PRECISION_MAX = 9;
export const CHAR_LENGTH_MAX = 2_147_483_647;

const simpleRoots: Readonly<Record<string, TypeRoot>> = {
  BOOLEAN: "BOOLEAN",
  BOOL: "BOOLEAN",
  TINYINT: "TINYINT",
  SMALLINT: "SMALLINT",
  INT: "INTEGER",
  INTEGER: "INTEGER",
  BIGINT: "BIGINT",
  FLOAT: "FLOAT",
  DOUBLE: "DOUBLE",
  STRING: "STRING",
  BYTES: "BYTES",
  DATE: "DATE",
};

function invalidType(text: string, why: string): FlussError {
  return new FlussError(Errors.INVALID_TABLE_EXCEPTION, `invalid type '${text}': ${why}`);
}

function checkRange(text: string, what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidType(text, `${what} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

export function makeType(t: DataType): DataType {
  const text = typeToSql(t);
  switch (t.root) {
    case "DECIMAL": {
      const p = checkRange(text, "precision", t.precision ?? 10, 1, DECIMAL_PRECISION_MAX);
      const s = checkRange(text, "scale", t.scale ?? 0, 0, p);
      return { root: t.root, nullable: t.nullable, precision: p, scale: s };
    }
    case "CHAR":
    case "BINARY":
      return {
        root: t.root,
        nullable: t.nullable,
        length: checkRange(text, "length", t.length ?? 1, 1, CHAR_LENGTH_MAX),
      };
    case "TIME_WITHOUT_TIME_ZONE":
      return {
        root: t.root,
        nullable: t.nullable,
        precision: checkRange(text, "precision", t.precision ?? 0, 0, TIME_PRECISION_MAX),
      };
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return {
        root: t.root,
        nullable: t.nullable,
        precision: checkRange(text, "precision", t.precision ?? 6, 0, TIME_PRECISION_MAX),
      };
    default:
      return { root: t.root, nullable: t.nullable };
  }
}

/** Parse one SQL type, e.g. `BIGINT`, `DECIMAL(10,2)`, `TIMESTAMP_LTZ(3) NOT NULL`. */
export function parseType(input: string): DataType {
  const text = input.trim();
  let body = text.toUpperCase().replace(/\s+/g, " ");
  let nullable = true;
  if (body.endsWith(" NOT NULL")) {
    nullable = false;
    body = body.slice(0, -" NOT NULL".length).trim();
  } else if (body.endsWith(" NULL")) {
    body = body.slice(0, -" NULL".length).trim();
  }
  const m =
    /^([A-Z_ ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?(?: (WITH(?:OUT)? (?:LOCAL )?TIME ZONE))?$/.exec(
      body,
    );
  if (!m) throw invalidType(text, "cannot parse");
  const name = m[1]!.trim();
  const a = m[2] === undefined ? undefined : Number(m[2]);
  const b = m[3] === undefined ? undefined : Number(m[3]);
  const zone = m[4];
  const noArgs = (): void => {
    if (a !== undefined) throw invalidType(text, `${name} takes no parameters`);
  };
  const simple = simpleRoots[name];
  if (simple && !zone) {
    noArgs();
    return makeType({ root: simple, nullable });
  }
  if (b !== undefined && name !== "DECIMAL" && name !== "NUMERIC" && name !== "DEC") {
    throw invalidType(text, `${name} takes one parameter`);
  }
  switch (name) {
    case "DECIMAL":
    case "NUMERIC":
    case "DEC":
      return makeType({ root: "DECIMAL", nullable, precision: a ?? 10, scale: b ?? 0 });
    case "CHAR":
      return makeType({ root: "CHAR", nullable, length: a ?? 1 });
    case "VARCHAR":
      if (a !== undefined && a !== CHAR_LENGTH_MAX)
        throw invalidType(text, "use STRING (VARCHAR(n) is not supported)");
      return makeType({ root: "STRING", nullable });
    case "BINARY":
      return makeType({ root: "BINARY", nullable, length: a ?? 1 });
    case "VARBINARY":
      if (a !== undefined && a !== CHAR_LENGTH_MAX)
        throw invalidType(text, "use BYTES (VARBINARY(n) is not supported)");
      return makeType({ root: "BYTES", nullable });
    case "TIME":
      if (zone) throw invalidType(text, "TIME has no time zone variant");
      return makeType({ root: "TIME_WITHOUT_TIME_ZONE", nullable, precision: a ?? 0 });
    case "TIMESTAMP":
      if (zone === "WITH LOCAL TIME ZONE") {
        return makeType({ root: "TIMESTAMP_WITH_LOCAL_TIME_ZONE", nullable, precision: a ?? 6 });
      }
      if (zone && zone !== "WITHOUT TIME ZONE") throw invalidType(text, "use TIMESTAMP_LTZ for time zones");
      return makeType({ root: "TIMESTAMP_WITHOUT_TIME_ZONE", nullable, precision: a ?? 6 });
    case "TIMESTAMP_LTZ":
      if (zone) throw invalidType(text, "TIMESTAMP_LTZ takes no time zone clause");
      return makeType({ root: "TIMESTAMP_WITH_LOCAL_TIME_ZONE", nullable, precision: a ?? 6 });
    default:
      throw invalidType(text, `unknown type '${name}'`);
  }
}

/** SQL text for a type, the inverse of parseType. */
export function typeToSql(t: DataType): string {
  const nn = t.nullable ? "" : " NOT NULL";
  switch (t.root) {
    case "INTEGER":
      return `INT${nn}`;
    case "DECIMAL":
      return `DECIMAL(${t.precision}, ${t.scale})${nn}`;
    case "CHAR":
    case "BINARY":
      return `${t.root}(${t.length})${nn}`;
    case "TIME_WITHOUT_TIME_ZONE":
      return `TIME(${t.precision})${nn}`;
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
      return `TIMESTAMP(${t.precision})${nn}`;
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return `TIMESTAMP_LTZ(${t.precision})${nn}`;
    default:
      return `${t.root}${nn}`;
  }
}

export function withNullable(t: DataType, nullable: boolean): DataType {
  return { ...t, nullable };
}

// ---- Fluss JSON form ({"type":"DECIMAL","precision":10,"scale":2,"nullable":false}) -------------

export interface DataTypeJson {
  type: string;
  nullable?: boolean;
  length?: number;
  precision?: number;
  scale?: number;
}

export function typeToJson(t: DataType): DataTypeJson {
  const json: DataTypeJson = { type: t.root };
  if (!t.nullable) json.nullable = false;
  if (t.length !== undefined) json.length = t.length;
  if (t.precision !== undefined) json.precision = t.precision;
  if (t.scale !== undefined) json.scale = t.scale;
  return json;
}

const allRoots = new Set<string>([
  "BOOLEAN",
  "TINYINT",
  "SMALLINT",
  "INTEGER",
  "BIGINT",
  "FLOAT",
  "DOUBLE",
  "DECIMAL",
  "STRING",
  "CHAR",
  "BYTES",
  "BINARY",
  "DATE",
  "TIME_WITHOUT_TIME_ZONE",
  "TIMESTAMP_WITHOUT_TIME_ZONE",
  "TIMESTAMP_WITH_LOCAL_TIME_ZONE",
]);

export function typeFromJson(json: unknown): DataType {
  if (typeof json !== "object" || json === null) throw invalidArgument("data type JSON must be an object");
  const j = json as Partial<DataTypeJson>;
  if (typeof j.type !== "string" || !allRoots.has(j.type)) {
    throw invalidArgument(`unsupported data type '${String(j.type)}'`);
  }
  return makeType({
    root: j.type as TypeRoot,
    nullable: j.nullable !== false,
    length: j.length,
    precision: j.precision,
    scale: j.scale,
  });
}

export function isIntegral(t: DataType): boolean {
  return t.root === "TINYINT" || t.root === "SMALLINT" || t.root === "INTEGER" || t.root === "BIGINT";
}
