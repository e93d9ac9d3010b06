// Predicate evaluation: `mayMatch` decides from a batch's column statistics whether any row can
// match (false only when the statistics prove none can: the server skips such batches), and the
// exact row-level evaluation over an Arrow RecordBatch (`selectRows`, `filterRecordBatch`) or over
// one row of ScalarValues (`evaluatePredicate`), with SQL three-valued logic.
// Three-valued logic is computed per row as FALSE 0 < UNKNOWN 1 < TRUE 2 (Kleene): AND = min,
// OR = max, NOT = 2 - x; a row is selected when the predicate is TRUE.
// mayMatch works on the negation normal form (NOT pushed to the leaves, exact under three-valued
// logic) and is conservative: a column without statistics, or without min / max while it has
// non-null values, may match. Per leaf, with n non-null rows: IS NULL needs nulls, IS NOT NULL
// n > 0; every other leaf needs n > 0 and a non-null literal, then the [min, max] range must admit
// a match (<> and NOT IN are ruled out only when min = max = a literal; STARTS_WITH by the prefix's
// byte range; NOT STARTS_WITH when min and max both start with the prefix).
// min and max are bounds, not necessarily values of the batch: writers truncate long strings (a
// prefix as min, a rounded-up prefix as max; batch-statistics.ts), so every rule here only relies
// on min <= v <= max for each non-null v. The one rule that needs a value to occur, "min = max =
// literal" for <> and NOT IN, stays sound because truncation always leaves min < max.
// Invariant (property-tested): if mayMatch(p, statsOf(batch), rows) is false, no row of the batch
// makes p TRUE; selectRows(batch, p) = { i | evaluatePredicate(p, row i) === true }.

import type { RecordBatch } from "apache-arrow";
import { Errors, FlussError } from "../errors.ts";
import type { BatchStatistics, ColumnStatistics } from "../record/batch-statistics.ts";
import { type ColumnAccess, columnAccess } from "../record/column-access.ts";
import {
  compareKeys,
  isScalarOf,
  keyKindOf,
  keyOf,
  type ScalarKey,
  type ScalarValue,
} from "../record/scalar.ts";
import type { Column } from "../schema.ts";
import { typeToSql } from "../types.ts";
import { type LeafOp, type LeafPredicate, type Predicate, toNegationNormalForm } from "./predicate.ts";
import { takeRows } from "./take.ts";

const F = 0;
const U = 1;
const T = 2;
type Truth = 0 | 1 | 2;

function startsWithBytes(v: Uint8Array, p: Uint8Array): boolean {
  if (v.length < p.length) return false;
  for (let k = 0; k < p.length; k++) if (v[k] !== p[k]) return false;
  return true;
}

function endsWithBytes(v: Uint8Array, p: Uint8Array): boolean {
  const o = v.length - p.length;
  if (o < 0) return false;
  for (let k = 0; k < p.length; k++) if (v[o + k] !== p[k]) return false;
  return true;
}

function containsBytes(v: Uint8Array, p: Uint8Array): boolean {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).indexOf(p) >= 0;
}

