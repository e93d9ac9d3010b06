// Reading the metadata of data directories written before the per-entry store: one JSON document,
// `coordinator/metadata.json` (format version 1), that the old store rewrote whole on every change.
// The local store migrates it at its first open (local-metadata-store.ts) and keeps the file,
// renamed, next to the new store. Only reading lives here; nothing writes this format any more.

import { readFileSync } from "node:fs";
import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import type {
  BucketAssignment,
  BucketKey,
  DatabaseRegistration,
  LeaderAndIsr,
  PartitionRegistration,
  TableRegistration,
} from "./metadata-store.ts";

export const LEGACY_FILE_NAME = "metadata.json";
/** What a migrated document is renamed to (kept for the operator, never read again). */
export const LEGACY_MIGRATED_FILE_NAME = "metadata.json.migrated";
const LEGACY_VERSION = 1;

/** One table of the document with everything keyed by it. */
export interface LegacyTable {
  readonly reg: TableRegistration;
  readonly schemas: ReadonlyArray<readonly [number, string]>;
  readonly assignment: readonly BucketAssignment[];
  readonly partitions: ReadonlyArray<{
    readonly reg: PartitionRegistration;
    readonly assignment: readonly BucketAssignment[];
  }>;
}

export interface LegacyDocument {
  readonly counters: ReadonlyArray<readonly [string, bigint]>;
  readonly databases: readonly DatabaseRegistration[];
  readonly tables: readonly LegacyTable[];
  readonly leaders: ReadonlyArray<readonly [BucketKey, LeaderAndIsr]>;
}

/** The document as the old store wrote it (ids as decimal strings). */
interface Doc {
  version: number;
  counters: Record<string, string>;
  databases: DatabaseRegistration[];
  tables: Array<{
    reg: Omit<TableRegistration, "tableId"> & { tableId: string };
    schemas: Array<[number, string]>;
    assignment: BucketAssignment[];
    partitions: Array<{
      reg: Omit<PartitionRegistration, "tableId" | "partitionId"> & { partitionId: string };
      assignment: BucketAssignment[];
    }>;
  }>;
  leaders: Array<[string, LeaderAndIsr]>;
}

function corrupt(file: string, why: string): FlussError {
  return new FlussError(Errors.STORAGE_EXCEPTION, `metadata file ${file} cannot be migrated: ${why}`);
}

/** `<table id>/<partition id or ->/<bucket>`, the old store's leadership key. */
function parseBucketKey(file: string, text: string): BucketKey {
  const m = /^([0-9]+)\/([0-9]+|-)\/([0-9]+)$/.exec(text);
  if (m === null) throw corrupt(file, `bad leadership key '${text}'`);
  return { tableId: BigInt(m[1]!), partitionId: m[2] === "-" ? null : BigInt(m[2]!), bucket: Number(m[3]) };
}

/** The document at `file`, or null when there is none. */
export function readLegacyDocument(file: string): LegacyDocument | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new FlussError(Errors.STORAGE_EXCEPTION, `reading ${file} failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let doc: Doc;
  try {
    doc = JSON.parse(text) as Doc;
  } catch (err) {
    throw corrupt(file, (err as Error).message);
  }
  if (doc.version !== LEGACY_VERSION) throw corrupt(file, `version ${doc.version} is not supported`);
  try {
    return {
      counters: Object.entries(doc.counters).map(([k, v]) => [k, BigInt(v)] as const),
      databases: doc.databases,
      tables: doc.tables.map((t) => {
        const tableId = BigInt(t.reg.tableId);
        return {
          reg: { ...t.reg, tableId },
          schemas: t.schemas,
          assignment: t.assignment,
          partitions: t.partitions.map((p) => ({
            reg: { ...p.reg, tableId, partitionId: BigInt(p.reg.partitionId) },
            assignment: p.assignment,
          })),
        };
      }),
      leaders: doc.leaders.map(([k, v]) => [parseBucketKey(file, k), v] as const),
    };
  } catch (err) {
    if (isFlussError(err)) throw err;
    throw corrupt(file, (err as Error).message);
  }
}
