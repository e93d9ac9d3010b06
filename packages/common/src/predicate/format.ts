// The text form of predicates, in the language parser.ts reads: `predicateToString` and the
// column-name quoting it uses, plus the reserved words and function names both files share.
// Layout rules: NOT binds tighter than AND / OR, so only AND / OR operands of AND / OR get
// parentheses, and the operand of NOT unless it is a NOT or a function call; an AND / OR of one
// operand prints as that operand; AND / OR of none print TRUE / FALSE; literals print with
// scalarToLiteralText (exact: nine fraction digits for timestamps, X'..' for bytes, 'NaN').
// Invariant: parsePredicate(predicateToString(p)) prints back to the same text and selects the
// same rows as p (NULL comparison literals print as NULL, which the parser refuses).

import { type ScalarValue, scalarToLiteralText } from "../record/scalar.ts";
import type { DataType } from "../types.ts";
import type { LeafOp, Predicate } from "./predicate.ts";

/** Words that cannot be bare column names. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  "AND",
  "OR",
  "NOT",
  "IS",
  "NULL",
  "IN",
  "TRUE",
  "FALSE",
  "LIKE",
  "BETWEEN",
]);

/** Function-call forms of the string leaf functions. */
export const FUNCTIONS: Readonly<Record<string, LeafOp>> = {
  STARTS_WITH: "STARTS_WITH",
  ENDS_WITH: "ENDS_WITH",
  CONTAINS: "CONTAINS",
};

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SYMBOL: Readonly<Record<string, string>> = {
  EQUAL: "=",
  NOT_EQUAL: "<>",
  LESS_THAN: "<",
  LESS_OR_EQUAL: "<=",
  GREATER_THAN: ">",
  GREATER_OR_EQUAL: ">=",
};

/** A column name as the parser reads it (backquoted unless a plain non-keyword identifier). */
export function quoteColumnName(name: string): string {
  if (PLAIN_NAME.test(name) && !KEYWORDS.has(name.toUpperCase())) return name;
  return `\`${name.replaceAll("`", "``")}\``;
}

function literalText(type: DataType, v: ScalarValue | null): string {
  return v === null ? "NULL" : scalarToLiteralText(type, v);
}

/** Text of a predicate in the parser's language (NULL comparison literals print as NULL). */
export function predicateToString(p: Predicate): string {
  // NOT binds tighter than AND and OR: only AND / OR operands of AND / OR need parentheses; the
  // operand of NOT gets them too unless it is a NOT or a function call (readability). An AND / OR
  // of one operand prints as that operand.
  const text = (q: Predicate, bare: boolean): string =>
    bare ? predicateToString(q) : `(${predicateToString(q)})`;
  const isCompound = (q: Predicate): boolean =>
    (q.kind === "and" || q.kind === "or") && q.children.length > 0;
  const single = (q: Predicate): Predicate =>
    (q.kind === "and" || q.kind === "or") && q.children.length === 1 ? single(q.children[0]!) : q;
  const s = single(p);
  if (s !== p) return predicateToString(s);
  switch (p.kind) {
    case "and":
    case "or":
      if (p.children.length === 0) return p.kind === "and" ? "TRUE" : "FALSE";
      return p.children
        .map(single)
        .map((c) => text(c, !isCompound(c)))
        .join(p.kind === "and" ? " AND " : " OR ");
    case "not": {
      const c = single(p.child);
      return `NOT ${text(c, c.kind === "not" || (c.kind === "leaf" && FUNCTIONS[c.op] !== undefined))}`;
    }
    case "leaf": {
      const col = quoteColumnName(p.name);
      const lits = p.literals.map((v) => literalText(p.type, v));
      switch (p.op) {
        case "IS_NULL":
          return `${col} IS NULL`;
        case "IS_NOT_NULL":
          return `${col} IS NOT NULL`;
        case "IN":
          return `${col} IN (${lits.join(", ")})`;
        case "NOT_IN":
          return `${col} NOT IN (${lits.join(", ")})`;
        case "STARTS_WITH":
        case "ENDS_WITH":
        case "CONTAINS":
          return `${p.op}(${col}, ${lits[0]})`;
        default:
          return `${col} ${SYMBOL[p.op]} ${lits[0]}`;
      }
    }
  }
}