/** The smallest byte string above every string starting with `p`, undefined if there is none. */
function prefixUpperBound(p: Uint8Array): Uint8Array | undefined {
  let end = p.length;
  while (end > 0 && p[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const out = p.slice(0, end);
  out[end - 1]!++;
  return out;
}

function compareTest(op: LeafOp, c: number): boolean {
  switch (op) {
    case "EQUAL":
      return c === 0;
    case "NOT_EQUAL":
      return c !== 0;
    case "LESS_THAN":
      return c < 0;
    case "LESS_OR_EQUAL":
      return c <= 0;
    case "GREATER_THAN":
      return c > 0;
    default:
      return c >= 0;
  }
}

function stringTest(op: LeafOp, v: Uint8Array, p: Uint8Array): boolean {
  return op === "STARTS_WITH"
    ? startsWithBytes(v, p)
    : op === "ENDS_WITH"
      ? endsWithBytes(v, p)
      : containsBytes(v, p);
}

// ---- statistics ---------------------------------------------------------------------------------

function mayLeaf(
  p: LeafPredicate,
  s: ColumnStatistics | undefined,
  rowCount: number,
  negated: boolean,
): boolean {
  if (s === undefined) return true;
  const nonNull = rowCount - s.nullCount;
  if (p.op === "IS_NULL") return s.nullCount > 0;
  if (p.op === "IS_NOT_NULL") return nonNull > 0;
  if (nonNull <= 0) return false;
  const lits = p.literals;
  if (p.op === "NOT_IN" ? lits.includes(null) : p.op !== "IN" && lits[0] === null) return false;
  const present = lits.filter((v): v is ScalarValue => v !== null);
  if (present.length === 0) return false;
  if (s.min === null || s.max === null) return true;
  // Statistics decoded with another schema than the predicate's: nothing can be concluded.
  if (!isScalarOf(p.type, s.min) || !isScalarOf(p.type, s.max)) return true;
  const kind = keyKindOf(p.type);
  const min = keyOf(p.type, s.min);
  const max = keyOf(p.type, s.max);
  const keys = present.map((v) => keyOf(p.type, v));
  const cmp = (a: ScalarKey, b: ScalarKey): number => compareKeys(kind, a, b);
  const within = (k: ScalarKey): boolean => cmp(min, k) <= 0 && cmp(k, max) <= 0;
  // Every value equals k. Sound with truncated string bounds: a truncated min is below the value
  // it was cut from, a rounded-up max above its value, so min = max only when both are exact.
  const onlyValue = (k: ScalarKey): boolean => cmp(min, k) === 0 && cmp(max, k) === 0;
  if (negated) {
    // NOT STARTS_WITH / ENDS_WITH / CONTAINS (NOT has no leaf form for these).
    return !(
      p.op === "STARTS_WITH" &&
      startsWithBytes(min as Uint8Array, keys[0] as Uint8Array) &&
      startsWithBytes(max as Uint8Array, keys[0] as Uint8Array)
    );
  }
  switch (p.op) {
    case "EQUAL":
    case "IN":
      return keys.some(within);
    case "NOT_EQUAL":
    case "NOT_IN":
      return !keys.some(onlyValue);
    case "LESS_THAN":
    case "LESS_OR_EQUAL":
      return compareTest(p.op, cmp(min, keys[0]!));
    case "GREATER_THAN":
    case "GREATER_OR_EQUAL":
      return compareTest(p.op, cmp(max, keys[0]!));
    case "STARTS_WITH": {
      const prefix = keys[0] as Uint8Array;
      const upper = prefixUpperBound(prefix);
      return cmp(max, prefix) >= 0 && (upper === undefined || cmp(min, upper) < 0);
    }
    default:
      return true;
  }
}

function mayNnf(p: Predicate, stats: BatchStatistics, rowCount: number): boolean {
  switch (p.kind) {
    case "and":
      return p.children.every((c) => mayNnf(c, stats, rowCount));
    case "or":
      return p.children.some((c) => mayNnf(c, stats, rowCount));
    case "leaf":
      return mayLeaf(p, stats.columns[p.column], rowCount, false);
    case "not":
      return p.child.kind === "leaf" ? mayLeaf(p.child, stats.columns[p.child.column], rowCount, true) : true;
  }
}

/**
 * False only when `stats` (of a batch of `rowCount` records, decoded with the schema the
 * predicate was built against) prove that no row makes `predicate` TRUE.
 */
export function mayMatch(predicate: Predicate, stats: BatchStatistics, rowCount: number): boolean {
  if (rowCount <= 0) return false;
  return mayNnf(toNegationNormalForm(predicate), stats, rowCount);
}

// ---- rows of an Arrow batch ---------------------------------------------------------------------

class BatchContext {
  readonly rows: number;
  readonly #batch: RecordBatch;
  readonly #columns: readonly Column[];
  readonly #access = new Map<string, ColumnAccess>();

  constructor(batch: RecordBatch, columns: readonly Column[]) {
    if (batch.schema.fields.length !== columns.length) {
      throw new FlussError(
        Errors.INVALID_ARGUMENT,
        `batch has ${batch.schema.fields.length} columns, got ${columns.length}`,
      );
    }
    this.rows = batch.numRows;
    this.#batch = batch;
    this.#columns = columns;
  }

  access(p: LeafPredicate): ColumnAccess {
    let a = this.#access.get(p.name);
    if (a !== undefined) return a;
    const c = this.#columns.findIndex((col) => col.name === p.name);
    if (c < 0) {
      throw new FlussError(
        Errors.INVALID_ARGUMENT,
        `the predicate reads column '${p.name}', which the batch does not hold (include it in the projection)`,
      );
    }
    const t = this.#columns[c]!.type;
    if (typeToSql({ ...t, nullable: true }) !== typeToSql({ ...p.type, nullable: true })) {
      throw new FlussError(
        Errors.INVALID_ARGUMENT,
        `the predicate reads column '${p.name}' as ${typeToSql(p.type)}, the batch holds ${typeToSql(t)}`,
      );
    }
    a = columnAccess(this.#batch.data.children[c]!, t);
    this.#access.set(p.name, a);
    return a;
  }
}

function evalLeaf(p: LeafPredicate, ctx: BatchContext): Uint8Array {
  const n = ctx.rows;
  const out = new Uint8Array(n);
  const col = ctx.access(p);
  if (p.op === "IS_NULL" || p.op === "IS_NOT_NULL") {
    const whenNull = p.op === "IS_NULL" ? T : F;
    for (let i = 0; i < n; i++) out[i] = col.isNull(i) ? whenNull : T - whenNull;
    return out;
  }
  const present = p.literals.filter((v): v is ScalarValue => v !== null);
  const keys = present.map((v) => keyOf(p.type, v));
  const hasNull = present.length < p.literals.length;
  if (p.op === "IN" || p.op === "NOT_IN") {
    const [hit, miss] = p.op === "IN" ? [T, hasNull ? U : F] : [F, hasNull ? U : T];
    for (let i = 0; i < n; i++) {
      if (col.isNull(i)) out[i] = U;
      else out[i] = keys.some((k) => col.compareToKey(i, k) === 0) ? hit : miss;
    }
    return out;
  }
  if (hasNull) return out.fill(U);
  const key = keys[0]!;
  if (p.op === "STARTS_WITH" || p.op === "ENDS_WITH" || p.op === "CONTAINS") {
    for (let i = 0; i < n; i++)
      out[i] = col.isNull(i) ? U : stringTest(p.op, col.bytesAt(i), key as Uint8Array) ? T : F;
    return out;
  }
  for (let i = 0; i < n; i++)
    out[i] = col.isNull(i) ? U : compareTest(p.op, col.compareToKey(i, key)) ? T : F;
  return out;
}

function evalNode(p: Predicate, ctx: BatchContext): Uint8Array {
  switch (p.kind) {
    case "leaf":
      return evalLeaf(p, ctx);
    case "not": {
      const v = evalNode(p.child, ctx);
      for (let i = 0; i < v.length; i++) v[i] = T - v[i]!;
      return v;
    }
    case "and":
    case "or": {
      const isAnd = p.kind === "and";
      const out = new Uint8Array(ctx.rows).fill(isAnd ? T : F);
      for (const c of p.children) {
        const v = evalNode(c, ctx);
        for (let i = 0; i < v.length; i++)
          out[i] = isAnd ? Math.min(out[i]!, v[i]!) : Math.max(out[i]!, v[i]!);
      }
      return out;
    }
  }
}

/**
 * Indexes (ascending) of the rows of `batch` for which `predicate` is TRUE. `columns` are the
 * columns the batch holds (the schema's, or a projection that includes every column read).
 */
export function selectRows(
  batch: RecordBatch,
  columns: readonly Column[],
  predicate: Predicate,
): Uint32Array {
  const truth = evalNode(predicate, new BatchContext(batch, columns));
  let count = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === T) count++;
  const out = new Uint32Array(count);
  for (let i = 0, k = 0; i < truth.length; i++) if (truth[i] === T) out[k++] = i;
  return out;
}

export interface FilterResult {
  /** The selected rows (the input batch itself when every row is selected). */
  readonly batch: RecordBatch;
  /** Indexes of the selected rows in the input batch. */
  readonly selection: Uint32Array;
  /** The change types of the selected rows, when the input had change types. */
  readonly changeTypes?: Uint8Array;
}

/** The rows of `batch` (and of its change types, if given) for which `predicate` is TRUE. */
export function filterRecordBatch(
  batch: RecordBatch,
  columns: readonly Column[],
  predicate: Predicate,
  changeTypes?: Uint8Array | null,
): FilterResult {
  const selection = selectRows(batch, columns, predicate);
  const all = selection.length === batch.numRows;
  const out = all ? batch : takeRows(batch, selection);
  if (changeTypes === undefined || changeTypes === null) return { batch: out, selection };
  const types = all ? changeTypes : Uint8Array.from(selection, (i) => changeTypes[i]!);
  return { batch: out, selection, changeTypes: types };
}

// ---- one row of scalar values -------------------------------------------------------------------

function leafTruth(p: LeafPredicate, v: ScalarValue | null): Truth {
  if (p.op === "IS_NULL") return v === null ? T : F;
  if (p.op === "IS_NOT_NULL") return v === null ? F : T;
  if (v === null) return U;
  const kind = keyKindOf(p.type);
  const vk = keyOf(p.type, v);
  const lits = p.literals;
  if (p.op === "IN" || p.op === "NOT_IN") {
    const hit = lits.some((l) => l !== null && compareKeys(kind, vk, keyOf(p.type, l)) === 0);
    if (hit) return p.op === "IN" ? T : F;
    return lits.includes(null) ? U : p.op === "IN" ? F : T;
  }
  const lit = lits[0]!;
  if (lit === null) return U;
  const lk = keyOf(p.type, lit);
  if (kind === "bytes" && (p.op === "STARTS_WITH" || p.op === "ENDS_WITH" || p.op === "CONTAINS")) {
    return stringTest(p.op, vk as Uint8Array, lk as Uint8Array) ? T : F;
  }
  return compareTest(p.op, compareKeys(kind, vk, lk)) ? T : F;
}

function truthOf(p: Predicate, row: readonly (ScalarValue | null)[]): Truth {
  switch (p.kind) {
    case "leaf":
      return leafTruth(p, row[p.column] ?? null);
    case "not":
      return (T - truthOf(p.child, row)) as Truth;
    case "and":
      return p.children.reduce<Truth>((acc, c) => Math.min(acc, truthOf(c, row)) as Truth, T);
    case "or":
      return p.children.reduce<Truth>((acc, c) => Math.max(acc, truthOf(c, row)) as Truth, F);
  }
}

/**
 * The predicate on one row given as ScalarValues by schema column index (null = NULL): true,
 * false, or null for UNKNOWN.
 */
export function evaluatePredicate(
  predicate: Predicate,
  row: readonly (ScalarValue | null)[],
): boolean | null {
  const t = truthOf(predicate, row);
  return t === T ? true : t === F ? false : null;
}
