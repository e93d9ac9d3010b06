// Zero-copy protobuf encoding of the data-path messages (ProduceLog and PutKv requests; FetchLog,
// Lookup, PrefixLookup, LimitScan and ScanKv responses). protobuf-es `toBinary` copies every
// `bytes` field into its growing buffer (and the result once more in `finish`); here the message
// becomes frame parts instead: small chunks holding the frame header room, tags, lengths and
// scalars, plus each large `bytes` value itself, by reference, so a 1 MiB record batch is never
// copied on its way to the socket (Fluss writes these fields zero-copy too).
//
// Invariants:
// - the bytes are IDENTICAL to protobuf-es `toBinary` for the same message (field order by number,
//   proto2 presence = own property not undefined, packed repeated ints, int64 as bigint, negative
//   int32 as 10-byte varints); test/fast-encode.test.ts checks this over random messages;
// - anything the encoder does not handle exactly (a schema outside `fastSchemas` or one with maps,
//   oneofs, groups or other scalar types; a value of an unexpected type or out of range; a
//   required field unset; unknown fields) makes it return undefined, and the caller falls back to
//   protobuf-es, which encodes the message or throws the error it always threw;
// - two passes: the first validates and sizes every nested message (lengths precede contents), the
//   second writes into one buffer allocated at its exact size; a `bytes` value longer than
//   `copyBytesMax` is referenced as its own part, shorter ones are copied (fewer tiny writes);
// - the encoder never mutates the messages it reads. Ownership rule: a referenced `bytes` value
//   goes to the socket as it is, so its memory must not change after the message is handed to
//   `RpcConnection.request` or returned by a handler, not even after the call settles (the bytes
//   may still sit in the socket's queue). Fresh buffers, or buffers never written again, only.

import type { DescField, DescMessage, MessageShape } from "@bufbuild/protobuf";
import { ScalarType, toBinary } from "@bufbuild/protobuf";
import { assert } from "@fluss-ts/common";
import type { FrameParts } from "./frame.ts";
import { bodyFrameParts } from "./frame.ts";
import {
  FetchLogResponseSchema,
  LimitScanResponseSchema,
  LookupResponseSchema,
  PrefixLookupResponseSchema,
  ProduceLogRequestSchema,
  PutKvRequestSchema,
  ScanKvResponseSchema,
} from "./gen/fluss/api_pb.ts";

/** The messages encoded here; every other message goes through protobuf-es `toBinary`. */
export const fastSchemas: ReadonlySet<DescMessage> = new Set<DescMessage>([
  ProduceLogRequestSchema,
  PutKvRequestSchema,
  FetchLogResponseSchema,
  LookupResponseSchema,
  PrefixLookupResponseSchema,
  LimitScanResponseSchema,
  ScanKvResponseSchema,
]);

// ---- plans: each message's fields in number order, classified once ------------------------------

const SINGULAR = 0; // scalar or enum, explicit presence
const MESSAGE = 1; // singular message
const LIST = 2; // repeated scalar, one tag per element
const PACKED = 3; // repeated numeric, one length-delimited run
const MESSAGE_LIST = 4; // repeated message

// google.protobuf.FeatureSet.FieldPresence
const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;

interface FieldPlan {
  readonly name: string;
  readonly kind: number;
  /** The scalar type (enums are INT32); unused for message kinds. */
  readonly scalar: ScalarType;
  /** The tag varint (field number and wire type). */
  readonly tag: number;
  readonly tagBytes: number;
  readonly required: boolean;
  readonly child: MessagePlan | undefined;
}

interface MessagePlan {
  readonly typeName: string;
  readonly fields: readonly FieldPlan[];
}

const supportedScalars: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT32,
  ScalarType.INT64,
  ScalarType.UINT32,
  ScalarType.BOOL,
  ScalarType.STRING,
  ScalarType.BYTES,
]);

const plans = new Map<DescMessage, MessagePlan | null>(); // null: not supported

