// The small files of a tablet directory besides segments:
//  - `recovery-point.checkpoint`: "fluss-ts-log v1 <recoveryPoint> <highWatermark>\n". The recovery
//    point is an offset below which every byte was fdatasync'ed; it is written only after that
//    fdatasync, and lowered (synchronously) before a truncation, so it never overstates
//    durability. An unreadable checkpoint reads as "none" (recover everything: slow but safe).
//  - `.clean_shutdown`: present only between a clean close and the next open; it lets open skip
//    the CRC scan. Open deletes it (durably) before accepting writes.
//  - `<20-digit offset>.writer_snapshot`: writer state as of that offset (see writer-state.ts).
//  - `leader-epoch.checkpoint`: the leader epochs of the log (leader-epoch-cache.ts, always durable).
// All replacements are atomic (temp file + rename); durable ones also fdatasync and fsync the dir.

import fs from "node:fs";
import {
  cleanShutdownFileName,
  recoveryCheckpointFileName,
  writerSnapshotBytesMax,
  writerSnapshotFileSuffix,
  writerSnapshotsMax,
} from "./constants.ts";
import {
  fsyncDirSync,
  join,
  listDirSync,
  offsetFileName,
  parseOffsetFileName,
  readSmallFileSync,
  storageError,
  unlinkIfExistsSync,
  writeFileAtomicSync,
} from "./file-io.ts";

export interface Checkpoint {
  readonly recoveryPoint: bigint;
  readonly highWatermark: bigint;
}

const checkpointBytesMax = 256;
const checkpointPattern = /^fluss-ts-log v1 ([0-9]{1,20}) ([0-9]{1,20})\n$/;

export function readCheckpoint(dir: string): Checkpoint | null {
  const bytes = readSmallFileSync(join(dir, recoveryCheckpointFileName), checkpointBytesMax);
  if (bytes === null) return null;
  const match = checkpointPattern.exec(new TextDecoder().decode(bytes));
  if (match === null) return null;
  return { recoveryPoint: BigInt(match[1]), highWatermark: BigInt(match[2]) };
}

/**
 * A lost or garbled checkpoint reads as "none" (full recovery), and an older one is lower, so most
 * writes need not be durable. The exception is lowering it before a truncation: `durable` then.
 */
export function writeCheckpoint(dir: string, checkpoint: Checkpoint, durable: boolean): void {
  const text = `fluss-ts-log v1 ${checkpoint.recoveryPoint} ${checkpoint.highWatermark}\n`;
  writeFileAtomicSync(join(dir, recoveryCheckpointFileName), new TextEncoder().encode(text), durable);
}

export function hasCleanShutdownMarker(dir: string): boolean {
  return fs.existsSync(join(dir, cleanShutdownFileName));
}

export function writeCleanShutdownMarker(dir: string): void {
  writeFileAtomicSync(join(dir, cleanShutdownFileName), new Uint8Array(0), true);
}

export function removeCleanShutdownMarker(dir: string): void {
  unlinkIfExistsSync(join(dir, cleanShutdownFileName));
  fsyncDirSync(dir);
}

/** Offsets of the writer snapshots in `dir`, ascending. */
export function listWriterSnapshots(dir: string): bigint[] {
  const offsets: bigint[] = [];
  for (const name of listDirSync(dir)) {
    const offset = parseOffsetFileName(name, writerSnapshotFileSuffix);
    if (offset !== null) offsets.push(offset);
    if (offsets.length > writerSnapshotsMax)
      throw storageError("list", dir, new Error("too many writer snapshots"));
  }
  return offsets.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function writerSnapshotPath(dir: string, offset: bigint): string {
  return join(dir, offsetFileName(offset, writerSnapshotFileSuffix));
}

/** A lost or garbled snapshot is skipped on load (an older one and a longer replay are used). */
export function writeWriterSnapshot(dir: string, offset: bigint, bytes: Uint8Array, durable: boolean): void {
  writeFileAtomicSync(writerSnapshotPath(dir, offset), bytes, durable);
}

export function readWriterSnapshot(dir: string, offset: bigint): Uint8Array | null {
  return readSmallFileSync(writerSnapshotPath(dir, offset), writerSnapshotBytesMax);
}

export function deleteWriterSnapshot(dir: string, offset: bigint): void {
  unlinkIfExistsSync(writerSnapshotPath(dir, offset));
}
