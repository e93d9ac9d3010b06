// Predicates ↔ Fluss's wire form (FlussApi.proto PbPredicate / PbLeafPredicate /
// PbCompoundPredicate / PbLiteralValue, as Fluss's PredicateMessageUtils maps them), as plain
// objects shaped like the protobuf-es messages (camelCase fields, int64 as bigint), so the RPC
// layer can pass them to `create(PbPredicateSchema, …)` and hand decoded messages back.
// Codes: PbPredicate.type LEAF 0, COMPOUND 1; leaf function EQUAL 0, NOT_EQUAL 1, LESS_THAN 2,
// LESS_OR_EQUAL 3, GREATER_THAN 4, GREATER_OR_EQUAL 5, IS_NULL 6, IS_NOT_NULL 7, STARTS_WITH 8,
// CONTAINS 9, END_WITH 10, IN 11, NOT_IN 12; compound AND 0, OR 1; literal type = the column's
// type root: BOOLEAN 0, TINYINT 1, SMALLINT 2, INT 3, BIGINT 4, FLOAT 5, DOUBLE 6, CHAR 7,
// VARCHAR (STRING) 8, DECIMAL 9, DATE 10, TIME 11, TIMESTAMP 12, TIMESTAMP_LTZ 13, BINARY 14,
// BYTES 15. Literal values: int_value for TINYINT..INT and TIME (ms of day), bigint_value for
// BIGINT and DATE (days), float / double / string / binary values, decimal_value (unscaled, for
// precision <= 18) or decimal_bytes (BigInteger bytes), timestamp_millis_value +
// timestamp_nano_of_millis_value. A leaf names its column by field id (Column.id), not position.
// Fluss has no NOT: predicateToPb sends the negation normal form; NOT over STARTS_WITH /
// ENDS_WITH / CONTAINS has no wire form and is refused (INVALID_ARGUMENT) unless
// `relaxUnsupported`, which sends TRUE (an AND without children) in its place: only sound for
// pruning (the server may then return more rows; the reader must still filter).
// Invariant: predicateFromPb(predicateToPb(p, s), s) selects the same rows as p.

import { invalidArgument } from "../errors.ts";
import type { ScalarValue, TimestampParts } from "../record/scalar.ts";
import type { Schema } from "../schema.ts";
import type { DataType, TypeRoot } from "../types.ts";
import { unscaledFromBytes, unscaledToBytes } from "../values/numeric.ts";
import {
  checkLeaf,
  type LeafOp,
  type LeafPredicate,
  type Predicate,
  toNegationNormalForm,
} from "./predicate.ts";

export const PB_PREDICATE_LEAF = 0;
export const PB_PREDICATE_COMPOUND = 1;
export const PB_COMPOUND_AND = 0;
export const PB_COMPOUND_OR = 1;

export const PB_LEAF_FUNCTIONS: readonly LeafOp[] = [
  "EQUAL",
  "NOT_EQUAL",
  "LESS_THAN",
  "LESS_OR_EQUAL",
  "GREATER_THAN",
  "GREATER_OR_EQUAL",
  "IS_NULL",
  "IS_NOT_NULL",
  "STARTS_WITH",
  "CONTAINS",
  "ENDS_WITH",
  "IN",
  "NOT_IN",
];

export const PB_DATA_TYPE_ROOTS: readonly TypeRoot[] = [
  "BOOLEAN",
  "TINYINT",
  "SMALLINT",
  "INTEGER",
  "BIGINT",
  "FLOAT",
  "DOUBLE",
  "CHAR",
  "STRING",
  "DECIMAL",
  "DATE",
  "TIME_WITHOUT_TIME_ZONE",
  "TIMESTAMP_WITHOUT_TIME_ZONE",
  "TIMESTAMP_WITH_LOCAL_TIME_ZONE",
  "BINARY",
  "BYTES",
];

export interface PbLiteralValueShape {
  literalType: number;
  isNull: boolean;
  booleanValue?: boolean;
  intValue?: number;
  bigintValue?: bigint;
  floatValue?: number;
  doubleValue?: number;
  stringValue?: string;
  binaryValue?: Uint8Array;
  decimalValue?: bigint;
  timestampMillisValue?: bigint;
  timestampNanoOfMillisValue?: number;
  decimalBytes?: Uint8Array;
}

export interface PbLeafPredicateShape {
  function: number;
  fieldId: number;
  literals: PbLiteralValueShape[];
}

export interface PbCompoundPredicateShape {
  function: number;
  children: PbPredicateShape[];
}

export interface PbPredicateShape {
  type: number;
  leaf?: PbLeafPredicateShape;
  compound?: PbCompoundPredicateShape;
}

function literalToPb(type: DataType, v: ScalarValue | null): PbLiteralValueShape {
  const literalType = PB_DATA_TYPE_ROOTS.indexOf(type.root);
  if (v === null) return { literalType, isNull: true };
  const out: PbLiteralValueShape = { literalType, isNull: false };
  switch (type.root) {
    case "BOOLEAN":
      out.booleanValue = v as boolean;
      break;
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
    case "TIME_WITHOUT_TIME_ZONE":
      out.intValue = v as number;
      break;
    case "BIGINT":
      out.bigintValue = v as bigint;
      break;
    case "DATE":
      out.bigintValue = BigInt(v as number);
      break;
    case "FLOAT":
      out.floatValue = v as number;
      break;
    case "DOUBLE":
      out.doubleValue = v as number;
      break;
    case "CHAR":
    case "STRING":
      out.stringValue = v as string;
      break;
    case "BINARY":
    case "BYTES":
      out.binaryValue = v as Uint8Array;
      break;
    case "DECIMAL":
      if ((type.precision ?? 10) <= 18) out.decimalValue = v as bigint;
      else out.decimalBytes = unscaledToBytes(v as bigint);
      break;
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
      const p = v as TimestampParts;
      out.timestampMillisValue = BigInt(p.epochMs);
      out.timestampNanoOfMillisValue = p.nanoOfMs;
      break;
    }
  }
  return out;
}

