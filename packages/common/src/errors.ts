// The one catalogue of error kinds. Every failure that crosses a module or process boundary is a
// FlussError carrying a stable numeric code. Codes >= -1 and < 1000 are Fluss's own wire codes (so a
// Fluss client reading our responses sees the same meaning); codes >= 10000 are fluss-ts client-side
// kinds that never travel on the wire. `retriable` follows Fluss's RetriableException hierarchy.
// Recognise errors with `isFlussError` (a brand), not `instanceof`: two copies of this module in
// one process would otherwise disagree.

const BRAND = Symbol.for("fluss-ts.error");

export interface ErrorKind {
  readonly code: number;
  readonly name: string;
  readonly retriable: boolean;
  readonly message: string;
}

function kind(code: number, name: string, retriable: boolean, message: string): ErrorKind {
  return { code, name, retriable, message };
}

/** The closed list of error kinds. Keys are stable; codes match Fluss `Errors` where one exists. */
export const Errors = {
  UNKNOWN_SERVER_ERROR: kind(-1, "UNKNOWN_SERVER_ERROR", false, "Unexpected server error."),
  NONE: kind(0, "NONE", false, "No error."),
  NETWORK_EXCEPTION: kind(1, "NETWORK_EXCEPTION", true, "The server disconnected or could not be reached."),
  UNSUPPORTED_VERSION: kind(2, "UNSUPPORTED_VERSION", false, "The API version is not supported."),
  CORRUPT_MESSAGE: kind(3, "CORRUPT_MESSAGE", true, "The message failed its checks or is malformed."),
  DATABASE_NOT_EXIST: kind(4, "DATABASE_NOT_EXIST", false, "The database does not exist."),
  DATABASE_NOT_EMPTY: kind(5, "DATABASE_NOT_EMPTY", false, "The database is not empty."),
  DATABASE_ALREADY_EXIST: kind(6, "DATABASE_ALREADY_EXIST", false, "The database already exists."),
  TABLE_NOT_EXIST: kind(7, "TABLE_NOT_EXIST", false, "The table does not exist."),
  TABLE_ALREADY_EXIST: kind(8, "TABLE_ALREADY_EXIST", false, "The table already exists."),
  SCHEMA_NOT_EXIST: kind(9, "SCHEMA_NOT_EXIST", true, "The schema does not exist."),
  LOG_STORAGE_EXCEPTION: kind(10, "LOG_STORAGE_EXCEPTION", false, "Log storage failed."),
  KV_STORAGE_EXCEPTION: kind(11, "KV_STORAGE_EXCEPTION", false, "KV storage failed."),
  NOT_LEADER_OR_FOLLOWER: kind(12, "NOT_LEADER_OR_FOLLOWER", true, "This server is not the leader."),
  RECORD_TOO_LARGE_EXCEPTION: kind(13, "RECORD_TOO_LARGE_EXCEPTION", false, "The record is too large."),
  CORRUPT_RECORD_EXCEPTION: kind(14, "CORRUPT_RECORD_EXCEPTION", true, "The record is corrupt."),
  INVALID_TABLE_EXCEPTION: kind(15, "INVALID_TABLE_EXCEPTION", false, "The table definition is invalid."),
  INVALID_DATABASE_EXCEPTION: kind(16, "INVALID_DATABASE_EXCEPTION", false, "The database name is invalid."),
  INVALID_REPLICATION_FACTOR: kind(17, "INVALID_REPLICATION_FACTOR", false, "Invalid replication factor."),
  INVALID_REQUIRED_ACKS: kind(18, "INVALID_REQUIRED_ACKS", false, "Invalid required acks."),
  LOG_OFFSET_OUT_OF_RANGE_EXCEPTION: kind(
    19,
    "LOG_OFFSET_OUT_OF_RANGE_EXCEPTION",
    false,
    "The fetch offset is outside the log.",
  ),
  NON_PRIMARY_KEY_TABLE_EXCEPTION: kind(
    20,
    "NON_PRIMARY_KEY_TABLE_EXCEPTION",
    false,
    "Not a primary-key table.",
  ),
  UNKNOWN_TABLE_OR_BUCKET_EXCEPTION: kind(
    21,
    "UNKNOWN_TABLE_OR_BUCKET_EXCEPTION",
    true,
    "This server hosts no such table or bucket.",
  ),
  INVALID_UPDATE_VERSION_EXCEPTION: kind(
    22,
    "INVALID_UPDATE_VERSION_EXCEPTION",
    false,
    "Invalid update version.",
  ),
  INVALID_COORDINATOR_EXCEPTION: kind(23, "INVALID_COORDINATOR_EXCEPTION", false, "Invalid coordinator."),
  FENCED_LEADER_EPOCH_EXCEPTION: kind(
    24,
    "FENCED_LEADER_EPOCH_EXCEPTION",
    false,
    "The leader epoch is fenced.",
  ),
  REQUEST_TIME_OUT: kind(25, "REQUEST_TIME_OUT", true, "The request timed out."),
  STORAGE_EXCEPTION: kind(26, "STORAGE_EXCEPTION", true, "Storage failed."),
  OPERATION_NOT_ATTEMPTED_EXCEPTION: kind(27, "OPERATION_NOT_ATTEMPTED_EXCEPTION", false, "Not attempted."),
  NOT_ENOUGH_REPLICAS_AFTER_APPEND_EXCEPTION: kind(
    28,
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND_EXCEPTION",
    true,
    "Appended, but too few replicas are in sync.",
  ),
  NOT_ENOUGH_REPLICAS_EXCEPTION: kind(29, "NOT_ENOUGH_REPLICAS_EXCEPTION", true, "Too few in-sync replicas."),
  SECURITY_TOKEN_EXCEPTION: kind(
    30,
    "SECURITY_TOKEN_EXCEPTION",
    false,
    "Getting a file access security token failed.",
  ),
  OUT_OF_ORDER_SEQUENCE_EXCEPTION: kind(
    31,
    "OUT_OF_ORDER_SEQUENCE_EXCEPTION",
    false,
    "The batch sequence is out of order.",
  ),
  DUPLICATE_SEQUENCE_EXCEPTION: kind(32, "DUPLICATE_SEQUENCE_EXCEPTION", false, "The batch is a duplicate."),
  UNKNOWN_WRITER_ID_EXCEPTION: kind(33, "UNKNOWN_WRITER_ID_EXCEPTION", false, "The writer id is unknown."),
  INVALID_COLUMN_PROJECTION: kind(
    34,
    "INVALID_COLUMN_PROJECTION",
    false,
    "The column projection is invalid.",
  ),
  INVALID_TARGET_COLUMN: kind(35, "INVALID_TARGET_COLUMN", false, "The target columns are invalid."),
  PARTITION_NOT_EXISTS: kind(36, "PARTITION_NOT_EXISTS", false, "The partition does not exist."),
  TABLE_NOT_PARTITIONED_EXCEPTION: kind(
    37,
    "TABLE_NOT_PARTITIONED_EXCEPTION",
    false,
    "Table is not partitioned.",
  ),
  INVALID_TIMESTAMP_EXCEPTION: kind(38, "INVALID_TIMESTAMP_EXCEPTION", false, "The timestamp is invalid."),
  INVALID_CONFIG_EXCEPTION: kind(39, "INVALID_CONFIG_EXCEPTION", false, "The config is invalid."),
  LAKE_STORAGE_NOT_CONFIGURED_EXCEPTION: kind(
    40,
    "LAKE_STORAGE_NOT_CONFIGURED_EXCEPTION",
    false,
    "The lake storage is not configured.",
  ),
  KV_SNAPSHOT_NOT_EXIST: kind(41, "KV_SNAPSHOT_NOT_EXIST", false, "The kv snapshot does not exist."),
  PARTITION_ALREADY_EXISTS: kind(42, "PARTITION_ALREADY_EXISTS", false, "The partition already exists."),
  PARTITION_SPEC_INVALID_EXCEPTION: kind(43, "PARTITION_SPEC_INVALID_EXCEPTION", false, "Invalid partition."),
  LEADER_NOT_AVAILABLE_EXCEPTION: kind(44, "LEADER_NOT_AVAILABLE_EXCEPTION", true, "No leader is available."),
  PARTITION_MAX_NUM_EXCEPTION: kind(45, "PARTITION_MAX_NUM_EXCEPTION", false, "Too many partitions."),
  AUTHENTICATE_EXCEPTION: kind(46, "AUTHENTICATE_EXCEPTION", false, "Authentication failed."),
  SECURITY_DISABLED_EXCEPTION: kind(47, "SECURITY_DISABLED_EXCEPTION", false, "Security is disabled."),
  AUTHORIZATION_EXCEPTION: kind(48, "AUTHORIZATION_EXCEPTION", false, "Authorization failed."),
  BUCKET_MAX_NUM_EXCEPTION: kind(49, "BUCKET_MAX_NUM_EXCEPTION", false, "Too many buckets."),
  FENCED_TIERING_EPOCH_EXCEPTION: kind(
    50,
    "FENCED_TIERING_EPOCH_EXCEPTION",
    false,
    "The tiering epoch is invalid.",
  ),
  // Fluss's client retries authentication on this one (RetriableAuthenticationException).
  RETRIABLE_AUTHENTICATE_EXCEPTION: kind(
    51,
    "RETRIABLE_AUTHENTICATE_EXCEPTION",
    true,
    "Authentication failed; it may succeed if retried.",
  ),
  INVALID_SERVER_RACK_INFO_EXCEPTION: kind(
    52,
    "INVALID_SERVER_RACK_INFO_EXCEPTION",
    false,
    "The server rack info is invalid.",
  ),
  LAKE_SNAPSHOT_NOT_EXIST: kind(53, "LAKE_SNAPSHOT_NOT_EXIST", false, "The lake snapshot does not exist."),
  LAKE_TABLE_ALREADY_EXIST: kind(54, "LAKE_TABLE_ALREADY_EXIST", false, "The lake table already exists."),
  INELIGIBLE_REPLICA_EXCEPTION: kind(
    55,
    "INELIGIBLE_REPLICA_EXCEPTION",
    false,
    "The new ISR contains an ineligible replica.",
  ),
  INVALID_ALTER_TABLE_EXCEPTION: kind(
    56,
    "INVALID_ALTER_TABLE_EXCEPTION",
    false,
    "The alter table request is invalid.",
  ),
  DELETION_DISABLED_EXCEPTION: kind(57, "DELETION_DISABLED_EXCEPTION", false, "Deletion is disabled."),
  SERVER_NOT_EXIST_EXCEPTION: kind(58, "SERVER_NOT_EXIST_EXCEPTION", false, "The server does not exist."),
  // Names as Fluss spells them.
  SEVER_TAG_ALREADY_EXIST_EXCEPTION: kind(
    59,
    "SEVER_TAG_ALREADY_EXIST_EXCEPTION",
    false,
    "The server tag already exists.",
  ),
  SEVER_TAG_NOT_EXIST_EXCEPTION: kind(
    60,
    "SEVER_TAG_NOT_EXIST_EXCEPTION",
    false,
    "The server tag does not exist.",
  ),
  REBALANCE_FAILURE_EXCEPTION: kind(61, "REBALANCE_FAILURE_EXCEPTION", false, "The rebalance task failed."),
  NO_REBALANCE_IN_PROGRESS_EXCEPTION: kind(
    62,
    "NO_REBALANCE_IN_PROGRESS_EXCEPTION",
    false,
    "No rebalance task is in progress.",
  ),
  INVALID_PRODUCER_ID_EXCEPTION: kind(
    63,
    "INVALID_PRODUCER_ID_EXCEPTION",
    false,
    "The producer id is invalid.",
  ),
  CONFIG_EXCEPTION: kind(64, "CONFIG_EXCEPTION", false, "A configuration error occurred."),
  NOT_COORDINATOR_LEADER_EXCEPTION: kind(
    65,
    "NOT_COORDINATOR_LEADER_EXCEPTION",
    false,
    "This coordinator is not the active one (its epoch was fenced).",
  ),
  SCANNER_EXPIRED: kind(66, "SCANNER_EXPIRED", false, "The KV scanner expired."),
  UNKNOWN_SCANNER_ID: kind(67, "UNKNOWN_SCANNER_ID", false, "The KV scanner id is unknown."),
  INVALID_SCAN_REQUEST: kind(68, "INVALID_SCAN_REQUEST", false, "The scan request is invalid."),
  TOO_MANY_SCANNERS: kind(69, "TOO_MANY_SCANNERS", true, "Too many KV scanners are open."),
  DISK_WRITE_LOCKED: kind(
    70,
    "DISK_WRITE_LOCKED",
    true,
    "The server refuses writes: its disk usage reached the write limit.",
  ),
  INSUFFICIENT_KV_LEADER_REPLICA_CAPACITY: kind(
    71,
    "INSUFFICIENT_KV_LEADER_REPLICA_CAPACITY",
    false,
    "Not enough KV leader replica capacity.",
  ),
  STORAGE_BACKPRESSURE_EXCEPTION: kind(
    72,
    "STORAGE_BACKPRESSURE_EXCEPTION",
    true,
    "Storage is applying backpressure.",
  ),
  HISTORICAL_PARTITION_THROTTLED: kind(
    73,
    "HISTORICAL_PARTITION_THROTTLED",
    true,
    "Too many historical partition requests are in flight.",
  ),
  // fluss-ts client-side kinds (never on the wire).
  INVALID_ARGUMENT: kind(10001, "INVALID_ARGUMENT", false, "An argument is invalid."),
  SCHEMA_MISMATCH: kind(10002, "SCHEMA_MISMATCH", false, "The row does not match the table schema."),
  CLIENT_CLOSED: kind(10003, "CLIENT_CLOSED", false, "The client or writer is closed."),
  ABORTED: kind(10004, "ABORTED", false, "The operation was aborted."),
  PROTOCOL_ERROR: kind(10005, "PROTOCOL_ERROR", false, "The peer broke the wire protocol."),
} as const satisfies Record<string, ErrorKind>;

