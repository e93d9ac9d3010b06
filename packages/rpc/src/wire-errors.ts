// What a server sends for a failure, and how loudly it logs it. Invariants:
// - only Fluss wire codes leave a server (`isWireCode`: -1 up to 9999); fluss-ts client-side kinds
//   (>= 10000) are mapped first: INVALID_ARGUMENT and SCHEMA_MISMATCH (the request was wrong) to the
//   Fluss kind that says so for the API at hand (`invalidRequestKindOf`), PROTOCOL_ERROR to
//   CORRUPT_MESSAGE, CLIENT_CLOSED and ABORTED (the server gave up) to UNKNOWN_SERVER_ERROR;
// - a failed assertion is never mapped: `servedErrorOf` throws it back (the caller crashes);
// - the encoder checks every `error_code` field of a response (`assertWireCodes`) and the code of
//   every error frame (frame.ts): a client-side code there is a bug, i.e. an assertion failure;
// - client mistakes log at warn, answers about state (not found, already exists) and retriable
//   conditions at debug, server faults (unknown failures, storage) at error.

import type { DescMessage } from "@bufbuild/protobuf";
import {
  assert,
  type ErrorKind,
  Errors,
  FlussError,
  isAssertionError,
  isFlussError,
  isWireCode,
} from "@fluss-ts/common";
import type { ApiDef } from "./api-keys.ts";
import { ApiKeys } from "./api-keys.ts";
import { errorMessageCharsMax } from "./constants.ts";

export type ErrorLogLevel = "debug" | "warn" | "error";

/** A failure as a server answers it: a Fluss wire kind, the message to send, the log level. */
export interface ServedError {
  readonly kind: ErrorKind;
  /** Undefined when the kind's own message says it all (Fluss then shows its default text). */
  readonly message: string | undefined;
  readonly level: ErrorLogLevel;
  /** The failure as thrown, for the log. */
  readonly cause: unknown;
}

/** Per API, the Fluss kind that tells a client its request was invalid (client-side kinds cannot travel). */
const invalidRequestKinds: ReadonlyMap<number, ErrorKind> = new Map<number, ErrorKind>([
  [ApiKeys.CREATE_DATABASE.key, Errors.INVALID_DATABASE_EXCEPTION],
  [ApiKeys.DROP_DATABASE.key, Errors.INVALID_DATABASE_EXCEPTION],
  [ApiKeys.DATABASE_EXISTS.key, Errors.INVALID_DATABASE_EXCEPTION],
  [ApiKeys.GET_DATABASE_INFO.key, Errors.INVALID_DATABASE_EXCEPTION],
  [ApiKeys.LIST_TABLES.key, Errors.INVALID_DATABASE_EXCEPTION],
  [ApiKeys.CREATE_TABLE.key, Errors.INVALID_TABLE_EXCEPTION],
  [ApiKeys.DROP_TABLE.key, Errors.INVALID_TABLE_EXCEPTION],
  [ApiKeys.GET_TABLE_INFO.key, Errors.INVALID_TABLE_EXCEPTION],
  [ApiKeys.TABLE_EXISTS.key, Errors.INVALID_TABLE_EXCEPTION],
  [ApiKeys.GET_TABLE_SCHEMA.key, Errors.INVALID_TABLE_EXCEPTION],
  [ApiKeys.CREATE_PARTITION.key, Errors.PARTITION_SPEC_INVALID_EXCEPTION],
  [ApiKeys.DROP_PARTITION.key, Errors.PARTITION_SPEC_INVALID_EXCEPTION],
  [ApiKeys.LIST_PARTITION_INFOS.key, Errors.PARTITION_SPEC_INVALID_EXCEPTION],
  [ApiKeys.FETCH_LOG.key, Errors.INVALID_SCAN_REQUEST],
  [ApiKeys.LIMIT_SCAN.key, Errors.INVALID_SCAN_REQUEST],
  [ApiKeys.SCAN_KV.key, Errors.INVALID_SCAN_REQUEST],
]);

/**
 * The Fluss kind for "this request is invalid" on `api`. Fluss has no generic invalid-request code
 * (its server answers an IllegalArgumentException with UNKNOWN_SERVER_ERROR, which blames the
 * server): APIs about a database, table, partition or scan use the matching INVALID_* kind, the
 * rest INVALID_CONFIG_EXCEPTION (non-retriable, the caller's input is wrong).
 */
export function invalidRequestKindOf(api: ApiDef | undefined): ErrorKind {
  return (api && invalidRequestKinds.get(api.key)) ?? Errors.INVALID_CONFIG_EXCEPTION;
}

/** Kinds that answer a question about state; not worth more than a debug line. */
const stateAnswers: ReadonlySet<number> = new Set(
  [
    Errors.DATABASE_NOT_EXIST,
    Errors.DATABASE_NOT_EMPTY,
    Errors.DATABASE_ALREADY_EXIST,
    Errors.TABLE_NOT_EXIST,
    Errors.TABLE_ALREADY_EXIST,
    Errors.PARTITION_NOT_EXISTS,
    Errors.PARTITION_ALREADY_EXISTS,
    Errors.KV_SNAPSHOT_NOT_EXIST,
    Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION,
    Errors.TABLE_NOT_PARTITIONED_EXCEPTION,
    Errors.DUPLICATE_SEQUENCE_EXCEPTION,
    Errors.SCANNER_EXPIRED,
    Errors.UNKNOWN_SCANNER_ID,
  ].map((k) => k.code),
);

