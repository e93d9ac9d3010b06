// Public surface of predicates: the model and builders (predicate.ts), the SQL-ish text form
// (parser.ts, format.ts), evaluation against batch statistics and Arrow batches (evaluate.ts),
// row selection (take.ts) and the Fluss wire form (proto.ts).
export {
  evaluatePredicate,
  type FilterResult,
  filterRecordBatch,
  mayMatch,
  selectRows,
} from "./evaluate.ts";
export { predicateToString, quoteColumnName } from "./format.ts";
export { parsePredicate } from "./parser.ts";
export {
  ALWAYS_FALSE,
  ALWAYS_TRUE,
  and,
  type ComparisonOp,
  type CompoundPredicate,
  checkLeaf,
  isComparisonOp,
  isStringOp,
  type LeafOp,
  type LeafPredicate,
  leaf,
  type NotPredicate,
  negate,
  not,
  or,
  type Predicate,
  predicateColumns,
  type StringOp,
  toNegationNormalForm,
} from "./predicate.ts";
export {
  PB_COMPOUND_AND,
  PB_COMPOUND_OR,
  PB_DATA_TYPE_ROOTS,
  PB_LEAF_FUNCTIONS,
  PB_PREDICATE_COMPOUND,
  PB_PREDICATE_LEAF,
  type PbCompoundPredicateShape,
  type PbLeafPredicateShape,
  type PbLiteralValueShape,
  type PbPredicateShape,
  predicateFromPb,
  predicateToPb,
} from "./proto.ts";
export { takeRows } from "./take.ts";