function planOf(desc: DescMessage, compiling: Set<DescMessage> = new Set()): MessagePlan | undefined {
  const cached = plans.get(desc);
  if (cached !== undefined) return cached ?? undefined;
  if (compiling.has(desc)) return undefined; // recursive types are left to protobuf-es
  compiling.add(desc);
  const fields: FieldPlan[] = [];
  let ok = desc.oneofs.length === 0;
  for (const field of [...desc.fields].sort((a, b) => a.number - b.number)) {
    const plan = ok ? fieldPlan(field, compiling) : undefined;
    if (plan === undefined) {
      ok = false;
      break;
    }
    fields.push(plan);
  }
  compiling.delete(desc);
  const plan = ok ? { typeName: desc.typeName, fields } : undefined;
  plans.set(desc, plan ?? null);
  return plan;
}

function fieldPlan(field: DescField, compiling: Set<DescMessage>): FieldPlan | undefined {
  if (field.oneof !== undefined) return undefined;
  const make = (
    kind: number,
    wireType: number,
    scalar: ScalarType,
    child: MessagePlan | undefined,
  ): FieldPlan => {
    const tag = ((field.number << 3) | wireType) >>> 0;
    const required = field.presence === LEGACY_REQUIRED;
    return { name: field.localName, kind, scalar, tag, tagBytes: varint32Bytes(tag), required, child };
  };
  switch (field.fieldKind) {
    case "scalar":
    case "enum": {
      if (field.presence === IMPLICIT) return undefined;
      const scalar = field.fieldKind === "enum" ? ScalarType.INT32 : field.scalar;
      return supportedScalars.has(scalar) ? make(SINGULAR, wireTypeOf(scalar), scalar, undefined) : undefined;
    }
    case "message": {
      const plain = !field.delimitedEncoding && field.presence !== IMPLICIT && !isWrapped(field.message);
      const child = plain ? planOf(field.message, compiling) : undefined;
      return child && make(MESSAGE, 2, ScalarType.INT32, child);
    }
    case "list": {
      if (field.listKind === "message") {
        if (field.delimitedEncoding || isWrapped(field.message)) return undefined;
        const child = planOf(field.message, compiling);
        return child && make(MESSAGE_LIST, 2, ScalarType.INT32, child);
      }
      const scalar = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
      if (!supportedScalars.has(scalar)) return undefined;
      return field.packed
        ? make(PACKED, 2, scalar, undefined)
        : make(LIST, wireTypeOf(scalar), scalar, undefined);
    }
    default:
      return undefined; // maps
  }
}

/** Well-known types, which protobuf-es may store as something else than a message (wrappers, Struct). */
function isWrapped(desc: DescMessage): boolean {
  return desc.file.name.startsWith("google/protobuf/");
}

function wireTypeOf(scalar: ScalarType): number {
  return scalar === ScalarType.STRING || scalar === ScalarType.BYTES ? 2 : 0;
}

// ---- pass 1: validate and size ----------------------------------------------------------------

type Fields = Record<string, unknown>;

interface SizeState {
  /** Sizes of nested messages, packed runs and UTF-8 strings, in the order pass 2 meets them. */
  readonly sizes: number[];
  readonly copyBytesMax: number;
  /** Bytes of the values written by reference. */
  referencedBytes: number;
}

const int64Scratch = new DataView(new ArrayBuffer(8));

function varint32Bytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

function isInt32(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;
}

