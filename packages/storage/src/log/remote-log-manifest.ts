// The remote log manifest of one bucket (Fluss's RemoteLogManifest): which log segments live in
// remote storage, with their offsets, sizes and newest commit timestamps. It is the commit point
// of tiering: segment files are uploaded first (under a fresh segment id, so a retry never
// overwrites what a committed manifest names), then the manifest is written in one atomic put.
// A copy is kept in the tablet directory (`remote-log-manifest.json`) so a tablet opens without
// asking the remote; the remote copy is written first, so the local one is never newer.
// Encoding: JSON {"format":1,"crc32c":<of the body text>,"body":"<text of {version, segments}>"};
// a manifest that fails its CRC or shape is corruption (LOG_STORAGE_EXCEPTION), never ignored.
// Invariants (checked by `checkManifest`, asserted after every change): segments are sorted by
// offset and contiguous (each starts where the previous ends), each holds at least one offset,
// ids are unique; the version grows by one per commit.

import { assert, Errors, FlussError } from "@fluss-ts/common";
import { crc32c } from "@node-rs/crc32";

export interface RemoteLogSegment {
  /** A fresh id per upload (hex): the segment's files live under `<bucket prefix><id>/`. */
  readonly id: string;
  readonly baseOffset: bigint;
  /** The offset after the segment's last batch. */
  readonly endOffset: bigint;
  readonly sizeBytes: number;
  /** Newest commit timestamp in the segment (retention judges by it). */
  readonly maxTimestamp: bigint;
}

export interface RemoteLogManifest {
  readonly version: number;
  readonly segments: readonly RemoteLogSegment[];
}

export const EMPTY_MANIFEST: RemoteLogManifest = { version: 0, segments: [] };
/** Segments one manifest lists at most (a bound on every walk over them). */
export const REMOTE_SEGMENTS_MAX = 1_000_000;
/** Largest manifest read back (~100 bytes a segment). */
export const REMOTE_MANIFEST_BYTES_MAX = 256 * 1024 * 1024;

const FORMAT = 1;
const idPattern = /^[0-9a-f]{8,64}$/;
const offsetPattern = /^[0-9]{1,20}$/;
const timestampPattern = /^-?[0-9]{1,20}$/;

/** Why `m` breaks an invariant, or null. */
export function manifestProblem(m: RemoteLogManifest): string | null {
  if (!Number.isSafeInteger(m.version) || m.version < 0) return `bad version ${m.version}`;
  if (m.segments.length > REMOTE_SEGMENTS_MAX) return `${m.segments.length} segments`;
  const ids = new Set<string>();
  for (let i = 0; i < m.segments.length; i++) {
    const s = m.segments[i]!;
    if (!idPattern.test(s.id) || ids.has(s.id)) return `segment ${i} has a bad or repeated id`;
    ids.add(s.id);
    if (s.endOffset <= s.baseOffset) return `segment ${s.id} holds no offset`;
    if (!Number.isSafeInteger(s.sizeBytes) || s.sizeBytes <= 0) return `segment ${s.id} has a bad size`;
    const prev = m.segments[i - 1];
    if (prev && prev.endOffset !== s.baseOffset) {
      return `segment ${s.id} starts at ${s.baseOffset}, its predecessor ends at ${prev.endOffset}`;
    }
  }
  return null;
}

export function assertManifest(m: RemoteLogManifest): void {
  const problem = manifestProblem(m);
  assert(problem === null, `remote log manifest is sound (${problem})`);
}

export function encodeRemoteManifest(m: RemoteLogManifest): Uint8Array {
  assertManifest(m);
  const body = JSON.stringify({
    version: m.version,
    segments: m.segments.map((s) => ({
      id: s.id,
      baseOffset: s.baseOffset.toString(),
      endOffset: s.endOffset.toString(),
      sizeBytes: s.sizeBytes,
      maxTimestamp: s.maxTimestamp.toString(),
    })),
  });
  const crc = crc32c(Buffer.from(body, "utf8")) >>> 0;
  return Buffer.from(JSON.stringify({ format: FORMAT, crc32c: crc, body }), "utf8");
}

function corrupt(where: string, why: string): FlussError {
  return new FlussError(Errors.LOG_STORAGE_EXCEPTION, `remote log manifest ${where} is corrupt: ${why}`);
}

function parseSegment(v: unknown): RemoteLogSegment {
  const s = v as Record<string, unknown>;
  if (
    typeof s?.id !== "string" ||
    typeof s.baseOffset !== "string" ||
    !offsetPattern.test(s.baseOffset) ||
    typeof s.endOffset !== "string" ||
    !offsetPattern.test(s.endOffset) ||
    typeof s.maxTimestamp !== "string" ||
    !timestampPattern.test(s.maxTimestamp) ||
    typeof s.sizeBytes !== "number"
  ) {
    throw new Error("bad segment entry");
  }
  return {
    id: s.id,
    baseOffset: BigInt(s.baseOffset),
    endOffset: BigInt(s.endOffset),
    sizeBytes: s.sizeBytes,
    maxTimestamp: BigInt(s.maxTimestamp),
  };
}

/** Decode and check a manifest read from `where`; LOG_STORAGE_EXCEPTION when it does not hold. */
export function decodeRemoteManifest(bytes: Uint8Array, where: string): RemoteLogManifest {
  let m: RemoteLogManifest;
  try {
    const outer = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
    if (outer.format !== FORMAT || typeof outer.body !== "string" || typeof outer.crc32c !== "number") {
      throw new Error(`unknown format ${String(outer.format)}`);
    }
    const crc = crc32c(Buffer.from(outer.body, "utf8")) >>> 0;
    if (crc !== outer.crc32c) throw new Error(`CRC mismatch (stored ${outer.crc32c}, computed ${crc})`);
    const body = JSON.parse(outer.body) as Record<string, unknown>;
    if (!Number.isSafeInteger(body.version) || !Array.isArray(body.segments)) throw new Error("bad body");
    m = { version: body.version as number, segments: body.segments.map(parseSegment) };
  } catch (err) {
    throw corrupt(where, (err as Error).message);
  }
  const problem = manifestProblem(m);
  if (problem !== null) throw corrupt(where, problem);
  return m;
}
