// Partition pruning: which partitions of a table a scan reads. A filter is either an exact spec
// (`{ dt: "20261126" }`, all keys or some) or a predicate over partition columns
// (`"dt >= '20261120' AND region IN ('EU', 'US')"`), evaluated on each partition's values — a
// partition is read only when the predicate is TRUE for it.

import {
  type DataType,
  Errors,
  evaluatePredicate,
  FlussError,
  type PartitionSpec,
  type Predicate,
  parsePredicate,
  predicateColumns,
  type ScalarValue,
  type TableInfo,
  toScalar,
} from "@fluss-ts/common";

export type PartitionFilter = string | Predicate | PartitionSpec;

/** A partition value (Fluss's text form) as the typed value predicates compare. */
function typedValue(type: DataType, text: string): unknown {
  switch (type.root) {
    case "STRING":
    case "CHAR":
    case "DATE":
      return text;
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
      return Number(text);
    case "BIGINT":
      return BigInt(text);
    case "BOOLEAN":
      return text === "true";
    default:
      throw new FlussError(
        Errors.INVALID_ARGUMENT,
        `partition filters on ${type.root} columns are not supported; filter by an exact partition spec instead`,
      );
  }
}

function isPredicate(f: PartitionFilter): f is Predicate {
  return (
    typeof f === "object" && f !== null && "kind" in f && typeof (f as { kind: unknown }).kind === "string"
  );
}

/** A test deciding, from a partition's spec, whether a scan reads it. */
export function partitionMatcher(
  info: TableInfo,
  filter: PartitionFilter | undefined,
): (spec: PartitionSpec) => boolean {
  if (filter === undefined) return () => true;
  const d = info.descriptor;
  if (d.partitionKeys.length === 0) {
    throw new FlussError(Errors.TABLE_NOT_PARTITIONED_EXCEPTION, `${info.path.table} is not partitioned`);
  }
  if (typeof filter !== "string" && !isPredicate(filter)) {
    for (const k of Object.keys(filter)) {
      if (!d.partitionKeys.includes(k)) {
        throw new FlussError(
          Errors.PARTITION_SPEC_INVALID_EXCEPTION,
          `'${k}' is not a partition key (${d.partitionKeys.join(", ")})`,
        );
      }
    }
    return (spec) => Object.entries(filter).every(([k, v]) => spec[k] === String(v));
  }
  const schema = d.schema;
  const predicate = typeof filter === "string" ? parsePredicate(filter, schema) : filter;
  for (const i of predicateColumns(predicate)) {
    const name = schema.columns[i]!.name;
    if (!d.partitionKeys.includes(name)) {
      throw new FlussError(
        Errors.INVALID_ARGUMENT,
        `a partition filter may only use partition keys (${d.partitionKeys.join(", ")}); '${name}' is not one (use the row filter)`,
      );
    }
  }
  return (spec) => {
    const row: (ScalarValue | null)[] = schema.columns.map((c) => {
      const text = spec[c.name];
      return text === undefined ? null : toScalar(c.type, typedValue(c.type, text));
    });
    return evaluatePredicate(predicate, row) === true;
  };
}
