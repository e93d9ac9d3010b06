// Row predicates over a table schema, Fluss's predicate model (org.apache.fluss.predicate): leaf
// functions on one column with literals of the column type, combined by AND / OR, plus NOT.
// A leaf names its column by schema index, name and type; literals are ScalarValues (see
// record/scalar.ts) or null. Semantics are SQL's three-valued logic: a comparison with a NULL value
// or NULL literal is UNKNOWN, a row is selected only when the predicate is TRUE, NOT UNKNOWN is
// UNKNOWN. IN is TRUE when a literal equals the value, else UNKNOWN if the value or a literal is
// NULL, else FALSE; NOT IN the reverse (FALSE on a match, UNKNOWN with any NULL, else TRUE).
// Fluss has no NOT node: `negate` / `toNegationNormalForm` push NOT down (De Morgan, inverted
// comparisons), exact under three-valued logic; only NOT over STARTS_WITH / ENDS_WITH / CONTAINS
// has no leaf form and stays a NOT node. An AND without children is TRUE, an OR without is FALSE.
// Invariants: predicates are immutable plain objects; builders validate arity, literal forms and
// op/type fit (INVALID_ARGUMENT), so evaluation never meets a malformed leaf.

import { invalidArgument } from "../errors.ts";
import { isScalarOf, type ScalarValue, toScalar } from "../record/scalar.ts";
import type { Schema } from "../schema.ts";
import { type DataType, typeToSql } from "../types.ts";
import { ValueMismatch } from "../values/mismatch.ts";

export type ComparisonOp =
  | "EQUAL"
  | "NOT_EQUAL"
  | "LESS_THAN"
  | "LESS_OR_EQUAL"
  | "GREATER_THAN"
  | "GREATER_OR_EQUAL";
export type StringOp = "STARTS_WITH" | "ENDS_WITH" | "CONTAINS";
export type LeafOp = ComparisonOp | StringOp | "IS_NULL" | "IS_NOT_NULL" | "IN" | "NOT_IN";

export interface LeafPredicate {
  readonly kind: "leaf";
  readonly op: LeafOp;
  /** Index of the column in the schema the predicate was built against. */
  readonly column: number;
  readonly name: string;
  readonly type: DataType;
  /** One for comparisons and string ops, none for IS [NOT] NULL, one or more for [NOT] IN. */
  readonly literals: readonly (ScalarValue | null)[];
}

export interface CompoundPredicate {
  readonly kind: "and" | "or";
  readonly children: readonly Predicate[];
}

export interface NotPredicate {
  readonly kind: "not";
  readonly child: Predicate;
}

export type Predicate = LeafPredicate | CompoundPredicate | NotPredicate;

const COMPARISONS: ReadonlySet<string> = new Set([
  "EQUAL",
  "NOT_EQUAL",
  "LESS_THAN",
  "LESS_OR_EQUAL",
  "GREATER_THAN",
  "GREATER_OR_EQUAL",
]);
const STRING_OPS: ReadonlySet<string> = new Set(["STARTS_WITH", "ENDS_WITH", "CONTAINS"]);

export function isComparisonOp(op: LeafOp): op is ComparisonOp {
  return COMPARISONS.has(op);
}

export function isStringOp(op: LeafOp): op is StringOp {
  return STRING_OPS.has(op);
}

function isStringType(t: DataType): boolean {
  return t.root === "STRING" || t.root === "CHAR";
}

/** Check a leaf built elsewhere (e.g. from protobuf) and return it; INVALID_ARGUMENT if malformed. */
export function checkLeaf(p: LeafPredicate): LeafPredicate {
  const where = `predicate on column '${p.name}' (${typeToSql(p.type)})`;
  const n = p.literals.length;
  if (isComparisonOp(p.op) || isStringOp(p.op)) {
    if (n !== 1) throw invalidArgument(`${where}: ${p.op} takes one literal, got ${n}`);
  } else if (p.op === "IS_NULL" || p.op === "IS_NOT_NULL") {
    if (n !== 0) throw invalidArgument(`${where}: ${p.op} takes no literal, got ${n}`);
  } else if (n === 0) throw invalidArgument(`${where}: ${p.op} needs at least one literal`);
  if (isStringOp(p.op) && !isStringType(p.type)) {
    throw invalidArgument(`${where}: ${p.op} applies to STRING and CHAR columns only`);
  }
  for (const v of p.literals) {
    if (v !== null && !isScalarOf(p.type, v))
      throw invalidArgument(`${where}: literal is not of the column type`);
  }
  return p;
}