export type ErrorName = keyof typeof Errors;

const byCode = new Map<number, ErrorKind>();
for (const k of Object.values(Errors)) byCode.set(k.code, k);

export function errorKindOf(code: number): ErrorKind {
  return byCode.get(code) ?? Errors.UNKNOWN_SERVER_ERROR;
}

export class FlussError extends Error {
  readonly [BRAND] = true;
  readonly code: number;
  readonly kind: ErrorKind;
  /**
   * True when the same call may succeed if tried again (the SDK's writers, scanners and lookups
   * already retry these within their timeouts); false when it is final (fatal for that call).
   * An own property, so it shows when the error is logged.
   */
  readonly retriable: boolean;

  /**
   * `options.retriable` overrides the kind's flag for this instance: e.g. a corrupt batch read back
   * from a log is final for the reader (CORRUPT_RECORD_EXCEPTION, not retriable), while the same
   * kind answering a produce (a batch damaged in transit) is retried by the writer, as in Fluss.
   */
  constructor(k: ErrorKind, message?: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message ?? k.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = k;
    this.code = k.code;
    this.name = `FlussError(${k.name})`;
    this.retriable = options?.retriable ?? k.retriable;
  }

  /** True when this error is of the given kind (e.g. `err.is(Errors.TABLE_NOT_EXIST)`). */
  is(k: ErrorKind): boolean {
    return this.code === k.code;
  }
}

