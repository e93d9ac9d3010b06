// Column projection of Arrow IPC record-batch messages at the buffer level, as the server runs it
// on every projected fetch: read the flatbuffer metadata, keep the field nodes and body buffers of
// the selected columns (in the requested order), write new metadata with rebased buffer offsets
// and copy only those buffers' bytes. Compressed buffers are moved as they are and the
// BodyCompression entry is kept, so nothing is decompressed and no value is looked at.
// A ProjectionPlan precomputes, for (schema, projected columns), which source node and buffer
// indexes to take; plans are cached per schema object, so repeated projections are cheap.
// Invariants: a message whose node or buffer count does not match the plan's schema is refused
// (CORRUPT_RECORD_EXCEPTION); output buffers are 8-byte aligned and zero-padded.
// Note: Fluss servers require projected indexes in ascending order and the client reorders;
// this implementation accepts any order without duplicates.

import type { Schema as ArrowSchema } from "apache-arrow";
import { Errors, FlussError } from "../errors.ts";
import type { Column, Schema } from "../schema.ts";
import { bufferCountOf, checkProjection, toArrowSchema } from "./arrow-types.ts";
import { concatParts, type MessageParts, pad8 } from "./ipc.ts";
import {
  type MessageLayout,
  messageHeaderSize,
  readI64,
  readMessageLayout,
  writeMessageHeader,
} from "./ipc-metadata.ts";

const ZEROS = new Uint8Array(8);

export interface ProjectionPlan {
  readonly schema: Schema;
  readonly projected: readonly number[];
  /** The projected columns, in projection order: what a projected batch holds. */
  readonly columns: readonly Column[];
  /** Arrow schema of the projected columns (for decoding projected messages). */
  readonly arrowSchema: ArrowSchema;
  /** Field nodes and buffers of a full message of `schema`. */
  readonly totalNodes: number;
  readonly totalBuffers: number;
  /** Source field node index per output node. */
  readonly nodeIndexes: Int32Array;
  /** Source buffer index per output buffer. */
  readonly bufferIndexes: Int32Array;
}

const plans = new WeakMap<Schema, Map<string, ProjectionPlan>>();

function buildPlan(schema: Schema, projected: readonly number[]): ProjectionPlan {
  checkProjection(schema, projected);
  const firstBuffer: number[] = [];
  let totalBuffers = 0;
  for (const c of schema.columns) {
    firstBuffer.push(totalBuffers);
    totalBuffers += bufferCountOf(c.type);
  }
  const bufferIndexes: number[] = [];
  for (const col of projected) {
    const count = bufferCountOf(schema.columns[col]!.type);
    for (let b = 0; b < count; b++) bufferIndexes.push(firstBuffer[col]! + b);
  }
  return {
    schema,
    projected: [...projected],
    columns: projected.map((i) => schema.columns[i]!),
    arrowSchema: toArrowSchema(schema, projected),
    totalNodes: schema.columns.length,
    totalBuffers,
    nodeIndexes: Int32Array.from(projected),
    bufferIndexes: Int32Array.from(bufferIndexes),
  };
}

/**
 * The plan for projecting messages of `schema` to the columns at `projected` (indexes into
 * schema.columns, output in this order). Cached per schema object. Throws
 * INVALID_COLUMN_PROJECTION for an empty projection, an index out of range or a repeated index.
 */
export function createProjectionPlan(schema: Schema, projected: readonly number[]): ProjectionPlan {
  let perSchema = plans.get(schema);
  if (perSchema === undefined) {
    perSchema = new Map();
    plans.set(schema, perSchema);
  }
  const key = projected.join(",");
  let plan = perSchema.get(key);
  if (plan === undefined) {
    plan = buildPlan(schema, projected);
    perSchema.set(key, plan);
  }
  return plan;
}

