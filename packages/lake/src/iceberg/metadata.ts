// Iceberg table metadata (format v2) as fluss-ts writes and reads it: the JSON shapes of
// `vN.metadata.json` (schemas, partition specs, sort orders, snapshots, refs, logs) and pure
// functions that build the first version and derive the next one from a new snapshot.
// Invariants: a snapshot's sequence number is the table's last-sequence-number + 1; the `main`
// ref and current-snapshot-id always name the newest snapshot; field ids are stable: column i of
// the Fluss schema keeps id i + 1 for the life of the lake table, system columns follow.

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: string;
  doc?: string;
}

export interface IcebergSchema {
  type: "struct";
  "schema-id": number;
  "identifier-field-ids"?: number[];
  fields: IcebergField[];
}

export interface PartitionField {
  name: string;
  transform: string;
  "source-id": number;
  "field-id": number;
}

export interface PartitionSpec {
  "spec-id": number;
  fields: PartitionField[];
}

export interface SortOrder {
  "order-id": number;
  fields: Array<{ transform: string; "source-id": number; direction: "asc" | "desc"; "null-order": string }>;
}

export interface Snapshot {
  "snapshot-id": number;
  "parent-snapshot-id"?: number;
  "sequence-number": number;
  "timestamp-ms": number;
  "manifest-list": string;
  summary: Record<string, string> & { operation: string };
  "schema-id": number;
}

export interface TableMetadata {
  "format-version": 2;
  "table-uuid": string;
  location: string;
  "last-sequence-number": number;
  "last-updated-ms": number;
  "last-column-id": number;
  "current-schema-id": number;
  schemas: IcebergSchema[];
  "default-spec-id": number;
  "partition-specs": PartitionSpec[];
  "last-partition-id": number;
  "default-sort-order-id": number;
  "sort-orders": SortOrder[];
  properties: Record<string, string>;
  "current-snapshot-id": number;
  refs: Record<string, { "snapshot-id": number; type: "branch" | "tag" }>;
  snapshots: Snapshot[];
  statistics: unknown[];
  "snapshot-log": Array<{ "timestamp-ms": number; "snapshot-id": number }>;
  "metadata-log": Array<{ "timestamp-ms": number; "metadata-file": string }>;
}

/** Snapshots kept in the metadata's snapshot log and metadata log (older ones drop off the logs only). */
export const METADATA_LOG_ENTRIES_MAX = 100;

export function newTableMetadata(o: {
  uuid: string;
  location: string;
  schema: IcebergSchema;
  spec: PartitionSpec;
  sortOrder: SortOrder;
  properties: Record<string, string>;
  nowMs: number;
}): TableMetadata {
  const lastColumnId = Math.max(...o.schema.fields.map((f) => f.id));
  const lastPartitionId = Math.max(999, ...o.spec.fields.map((f) => f["field-id"]));
  return {
    "format-version": 2,
    "table-uuid": o.uuid,
    location: o.location,
    "last-sequence-number": 0,
    "last-updated-ms": o.nowMs,
    "last-column-id": lastColumnId,
    "current-schema-id": o.schema["schema-id"],
    schemas: [o.schema],
    "default-spec-id": o.spec["spec-id"],
    "partition-specs": [o.spec],
    "last-partition-id": lastPartitionId,
    "default-sort-order-id": o.sortOrder["order-id"],
    "sort-orders": [o.sortOrder],
    properties: o.properties,
    "current-snapshot-id": -1,
    refs: {},
    snapshots: [],
    statistics: [],
    "snapshot-log": [],
    "metadata-log": [],
  };
}

/** The next metadata version: `snap` becomes the current snapshot of `main`. */
export function withSnapshot(
  m: TableMetadata,
  snap: Snapshot,
  previousMetadataFile: string | null,
  snapshotsKeptMax: number,
): TableMetadata {
  if (snap["sequence-number"] !== m["last-sequence-number"] + 1) {
    throw new Error(
      `snapshot sequence number ${snap["sequence-number"]} does not follow ${m["last-sequence-number"]}`,
    );
  }
  const snapshots = [...m.snapshots, snap].slice(-snapshotsKeptMax);
  const metadataLog = previousMetadataFile
    ? [...m["metadata-log"], { "timestamp-ms": m["last-updated-ms"], "metadata-file": previousMetadataFile }]
    : m["metadata-log"];
  return {
    ...m,
    "last-sequence-number": snap["sequence-number"],
    "last-updated-ms": snap["timestamp-ms"],
    "current-snapshot-id": snap["snapshot-id"],
    refs: { ...m.refs, main: { "snapshot-id": snap["snapshot-id"], type: "branch" } },
    snapshots,
    "snapshot-log": [
      ...m["snapshot-log"].filter((e) => snapshots.some((s) => s["snapshot-id"] === e["snapshot-id"])),
      { "timestamp-ms": snap["timestamp-ms"], "snapshot-id": snap["snapshot-id"] },
    ].slice(-METADATA_LOG_ENTRIES_MAX),
    "metadata-log": metadataLog.slice(-METADATA_LOG_ENTRIES_MAX),
  };
}

export function currentSnapshot(m: TableMetadata): Snapshot | null {
  const id = m["current-snapshot-id"];
  if (id === -1 || id === undefined || id === null) return null;
  return m.snapshots.find((s) => s["snapshot-id"] === id) ?? null;
}

export function currentSchema(m: TableMetadata): IcebergSchema {
  const s = m.schemas.find((x) => x["schema-id"] === m["current-schema-id"]);
  if (!s) throw new Error(`metadata names schema ${m["current-schema-id"]} but does not hold it`);
  return s;
}

export function defaultSpec(m: TableMetadata): PartitionSpec {
  const s = m["partition-specs"].find((x) => x["spec-id"] === m["default-spec-id"]);
  if (!s) throw new Error(`metadata names partition spec ${m["default-spec-id"]} but does not hold it`);
  return s;
}
