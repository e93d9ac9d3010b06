// KV test harness: a log tablet plus a KV tablet in a temp directory, KV batches built from rows,
// the changelog read back from the log (decoded independently of the tablet's own decoder), and
// lookups decoded to rows; a full disk injected at the lmdb seam of a store.

import {
  buildKvRecordBatch,
  ChangeType,
  type Clock,
  CompactedKeyEncoder,
  changeTypeName,
  decodeArrowLogBatch,
  decodeCompactedRow,
  decodeKvValue,
  encodeCompactedRow,
  encodeKey,
  NO_COMPRESSION,
  readRows,
  type Schema,
  splitBatches,
} from "@fluss-ts/common";
import {
  type IdAllocator,
  KvTablet,
  type KvTabletOptions,
  LogTablet,
  type PutResult,
  resolveKvOptions,
  type SnapshotTarget,
} from "../../src/index.ts";
import type { KvStore } from "../../src/kv/kv-store.ts";
import { TestClock, tempDir } from "../helpers.ts";

export type Values = readonly unknown[];

/** A record of a KV batch: a full row (upsert) or the key values of a delete. */
export type KvOp = { readonly upsert: Values } | { readonly delete: Values };

export function upsert(...values: unknown[]): KvOp {
  return { upsert: values };
}

export function del(...keyValues: unknown[]): KvOp {
  return { delete: keyValues };
}

export interface BatchOptions {
  readonly writerId?: bigint;
  readonly sequence?: number;
  readonly schemaId?: number;
}

export function kvBatch(schema: Schema, ops: readonly KvOp[], o: BatchOptions = {}): Uint8Array {
  const types = schema.columns.map((c) => c.type);
  const keyEncoder = new CompactedKeyEncoder(schema.columns, schema.primaryKey);
  const keyTypes = keyEncoder.keyTypes;
  const records = ops.map((op) =>
    "upsert" in op
      ? { key: keyEncoder.encode(op.upsert), row: encodeCompactedRow(types, op.upsert) }
      : { key: encodeKey(keyTypes, op.delete), row: null },
  );
  return buildKvRecordBatch({
    schemaId: o.schemaId ?? 1,
    records,
    writerId: o.writerId ?? -1n,
    batchSequence: o.sequence ?? -1,
  });
}

