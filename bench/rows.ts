// Row generators shared by every system in the benchmark, so Fluss and the peers get the same
// rows: the ~100-byte "event" row (id, ts, user, amount, note) as an object for Fluss and as a
// compact `|`-separated string for Redis Streams and NATS JetStream; the 20-column wide row of the
// scan workload; and the ~1 KiB row used to fill a multi-GB log for the memory workload.
// Strings come from small pools built once, so generating a row costs little next to sending it.

export const EVENT_SCHEMA = "id BIGINT NOT NULL, ts BIGINT, user STRING, amount DOUBLE, note STRING";

export interface EventRow {
  id: bigint;
  ts: bigint;
  user: string;
  amount: number;
  note: string;
  [k: string]: unknown;
}

const POOL = 1024;
const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Deterministic pseudo-random text of `len` chars (xorshift seeded by `seed`). */
function text(seed: number, len: number): string {
  let x = (seed * 2654435761) >>> 0 || 1;
  let s = "";
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    s += ALNUM[x % ALNUM.length];
  }
  return s;
}

const users = Array.from({ length: POOL }, (_, i) => `user_${text(i + 1, 15)}`); // 20 chars
const notes = Array.from({ length: POOL }, (_, i) => `note ${text(i + 7777, 35)}`); // 40 chars

/** The i-th event row; `ts` defaults to a fixed base + i (microseconds). */
export function eventRow(i: number, ts?: bigint): EventRow {
  return {
    id: BigInt(i),
    ts: ts ?? BigInt(1_700_000_000_000_000 + i),
    user: users[i & (POOL - 1)]!,
    amount: Math.round(i * 1.37 * 100) / 100,
    note: notes[(i * 7) & (POOL - 1)]!,
  };
}

/** The same row as the compact string the peers store (~100 bytes). */
export function eventString(r: EventRow): string {
  return `${r.id}|${r.ts}|${r.user}|${r.amount}|${r.note}`;
}

/** Read the `ts` field back from the UTF-8 bytes of a compact string (for latency on the peers). */
export function tsOfEventBytes(b: Uint8Array): bigint {
  let i = b.indexOf(0x7c) + 1; // after the first '|'
  let ts = 0;
  // Microsecond stamps fit a double exactly (< 2^53).
  for (; i < b.length && b[i] !== 0x7c; i++) ts = ts * 10 + (b[i]! - 0x30);
  return BigInt(ts);
}

/** Average payload bytes of an event row (UTF-8 of its compact string), over a sample. */
export function eventRowBytes(sample = 10_000): number {
  let total = 0;
  for (let i = 0; i < sample; i++) total += Buffer.byteLength(eventString(eventRow(1_000_000 + i)));
  return total / sample;
}

/** Microseconds on the monotonic clock shared by all threads and processes of this machine. */
export function nowMicros(): bigint {
  return process.hrtime.bigint() / 1000n;
}

// --- the primary-key table of the upsert and lookup workloads ---------------------------------

/** The event row keyed by `id`: the upsert and lookup workloads' table. */
export const KV_SCHEMA = `${EVENT_SCHEMA}, PRIMARY KEY (id)`;

/** Every UPDATE_EVERY-th row of an upsert stream updates an existing key (exactly 20%). */
export const UPDATE_EVERY = 5;

/** A key in [0, loaded) picked by a hash of `j` (deterministic, spread over the whole range). */
function existingKey(j: number, loaded: number): number {
  let x = Math.imul(j ^ (j >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return ((x ^ (x >>> 16)) >>> 0) % loaded;
}

/**
 * Row `j` of the measured upsert stream that follows a load of keys [0, loaded): every 5th row
 * (j % 5 === 0) updates an existing key (new `ts`, `amount`, `note`), the others insert the next
 * new key (loaded, loaded + 1, ...). The same stream for Fluss and Redis.
 */
export function upsertStreamRow(j: number, loaded: number): EventRow {
  if (j % UPDATE_EVERY === 0) {
    const id = existingKey(j, loaded);
    return {
      id: BigInt(id),
      ts: BigInt(1_800_000_000_000_000 + j),
      user: users[id & (POOL - 1)]!,
      amount: Math.round(j * 2.71 * 100) / 100,
      note: notes[(j * 13) & (POOL - 1)]!,
    };
  }
  return eventRow(loaded + j - Math.floor(j / UPDATE_EVERY) - 1);
}

/** Updates in a stream of `rows` rows (the rest are new keys). */
export function upsertStreamUpdates(rows: number): number {
  return Math.ceil(rows / UPDATE_EVERY);
}

// --- the 20-column row of the scan workload: id + 6 BIGINT + 6 DOUBLE + 7 STRING --------------

const WIDE_LONGS = 6;
const WIDE_DOUBLES = 6;
const WIDE_STRINGS = 7;

export const WIDE_SCHEMA = [
  "id BIGINT NOT NULL",
  ...Array.from({ length: WIDE_LONGS }, (_, k) => `l${k + 1} BIGINT`),
  ...Array.from({ length: WIDE_DOUBLES }, (_, k) => `d${k + 1} DOUBLE`),
  ...Array.from({ length: WIDE_STRINGS }, (_, k) => `s${k + 1} STRING`),
].join(", ");

/** The 2 of 20 columns the projected scan reads. */
export const WIDE_PROJECTION = ["id", "d1"] as const;

const words = Array.from({ length: POOL }, (_, i) => text(i + 31337, 12 + (i % 8))); // 12-19 chars

export function wideRow(i: number): Record<string, unknown> {
  const row: Record<string, unknown> = { id: BigInt(i) };
  for (let k = 1; k <= WIDE_LONGS; k++) row[`l${k}`] = BigInt(i * k);
  for (let k = 1; k <= WIDE_DOUBLES; k++) row[`d${k}`] = i * k * 0.5;
  for (let k = 1; k <= WIDE_STRINGS; k++) row[`s${k}`] = words[(i + k * 131) & (POOL - 1)]!;
  return row;
}

// --- the ~1 KiB row that fills the memory workload's multi-GB log ------------------------------

export const BLOB_SCHEMA = "id BIGINT NOT NULL, ts BIGINT, payload STRING";

const blobs = Array.from({ length: 64 }, (_, i) => text(i + 99, 1000));

export function blobRow(i: number): Record<string, unknown> {
  return { id: BigInt(i), ts: BigInt(i), payload: blobs[i & 63]! };
}

/** Approximate payload bytes of a blob row. */
export const BLOB_ROW_BYTES = 8 + 8 + 1000;