/** Kinds that mean this server failed, not the request. */
const serverFaults: ReadonlySet<number> = new Set(
  [
    Errors.UNKNOWN_SERVER_ERROR,
    Errors.LOG_STORAGE_EXCEPTION,
    Errors.KV_STORAGE_EXCEPTION,
    Errors.STORAGE_EXCEPTION,
  ].map((k) => k.code),
);

/** How loudly a server logs a failure of this (wire) kind. */
export function logLevelOf(kind: ErrorKind): ErrorLogLevel {
  if (serverFaults.has(kind.code)) return "error";
  if (kind.retriable || stateAnswers.has(kind.code)) return "debug";
  return "warn";
}

function cut(text: string): string {
  return text.length > errorMessageCharsMax ? text.slice(0, errorMessageCharsMax) : text;
}

/** The wire kind for a client-side kind thrown on a server. */
function wireKindOf(kind: ErrorKind, api: ApiDef | undefined): ErrorKind {
  if (isWireCode(kind.code)) return kind;
  if (kind.code === Errors.INVALID_ARGUMENT.code || kind.code === Errors.SCHEMA_MISMATCH.code) {
    return invalidRequestKindOf(api);
  }
  if (kind.code === Errors.PROTOCOL_ERROR.code) return Errors.CORRUPT_MESSAGE;
  return Errors.UNKNOWN_SERVER_ERROR;
}

/**
 * How a server answers `err`, thrown while handling a request of `api`. Throws `err` back when it
 * is a failed assertion: a broken invariant is a crash, never an answer.
 */
export function servedErrorOf(err: unknown, api: ApiDef | undefined): ServedError {
  if (isAssertionError(err)) throw err;
  if (!isFlussError(err)) {
    const text = err instanceof Error ? err.message : String(err);
    return { kind: Errors.UNKNOWN_SERVER_ERROR, message: cut(text), level: "error", cause: err };
  }
  const kind = wireKindOf(err.kind, api);
  const clientOnly = kind !== err.kind;
  const message = clientOnly
    ? cut(`${err.kind.name}: ${err.message}`)
    : err.message === err.kind.message
      ? undefined
      : cut(err.message);
  return { kind, message, level: logLevelOf(kind), cause: err };
}

/** `servedErrorOf` as a FlussError of the wire kind (for per-bucket results). */
export function servedFlussError(err: unknown, api: ApiDef | undefined): FlussError {
  if (isFlussError(err) && isWireCode(err.code)) return err;
  const served = servedErrorOf(err, api);
  return new FlussError(served.kind, served.message ?? served.kind.message, { cause: err });
}

// ---- the guard at the encoder ------------------------------------------------------------------

/** Paths to `error_code` fields, per message schema (empty: nothing to check). */
interface CodePlan {
  readonly codeFields: readonly string[];
  readonly children: ReadonlyArray<{
    readonly name: string;
    readonly list: boolean;
    readonly plan: CodePlan;
  }>;
}

const plans = new Map<DescMessage, CodePlan>();
const EMPTY_PLAN: CodePlan = { codeFields: [], children: [] };

function planOf(desc: DescMessage, visiting = new Set<DescMessage>()): CodePlan {
  const known = plans.get(desc);
  if (known) return known;
  if (visiting.has(desc)) return EMPTY_PLAN; // recursive messages: Fluss's responses have none with codes
  visiting.add(desc);
  const codeFields: string[] = [];
  const children: Array<{ name: string; list: boolean; plan: CodePlan }> = [];
  for (const f of desc.fields) {
    if (f.fieldKind === "scalar" && f.name === "error_code") codeFields.push(f.localName);
    const child = f.fieldKind === "message" || f.fieldKind === "list" ? f.message : undefined;
    if (child === undefined) continue;
    const plan = planOf(child, visiting);
    if (plan.codeFields.length > 0 || plan.children.length > 0) {
      children.push({ name: f.localName, list: f.fieldKind === "list", plan });
    }
  }
  visiting.delete(desc);
  const plan = codeFields.length === 0 && children.length === 0 ? EMPTY_PLAN : { codeFields, children };
  plans.set(desc, plan);
  return plan;
}

function check(plan: CodePlan, msg: Record<string, unknown>, where: string): void {
  for (const name of plan.codeFields) {
    const code = msg[name];
    if (code === undefined) continue;
    assert(
      typeof code === "number" && isWireCode(code),
      `${where}.${name} ${String(code)} is not a Fluss wire code`,
    );
  }
  for (const c of plan.children) {
    const value = msg[c.name];
    if (value === undefined || value === null) continue;
    if (c.list)
      for (const item of value as Array<Record<string, unknown>>) check(c.plan, item, `${where}.${c.name}[]`);
    else check(c.plan, value as Record<string, unknown>, `${where}.${c.name}`);
  }
}

/** Assert that every `error_code` in a message about to be encoded is a Fluss wire code. */
export function assertWireCodes(desc: DescMessage, msg: object): void {
  const plan = planOf(desc);
  if (plan === EMPTY_PLAN) return;
  check(plan, msg as Record<string, unknown>, desc.name);
}