function leafToPb(p: LeafPredicate, schema: Schema): PbPredicateShape {
  const column = schema.columns[p.column];
  if (column === undefined || column.name !== p.name) {
    throw invalidArgument(`predicate column '${p.name}' is not column ${p.column} of the schema`);
  }
  return {
    type: PB_PREDICATE_LEAF,
    leaf: {
      function: PB_LEAF_FUNCTIONS.indexOf(p.op),
      fieldId: column.id,
      literals: p.literals.map((v) => literalToPb(column.type, v)),
    },
  };
}

const TRUE_PB: PbPredicateShape = {
  type: PB_PREDICATE_COMPOUND,
  compound: { function: PB_COMPOUND_AND, children: [] },
};

function nnfToPb(p: Predicate, schema: Schema, relax: boolean): PbPredicateShape {
  switch (p.kind) {
    case "leaf":
      return leafToPb(p, schema);
    case "and":
    case "or":
      return {
        type: PB_PREDICATE_COMPOUND,
        compound: {
          function: p.kind === "and" ? PB_COMPOUND_AND : PB_COMPOUND_OR,
          children: p.children.map((c) => nnfToPb(c, schema, relax)),
        },
      };
    case "not":
      if (relax) return TRUE_PB;
      throw invalidArgument("NOT STARTS_WITH / ENDS_WITH / CONTAINS has no Fluss wire form");
  }
}

/** The wire form of `predicate` (built against `schema`, the schema of the filter's schema id). */
export function predicateToPb(
  predicate: Predicate,
  schema: Schema,
  opts: { relaxUnsupported?: boolean } = {},
): PbPredicateShape {
  return nnfToPb(toNegationNormalForm(predicate), schema, opts.relaxUnsupported === true);
}

const charRoots = new Set<TypeRoot>(["CHAR", "STRING"]);
const binaryRoots = new Set<TypeRoot>(["BINARY", "BYTES"]);

function literalFromPb(pb: PbLiteralValueShape, type: DataType): ScalarValue | null {
  if (pb.isNull) return null;
  const root = PB_DATA_TYPE_ROOTS[pb.literalType];
  if (root === undefined) throw invalidArgument(`unknown literal type ${pb.literalType}`);
  const fits =
    root === type.root ||
    (charRoots.has(root) && charRoots.has(type.root)) ||
    (binaryRoots.has(root) && binaryRoots.has(type.root));
  if (!fits) throw invalidArgument(`literal type ${root} does not match the column type ${type.root}`);
  const need = <T>(v: T | undefined, field: string): T => {
    if (v === undefined) throw invalidArgument(`${root} literal without ${field}`);
    return v;
  };
  switch (type.root) {
    case "BOOLEAN":
      return need(pb.booleanValue, "boolean_value");
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
    case "TIME_WITHOUT_TIME_ZONE":
      return need(pb.intValue, "int_value");
    case "BIGINT":
      return BigInt(need(pb.bigintValue, "bigint_value"));
    case "DATE":
      return Number(need(pb.bigintValue, "bigint_value"));
    case "FLOAT":
      return Math.fround(need(pb.floatValue, "float_value"));
    case "DOUBLE":
      return need(pb.doubleValue, "double_value");
    case "CHAR":
    case "STRING":
      return need(pb.stringValue, "string_value");
    case "BINARY":
    case "BYTES":
      return need(pb.binaryValue, "binary_value");
    case "DECIMAL":
      // A decoded message holds empty bytes when decimal_bytes is unset; real bytes are never empty.
      if (pb.decimalBytes !== undefined && pb.decimalBytes.length > 0)
        return unscaledFromBytes(pb.decimalBytes);
      return BigInt(need(pb.decimalValue, "decimal_value"));
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return {
        epochMs: Number(need(pb.timestampMillisValue, "timestamp_millis_value")),
        nanoOfMs: pb.timestampNanoOfMillisValue ?? 0,
      };
  }
}

/** A predicate from its wire form, against the schema of the filter's schema id. INVALID_ARGUMENT if malformed. */
export function predicateFromPb(pb: PbPredicateShape, schema: Schema): Predicate {
  if (pb.type === PB_PREDICATE_LEAF) {
    const l = pb.leaf;
    if (l === undefined) throw invalidArgument("leaf predicate without its leaf");
    const op = PB_LEAF_FUNCTIONS[l.function];
    if (op === undefined) throw invalidArgument(`unknown leaf function ${l.function}`);
    const index = schema.columns.findIndex((c) => c.id === l.fieldId);
    if (index < 0) throw invalidArgument(`no column has field id ${l.fieldId}`);
    const column = schema.columns[index]!;
    return checkLeaf({
      kind: "leaf",
      op,
      column: index,
      name: column.name,
      type: column.type,
      literals: l.literals.map((lit) => literalFromPb(lit, column.type)),
    });
  }
  if (pb.type === PB_PREDICATE_COMPOUND) {
    const c = pb.compound;
    if (c === undefined) throw invalidArgument("compound predicate without its compound");
    if (c.function !== PB_COMPOUND_AND && c.function !== PB_COMPOUND_OR) {
      throw invalidArgument(`unknown compound function ${c.function}`);
    }
    return {
      kind: c.function === PB_COMPOUND_AND ? "and" : "or",
      children: c.children.map((child) => predicateFromPb(child, schema)),
    };
  }
  throw invalidArgument(`unknown predicate type ${pb.type}`);
}