/** Project one record-batch message (the whole of `message`) into parts, without copying bodies. */
export function projectMessageParts(message: Uint8Array, plan: ProjectionPlan): MessageParts {
  const layout = readMessageLayout(message);
  return projectWithBody(message, layout, plan, (offset, length) =>
    message.subarray(layout.bodyStart + offset, layout.bodyStart + offset + length),
  );
}

/**
 * Project a message whose metadata is in `meta` (from its start; the body may be absent) and whose
 * selected body buffers `body(position, length)` supplies, positions counted from the message
 * start — so a reader fetches only those bytes. Null when `meta` does not hold the whole metadata.
 */
export function projectMessageFromMetadata(
  meta: Uint8Array,
  plan: ProjectionPlan,
  body: (offset: number, length: number) => Uint8Array,
): MessageParts | null {
  let layout: MessageLayout;
  try {
    layout = readMessageLayout(meta, 0, false);
  } catch {
    return null;
  }
  return projectWithBody(meta, layout, plan, (offset, length) => body(layout.bodyStart + offset, length));
}

function projectWithBody(
  message: Uint8Array,
  layout: MessageLayout,
  plan: ProjectionPlan,
  bodyAt: (offset: number, length: number) => Uint8Array,
): MessageParts {
  if (layout.nodeCount !== plan.totalNodes || layout.bufferCount !== plan.totalBuffers) {
    throw new FlussError(
      Errors.CORRUPT_RECORD_EXCEPTION,
      `Arrow message has ${layout.nodeCount} fields / ${layout.bufferCount} buffers, ` +
        `schema expects ${plan.totalNodes} / ${plan.totalBuffers}`,
    );
  }
  const dv = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const nodeCount = plan.nodeIndexes.length;
  const nodeLengths = new Array<number>(nodeCount);
  const nodeNullCounts = new Array<number>(nodeCount);
  for (let i = 0; i < nodeCount; i++) {
    const at = layout.nodesPos + 16 * plan.nodeIndexes[i]!;
    nodeLengths[i] = readI64(dv, at);
    nodeNullCounts[i] = readI64(dv, at + 8);
  }
  const bufferCount = plan.bufferIndexes.length;
  const offsets = new Array<number>(bufferCount);
  const lengths = new Array<number>(bufferCount);
  const body: Uint8Array[] = [];
  let bodyLength = 0;
  for (let i = 0; i < bufferCount; i++) {
    const at = layout.buffersPos + 16 * plan.bufferIndexes[i]!;
    const srcOffset = readI64(dv, at);
    const length = readI64(dv, at + 8);
    if (srcOffset + length > layout.bodyLength) {
      throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, "Arrow buffer exceeds the message body");
    }
    offsets[i] = bodyLength;
    lengths[i] = length;
    if (length > 0) body.push(bodyAt(srcOffset, length));
    const padded = pad8(length);
    if (padded > length) body.push(ZEROS.subarray(0, padded - length));
    bodyLength += padded;
  }
  const compressed = layout.compression !== "NONE";
  const header = new Uint8Array(messageHeaderSize(nodeCount, bufferCount, compressed));
  writeMessageHeader(header, 0, {
    rowCount: layout.rowCount,
    nodeLengths,
    nodeNullCounts,
    bufferOffsets: offsets,
    bufferLengths: lengths,
    compression: layout.compression,
    bodyLength,
  });
  return { parts: [header, ...body], byteLength: header.byteLength + bodyLength };
}

/** Project one message with a prepared plan. */
export function applyProjectionPlan(message: Uint8Array, plan: ProjectionPlan): Uint8Array {
  return concatParts(projectMessageParts(message, plan));
}

/**
 * A new IPC record-batch message holding only the columns at `projected` (indexes into
 * schema.columns), in that order. Buffer-level: compressed buffers stay compressed.
 */
export function projectRecordBatchMessage(
  message: Uint8Array,
  schema: Schema,
  projected: readonly number[],
): Uint8Array {
  return applyProjectionPlan(message, createProjectionPlan(schema, projected));
}