/** A changelog record as text: `+I(1, a, 10)`; an empty batch as `empty@<offset>`. */
function fmt(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString("hex")}`;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

export interface Harness {
  readonly dir: string;
  readonly logDir: string;
  readonly kvDir: string;
  readonly schema: Schema;
  readonly log: LogTablet;
  readonly kv: KvTablet;
  readonly clock: Clock;
  /** Put ops as one KV batch, then (unless hold) advance the HW to the log end. */
  put(
    ops: readonly KvOp[],
    o?: BatchOptions & { targets?: readonly number[]; hold?: boolean },
  ): Promise<PutResult>;
  putBytes(bytes: Uint8Array, targets?: readonly number[] | null): Promise<PutResult>;
  /** Move the HW to the log end (the KV tablet flushes) and wait for the store commit. */
  commit(): Promise<void>;
  /** Changelog records from `from` as text, e.g. ["+I(1, a)", "empty@3"]. */
  changelog(from?: bigint): Promise<string[]>;
  /** Looked-up rows (values by column) for rows given by key values. */
  get(...keyValues: unknown[]): unknown[] | null;
  /** Every stored row, in key order. */
  rows(): unknown[][];
  /** A stored value (i16 schema id + row) as a row. */
  decode(value: Uint8Array): unknown[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly schema: Schema;
  readonly properties?: Readonly<Record<string, string>>;
  readonly dir?: string;
  readonly idAllocator?: IdAllocator;
  readonly preWriteBufferBytesMax?: number;
  readonly snapshots?: SnapshotTarget;
  readonly flushMode?: "always" | "never";
  readonly storeCommitRetryMs?: number;
}

export function counterAllocator(start = 1n): IdAllocator & { readonly issued: bigint[] } {
  let next = start;
  const issued: bigint[] = [];
  return {
    issued,
    next() {
      issued.push(next);
      return next++;
    },
  };
}

export async function openHarness(o: HarnessOptions): Promise<Harness> {
  const dir = o.dir ?? (await tempDir("fluss-kv-"));
  const logDir = `${dir}/log`;
  const kvDir = `${dir}/kv`;
  const clock = new TestClock();
  const log = await LogTablet.open({
    dir: logDir,
    clock,
    config: { flush: { mode: o.flushMode ?? "never" } },
  });
  const options: KvTabletOptions = {
    dir: kvDir,
    log,
    schema: o.schema,
    schemaId: 1,
    options: resolveKvOptions(o.properties ?? {}),
    clock,
    idAllocator: o.idAllocator ?? null,
    preWriteBufferBytesMax: o.preWriteBufferBytesMax ?? 64 * 1024 * 1024,
    snapshots: o.snapshots ?? null,
    ...(o.storeCommitRetryMs === undefined ? {} : { storeCommitRetryMs: o.storeCommitRetryMs }),
  };
  let kv: KvTablet;
  try {
    kv = await KvTablet.open(options);
  } catch (err) {
    await log.close();
    throw err;
  }
  return makeHarness(o.schema, dir, logDir, kvDir, log, kv, clock);
}

function makeHarness(
  schema: Schema,
  dir: string,
  logDir: string,
  kvDir: string,
  log: LogTablet,
  kv: KvTablet,
  clock: Clock,
): Harness {
  const types = schema.columns.map((c) => c.type);
  const keyTypes = schema.primaryKey.map((k) => schema.columns.find((c) => c.name === k)!.type);
  const decodeValue = (v: Uint8Array): unknown[] =>
    decodeCompactedRow(types, decodeKvValue(v).row, { timestamps: "bigint" });
  const h: Harness = {
    dir,
    logDir,
    kvDir,
    schema,
    log,
    kv,
    clock,
    async put(ops, o = {}) {
      const r = await kv.putAsLeader(kvBatch(schema, ops, o), o.targets ?? null, {
        compression: NO_COMPRESSION,
      });
      if (!o.hold) await h.commit();
      return r;
    },
    putBytes: (bytes, targets = null) => kv.putAsLeader(bytes, targets, { compression: NO_COMPRESSION }),
    async commit() {
      log.updateHighWatermark(log.logEndOffset);
      await kv.committed();
    },
    async changelog(from = 0n) {
      const r = await log.read(from, 64 << 20, log.logEndOffset);
      const out: string[] = [];
      for (const s of splitBatches(r.records, { verifyCrc: true, allowPartialTail: false })) {
        const d = decodeArrowLogBatch(s.bytes, schema.columns, { verifyCrc: true });
        if (d.header.recordCount === 0) out.push(`empty@${d.header.baseOffset}`);
        const rows = readRows(d.recordBatch, schema.columns);
        rows.forEach((row, i) => {
          const ct = changeTypeName(d.changeTypes?.[i] ?? ChangeType.APPEND_ONLY);
          out.push(`${ct}(${schema.columns.map((c) => fmt(row[c.name])).join(", ")})`);
        });
      }
      return out;
    },
    get(...keyValues) {
      const [v] = kv.lookup([encodeKey(keyTypes, keyValues)]);
      return v === null || v === undefined ? null : decodeValue(v);
    },
    rows: () => [...kv.scan().values].map(decodeValue),
    decode: decodeValue,
    async close() {
      await kv.close();
      await log.close();
    },
  };
  return h;
}

/**
 * Fault injection at the lmdb seam: while `on`, every asynchronous commit (an lmdb block of data,
 * state and commit-chain version) fails the way lmdb reports a full disk: its promise rejects with
 * a `commitError` carrying errno 28, and nothing of it is written.
 */
export function injectDiskFull(store: KvStore): { on: boolean; attempts: number } {
  type Block = (key: Uint8Array, version: number, action: () => unknown) => Promise<boolean>;
  const chain = (store as unknown as { chain: { ifVersion: Block } }).chain;
  const ifVersion = chain.ifVersion.bind(chain);
  const state = { on: true, attempts: 0 };
  chain.ifVersion = (key, version, action) => {
    if (!state.on) return ifVersion(key, version, action);
    state.attempts++;
    const cause = Object.assign(new Error("No space left on device"), { code: 28 });
    const err = Object.assign(new Error("Commit failed (see commitError for details)"), {
      commitError: Promise.reject(cause),
    });
    return Promise.reject(err);
  };
  return state;
}

export async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The store a tablet currently uses (tests reach through for fault injection). */
export function storeOf(kv: KvTablet): KvStore {
  return (kv as unknown as { store: KvStore }).store;
}
