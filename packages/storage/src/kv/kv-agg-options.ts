// Aggregation merge engine options: `fields.<col>.agg = <function>` and
// `fields.<col>.<function>.<param> = <value>` (Fluss's Flink connector form), and the data types
// each function accepts (Fluss AggFunctionType). Function names are case-insensitive and '-' may
// stand for '_'. The only parameter is `delimiter` of listagg / string_agg (non-empty; default ",").
// Invariant: every `fields.*` key is either an `.agg` key or a parameter of the function its
// column names; anything else is refused as INVALID_CONFIG_EXCEPTION.

import { Errors, FlussError, type Schema, type TypeRoot } from "@fluss-ts/common";
import { AGG_FUNCTIONS, type AggFunctionName, type AggregationSpec } from "./types.ts";

const PREFIX = "fields.";
const AGG_SUFFIX = ".agg";
export const DEFAULT_LISTAGG_DELIMITER = ",";

function invalidConfig(message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, message);
}

function functionOf(column: string, text: string): AggFunctionName {
  const name = text.trim().replaceAll("-", "_").toLowerCase();
  const fn = AGG_FUNCTIONS.find((f) => f === name);
  if (fn === undefined) {
    throw invalidConfig(
      `unknown aggregation function '${text}' for column '${column}' (supported: ${[...AGG_FUNCTIONS].sort().join(", ")})`,
    );
  }
  return fn;
}

function takesDelimiter(fn: AggFunctionName): boolean {
  return fn === "listagg" || fn === "string_agg";
}

/** The per-column aggregation specs named by `fields.*` properties. */
export function parseAggregationFields(
  props: Readonly<Record<string, string>>,
): Map<string, AggregationSpec> {
  const fns = new Map<string, AggFunctionName>();
  for (const [key, value] of Object.entries(props)) {
    if (!key.startsWith(PREFIX) || !key.endsWith(AGG_SUFFIX)) continue;
    const column = key.slice(PREFIX.length, key.length - AGG_SUFFIX.length);
    if (column.length === 0) throw invalidConfig(`'${key}' names no column`);
    fns.set(column, functionOf(column, value));
  }
  const delimiters = new Map<string, string>();
  for (const [key, value] of Object.entries(props)) {
    if (!key.startsWith(PREFIX) || key.endsWith(AGG_SUFFIX)) continue;
    const owner = [...fns].find(([column, fn]) => key.startsWith(`${PREFIX}${column}.${fn}.`));
    if (owner === undefined) {
      throw invalidConfig(`unknown table option '${key}' (expected fields.<column>.<function>.<parameter>)`);
    }
    const [column, fn] = owner;
    const param = key.slice(`${PREFIX}${column}.${fn}.`.length);
    if (!takesDelimiter(fn) || param !== "delimiter") {
      throw invalidConfig(`parameter '${param}' is not supported by aggregation function '${fn}' ('${key}')`);
    }
    if (value.length === 0) throw invalidConfig(`'${key}' must be a non-empty string`);
    delimiters.set(column, value);
  }
  const out = new Map<string, AggregationSpec>();
  for (const [column, fn] of fns) {
    const delimiter = takesDelimiter(fn) ? (delimiters.get(column) ?? DEFAULT_LISTAGG_DELIMITER) : undefined;
    out.set(column, delimiter === undefined ? { fn } : { fn, delimiter });
  }
  return out;
}

const NUMERIC: readonly TypeRoot[] = [
  "TINYINT",
  "SMALLINT",
  "INTEGER",
  "BIGINT",
  "FLOAT",
  "DOUBLE",
  "DECIMAL",
];
const ORDERED: readonly TypeRoot[] = [
  "CHAR",
  "STRING",
  ...NUMERIC,
  "DATE",
  "TIME_WITHOUT_TIME_ZONE",
  "TIMESTAMP_WITHOUT_TIME_ZONE",
  "TIMESTAMP_WITH_LOCAL_TIME_ZONE",
];

/** The type roots `fn` accepts, or null for every type. */
export function supportedRoots(fn: AggFunctionName): readonly TypeRoot[] | null {
  switch (fn) {
    case "sum":
    case "product":
      return NUMERIC;
    case "max":
    case "min":
      return ORDERED;
    case "listagg":
    case "string_agg":
      return ["STRING", "CHAR"];
    case "bool_and":
    case "bool_or":
      return ["BOOLEAN"];
    default:
      return null;
  }
}

/** Each configured column exists, is not a key column, and has a type its function handles. */
export function checkAggregationTypes(schema: Schema, fields: ReadonlyMap<string, AggregationSpec>): void {
  for (const [name, spec] of fields) {
    const column = schema.columns.find((c) => c.name === name);
    if (column === undefined) {
      throw invalidConfig(`'fields.${name}.agg': column '${name}' does not exist`);
    }
    if (schema.primaryKey.includes(name)) {
      throw invalidConfig(
        `'fields.${name}.agg': primary-key column '${name}' cannot have an aggregation function`,
      );
    }
    const roots = supportedRoots(spec.fn);
    if (roots !== null && !roots.includes(column.type.root)) {
      throw invalidConfig(
        `invalid aggregation function for column '${name}': ${spec.fn} supports ${roots.join(", ")}, ` +
          `but the column is ${column.type.root}`,
      );
    }
  }
}