function isUint32(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function isInt64(v: unknown): v is bigint {
  return typeof v === "bigint" && BigInt.asIntN(64, v) === v;
}

/** Put an int64 into the scratch view, to read back as unsigned low and high 32-bit words. */
function loadInt64(v: bigint): void {
  int64Scratch.setBigInt64(0, v, true);
}

function int64VarintBytes(v: bigint): number {
  loadInt64(v);
  const hi = int64Scratch.getUint32(4, true);
  if (hi === 0) return varint32Bytes(int64Scratch.getUint32(0, true));
  return Math.ceil((64 - Math.clz32(hi)) / 7);
}

/** Bytes of a scalar value (with its length prefix for string and bytes), or -1 when invalid. */
function sizeScalar(scalar: ScalarType, v: unknown, st: SizeState): number {
  switch (scalar) {
    case ScalarType.INT32:
      return isInt32(v) ? (v < 0 ? 10 : varint32Bytes(v)) : -1;
    case ScalarType.UINT32:
      return isUint32(v) ? varint32Bytes(v) : -1;
    case ScalarType.INT64:
      return isInt64(v) ? int64VarintBytes(v) : -1;
    case ScalarType.BOOL:
      return typeof v === "boolean" ? 1 : -1;
    case ScalarType.STRING: {
      if (typeof v !== "string") return -1;
      const n = Buffer.byteLength(v, "utf8");
      st.sizes.push(n);
      return varint32Bytes(n) + n;
    }
    case ScalarType.BYTES: {
      if (!(v instanceof Uint8Array)) return -1;
      const n = v.byteLength;
      if (n > st.copyBytesMax) st.referencedBytes += n;
      return varint32Bytes(n) + n;
    }
    default:
      return -1;
  }
}

/** Body bytes of `msg`, or -1 when the message must go through protobuf-es. */
function sizeMessage(plan: MessagePlan, value: unknown, st: SizeState): number {
  if (typeof value !== "object" || value === null) return -1;
  const msg = value as Fields;
  if (msg.$typeName !== plan.typeName) return -1;
  const unknown = msg.$unknown;
  if (unknown !== undefined && (!Array.isArray(unknown) || unknown.length > 0)) return -1;
  let total = 0;
  for (const f of plan.fields) {
    const v = msg[f.name];
    if (f.kind === SINGULAR || f.kind === MESSAGE) {
      if (v === undefined || !Object.hasOwn(msg, f.name)) {
        if (f.required) return -1;
        continue;
      }
      if (f.kind === SINGULAR) {
        const n = sizeScalar(f.scalar, v, st);
        if (n < 0) return -1;
        total += f.tagBytes + n;
      } else {
        const n = sizeNested(f.child!, v, st);
        if (n < 0) return -1;
        total += f.tagBytes + n;
      }
      continue;
    }
    if (!Array.isArray(v)) return -1;
    if (f.kind === MESSAGE_LIST) {
      for (const item of v) {
        const n = sizeNested(f.child!, item, st);
        if (n < 0) return -1;
        total += f.tagBytes + n;
      }
    } else if (f.kind === LIST) {
      for (const item of v) {
        const n = sizeScalar(f.scalar, item, st);
        if (n < 0) return -1;
        total += f.tagBytes + n;
      }
    } else if (v.length > 0) {
      // PACKED: numeric scalars only, so sizeScalar pushes nothing to `sizes`
      const slot = st.sizes.push(0) - 1;
      let run = 0;
      for (const item of v) {
        const n = sizeScalar(f.scalar, item, st);
        if (n < 0) return -1;
        run += n;
      }
      st.sizes[slot] = run;
      total += f.tagBytes + varint32Bytes(run) + run;
    }
  }
  return total;
}

/** A nested message with its length prefix; its body size is recorded for pass 2. */
function sizeNested(plan: MessagePlan, value: unknown, st: SizeState): number {
  const slot = st.sizes.push(0) - 1;
  const n = sizeMessage(plan, value, st);
  if (n < 0) return -1;
  st.sizes[slot] = n;
  return varint32Bytes(n) + n;
}

// ---- pass 2: write ------------------------------------------------------------------------------

interface WriteState {
  readonly buf: Buffer;
  pos: number;
  /** Start in `buf` of the part not yet cut off. */
  partStart: number;
  readonly parts: Uint8Array[];
  readonly sizes: readonly number[];
  next: number;
  readonly copyBytesMax: number;
}

function writeVarint32(st: WriteState, v: number): void {
  const buf = st.buf;
  let pos = st.pos;
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  st.pos = pos;
}

/** A 64-bit varint from unsigned 32-bit words. */
function writeVarint64(st: WriteState, lo: number, hi: number): void {
  const buf = st.buf;
  let pos = st.pos;
  while (hi !== 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  st.pos = pos;
}

function writeScalar(st: WriteState, scalar: ScalarType, v: unknown): void {
  switch (scalar) {
    case ScalarType.INT32: {
      const n = v as number;
      if (n >= 0) writeVarint32(st, n);
      else writeVarint64(st, n >>> 0, 0xffffffff); // sign-extended to 64 bits: 10 bytes
      return;
    }
    case ScalarType.UINT32:
      writeVarint32(st, v as number);
      return;
    case ScalarType.INT64:
      loadInt64(v as bigint);
      writeVarint64(st, int64Scratch.getUint32(0, true), int64Scratch.getUint32(4, true));
      return;
    case ScalarType.BOOL:
      st.buf[st.pos++] = v ? 1 : 0;
      return;
    case ScalarType.STRING: {
      const n = st.sizes[st.next++]!;
      writeVarint32(st, n);
      if (n > 0) st.buf.write(v as string, st.pos, n, "utf8");
      st.pos += n;
      return;
    }
    case ScalarType.BYTES: {
      const bytes = v as Uint8Array;
      const n = bytes.byteLength;
      writeVarint32(st, n);
      if (n <= st.copyBytesMax) {
        st.buf.set(bytes, st.pos);
        st.pos += n;
        return;
      }
      st.parts.push(st.buf.subarray(st.partStart, st.pos), bytes);
      st.partStart = st.pos;
      return;
    }
  }
}

function writeMessage(st: WriteState, plan: MessagePlan, msg: Fields): void {
  for (const f of plan.fields) {
    const v = msg[f.name];
    switch (f.kind) {
      case SINGULAR:
        if (v === undefined || !Object.hasOwn(msg, f.name)) break;
        writeVarint32(st, f.tag);
        writeScalar(st, f.scalar, v);
        break;
      case MESSAGE:
        if (v === undefined || !Object.hasOwn(msg, f.name)) break;
        writeVarint32(st, f.tag);
        writeNested(st, f.child!, v as Fields);
        break;
      case LIST:
        for (const item of v as unknown[]) {
          writeVarint32(st, f.tag);
          writeScalar(st, f.scalar, item);
        }
        break;
      case PACKED: {
        const items = v as unknown[];
        if (items.length === 0) break;
        writeVarint32(st, f.tag);
        writeVarint32(st, st.sizes[st.next++]!);
        for (const item of items) writeScalar(st, f.scalar, item);
        break;
      }
      case MESSAGE_LIST:
        for (const item of v as Fields[]) {
          writeVarint32(st, f.tag);
          writeNested(st, f.child!, item);
        }
        break;
    }
  }
}

function writeNested(st: WriteState, plan: MessagePlan, msg: Fields): void {
  writeVarint32(st, st.sizes[st.next++]!);
  writeMessage(st, plan, msg);
}

// ---- entry ------------------------------------------------------------------------------------

/**
 * Encode `message` (a message of `schema`, as `create` returns it) as frame parts whose first part
 * starts with `headerBytes` bytes left for the frame header. Bytes values longer than
 * `copyBytesMax` are parts of their own (not copied). Returns undefined when the schema is not in
 * `fastSchemas` or the message needs protobuf-es (see the invariants above); never throws for a
 * bad message
 * (an AssertionError means the two passes disagreed: a bug).
 */
export function fastEncodeParts(
  schema: DescMessage,
  message: object,
  headerBytes: number,
  copyBytesMax: number,
): FrameParts | undefined {
  if (!fastSchemas.has(schema)) return undefined;
  const plan = planOf(schema);
  if (plan === undefined) return undefined;
  const sized: SizeState = { sizes: [], copyBytesMax, referencedBytes: 0 };
  const bodyBytes = sizeMessage(plan, message, sized);
  if (bodyBytes < 0) return undefined;
  const st: WriteState = {
    buf: Buffer.allocUnsafe(headerBytes + bodyBytes - sized.referencedBytes),
    pos: headerBytes,
    partStart: 0,
    parts: [],
    sizes: sized.sizes,
    next: 0,
    copyBytesMax,
  };
  writeMessage(st, plan, message as Fields);
  assert(
    st.pos === st.buf.byteLength && st.next === st.sizes.length,
    `fast encoding of ${schema.typeName} wrote ${st.pos} of ${st.buf.byteLength} bytes`,
  );
  if (st.pos > st.partStart || st.parts.length === 0) st.parts.push(st.buf.subarray(st.partStart, st.pos));
  return { parts: st.parts, bodyBytes, headerBytes };
}

/** True when `schema` is encoded by `fastEncodeParts` (its plan compiles). */
export function hasFastEncoder(schema: DescMessage): boolean {
  return fastSchemas.has(schema) && planOf(schema) !== undefined;
}

/**
 * A message as frame parts (header room first): zero-copy through `fastEncodeParts` when it
 * can, else `toBinary` (whose errors propagate) with a body over `copyBytesMax` as its own part.
 */
export function encodeMessageParts<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  headerBytes: number,
  copyBytesMax: number,
): FrameParts {
  return (
    fastEncodeParts(schema, message, headerBytes, copyBytesMax) ??
    bodyFrameParts(toBinary(schema, message), headerBytes, copyBytesMax)
  );
}