/**
 * True when `value` is a FlussError, recognised by brand so it also works across copies of this
 * module. Then `err.is(Errors.TABLE_NOT_EXIST)` tells its kind and `err.retriable` whether to retry.
 */
export function isFlussError(value: unknown): value is FlussError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: boolean })[BRAND] === true;
}

/** Build the error for a code received from the wire. */
export function errorFromCode(code: number, message?: string): FlussError {
  const k = errorKindOf(code);
  return new FlussError(k, message && message.length > 0 ? message : k.message);
}

/**
 * Map anything thrown to a FlussError (unknown failures become UNKNOWN_SERVER_ERROR). A failed
 * assertion is never mapped: it is rethrown, so a broken invariant crashes instead of being served.
 */
export function toFlussError(err: unknown): FlussError {
  if (isFlussError(err)) return err;
  if (isAssertionError(err)) throw err;
  const message = err instanceof Error ? err.message : String(err);
  return new FlussError(Errors.UNKNOWN_SERVER_ERROR, message, { cause: err });
}

export function invalidArgument(message: string): FlussError {
  return new FlussError(Errors.INVALID_ARGUMENT, message);
}

const ASSERTION_BRAND = Symbol.for("fluss-ts.assertion");

/** A failed assertion is a bug in fluss-ts: crash loudly instead of serving bad data. */
export class AssertionError extends Error {
  readonly [ASSERTION_BRAND] = true;
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = "AssertionError";
  }
}

/** True for a failed `assert` (by brand) and for node:assert's AssertionError (ERR_ASSERTION). */
export function isAssertionError(value: unknown): value is Error {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { [ASSERTION_BRAND]?: boolean; code?: unknown };
  return v[ASSERTION_BRAND] === true || (value instanceof Error && v.code === "ERR_ASSERTION");
}

/** Codes from here up are fluss-ts client-side kinds: a Fluss peer cannot read them. */
export const clientOnlyCodeMin = 10000;

/** True when `code` may travel on the wire: Fluss's codes (-1 and up), not client-side kinds. */
export function isWireCode(code: number): boolean {
  return Number.isInteger(code) && code >= -1 && code < clientOnlyCodeMin;
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