/**
 * A leaf on `column` of `schema` with literals given in the forms rows accept (see
 * ArrowBatchBuilder; null allowed), converted to the column type. INVALID_ARGUMENT for an unknown
 * column, a literal that does not fit or the wrong number of literals.
 */
export function leaf(
  schema: Schema,
  column: string,
  op: LeafOp,
  literals: readonly unknown[] = [],
): LeafPredicate {
  const index = schema.columns.findIndex((c) => c.name === column);
  if (index < 0) {
    throw invalidArgument(
      `unknown column '${column}' (columns: ${schema.columns.map((c) => c.name).join(", ")})`,
    );
  }
  const type = schema.columns[index]!.type;
  const converted = literals.map((v) => {
    if (v === null || v === undefined) return null;
    try {
      return toScalar(type, v);
    } catch (err) {
      if (!(err instanceof ValueMismatch)) throw err;
      throw invalidArgument(`literal for column '${column}' (${typeToSql(type)}): ${err.message}`);
    }
  });
  return checkLeaf({ kind: "leaf", op, column: index, name: column, type, literals: converted });
}

export function and(...children: readonly Predicate[]): Predicate {
  return children.length === 1 ? children[0]! : { kind: "and", children };
}

export function or(...children: readonly Predicate[]): Predicate {
  return children.length === 1 ? children[0]! : { kind: "or", children };
}

export function not(child: Predicate): Predicate {
  return { kind: "not", child };
}

/** TRUE and FALSE as predicates (AND / OR without children). */
export const ALWAYS_TRUE: Predicate = { kind: "and", children: [] };
export const ALWAYS_FALSE: Predicate = { kind: "or", children: [] };

const NEGATED: Readonly<Record<string, LeafOp>> = {
  EQUAL: "NOT_EQUAL",
  NOT_EQUAL: "EQUAL",
  LESS_THAN: "GREATER_OR_EQUAL",
  GREATER_OR_EQUAL: "LESS_THAN",
  LESS_OR_EQUAL: "GREATER_THAN",
  GREATER_THAN: "LESS_OR_EQUAL",
  IS_NULL: "IS_NOT_NULL",
  IS_NOT_NULL: "IS_NULL",
  IN: "NOT_IN",
  NOT_IN: "IN",
};

/** NOT p as a predicate without NOT nodes (Fluss's Predicate.negate), or null if it has none. */
export function negate(p: Predicate): Predicate | null {
  switch (p.kind) {
    case "leaf": {
      const op = NEGATED[p.op];
      return op === undefined ? null : { ...p, op };
    }
    case "not":
      return toNegationNormalForm(p.child);
    case "and":
    case "or": {
      const children: Predicate[] = [];
      for (const c of p.children) {
        const n = negate(c);
        if (n === null) return null;
        children.push(n);
      }
      return { kind: p.kind === "and" ? "or" : "and", children };
    }
  }
}

/**
 * The same predicate with NOT pushed down to the leaves: the result has NOT nodes only directly
 * over STARTS_WITH / ENDS_WITH / CONTAINS leaves. Selects exactly the same rows.
 */
export function toNegationNormalForm(p: Predicate): Predicate {
  switch (p.kind) {
    case "leaf":
      return p;
    case "and":
    case "or":
      return { kind: p.kind, children: p.children.map(toNegationNormalForm) };
    case "not": {
      const c = p.child;
      if (c.kind === "not") return toNegationNormalForm(c.child);
      if (c.kind === "leaf") return NEGATED[c.op] === undefined ? p : { ...c, op: NEGATED[c.op]! };
      return {
        kind: c.kind === "and" ? "or" : "and",
        children: c.children.map((x) => toNegationNormalForm(not(x))),
      };
    }
  }
}

/** Schema indexes of the columns a predicate reads, ascending, without repeats. */
export function predicateColumns(p: Predicate): number[] {
  const out = new Set<number>();
  const visit = (q: Predicate): void => {
    if (q.kind === "leaf") out.add(q.column);
    else if (q.kind === "not") visit(q.child);
    else q.children.forEach(visit);
  };
  visit(p);
  return [...out].sort((a, b) => a - b);
}
