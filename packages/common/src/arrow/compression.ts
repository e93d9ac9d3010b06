// Arrow IPC body compression codecs: LZ4 frame (lz4-frame.ts: independent 64 KiB blocks, which is
// what Fluss's Java LZ4 reader requires and writes) and ZSTD (node:zlib). Used two
// ways: directly by our IPC encoder/decoder (ipc.ts), which compresses each body buffer itself,
// and registered in apache-arrow's `compressionRegistry` so apache-arrow's own reader and writer
// (tableFromIPC / RecordBatchStreamWriter with `compressionType`) can handle compressed bodies too.
// Invariant: a compressed buffer decompresses to exactly the length its prefix declares, or the
// call fails with CORRUPT_RECORD_EXCEPTION; empty input maps to empty output without a codec call.

import { constants as zlibConstants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { type Codec, CompressionType, compressionRegistry } from "apache-arrow";
import { decompressFrameSync } from "lz4-napi";
import { assert, Errors, FlussError } from "../errors.ts";
import type { ArrowCompression } from "../options.ts";
import { compressLz4Frame, decompressLz4Frame } from "./lz4-frame.ts";

/** Fluss's default ZSTD level (table.log.arrow.compression.zstd.level). */
export const DEFAULT_ZSTD_LEVEL = 3;

export interface IpcCompression {
  readonly type: ArrowCompression;
  /** Only used for ZSTD. */
  readonly zstdLevel: number;
}

export const NO_COMPRESSION: IpcCompression = { type: "NONE", zstdLevel: DEFAULT_ZSTD_LEVEL };

const EMPTY = new Uint8Array(0);

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Compress one buffer with the given codec. `type` must not be NONE. */
export function compressBuffer(type: ArrowCompression, data: Uint8Array, zstdLevel: number): Uint8Array {
  assert(type !== "NONE", "compressBuffer needs a codec");
  if (data.byteLength === 0) return EMPTY;
  if (type === "LZ4_FRAME") return compressLz4Frame(data);
  return zstdCompressSync(data, { params: { [zlibConstants.ZSTD_c_compressionLevel]: zstdLevel } });
}

/** Decompress one buffer; the result must be exactly `uncompressedLength` bytes. */
export function decompressBuffer(
  type: ArrowCompression,
  data: Uint8Array,
  uncompressedLength: number,
): Uint8Array {
  if (uncompressedLength === 0) return EMPTY;
  let out: Uint8Array;
  try {
    if (type === "LZ4_FRAME") out = decompressLz4Frame(data, uncompressedLength);
    else if (type === "ZSTD") {
      // one output chunk of the declared size; a frame that inflates beyond it is refused
      const size = Math.max(64, uncompressedLength);
      out = zstdDecompressSync(data, { maxOutputLength: uncompressedLength, chunkSize: size });
    } else throw new Error("the batch declares no codec");
  } catch (err) {
    throw new FlussError(
      Errors.CORRUPT_RECORD_EXCEPTION,
      `cannot decompress an Arrow ${type} buffer: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (out.byteLength !== uncompressedLength) {
    throw new FlussError(
      Errors.CORRUPT_RECORD_EXCEPTION,
      `Arrow ${type} buffer decompressed to ${out.byteLength} bytes, expected ${uncompressedLength}`,
    );
  }
  return out;
}

/** Flatbuffer CompressionType code of a codec (LZ4_FRAME 0, ZSTD 1). */
export function compressionCode(type: ArrowCompression): number {
  assert(type !== "NONE", "NONE has no flatbuffer code");
  return type === "LZ4_FRAME" ? CompressionType.LZ4_FRAME : CompressionType.ZSTD;
}

export function compressionFromCode(code: number): ArrowCompression {
  if (code === CompressionType.LZ4_FRAME) return "LZ4_FRAME";
  if (code === CompressionType.ZSTD) return "ZSTD";
  throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `unknown Arrow compression codec ${code}`);
}

function registryCodec(type: ArrowCompression, zstdLevel: number): Codec {
  return {
    encode: (data: Uint8Array) => compressBuffer(type, data, zstdLevel),
    // apache-arrow's reader does not pass the declared length; trust the frame's own framing.
    decode: (data: Uint8Array) => {
      if (data.byteLength === 0) return EMPTY;
      return type === "LZ4_FRAME" ? decompressFrameSync(asBuffer(data)) : zstdDecompressSync(data);
    },
  };
}

let registeredZstdLevel = -1;

/**
 * Register the LZ4_FRAME and ZSTD codecs in apache-arrow's compression registry (idempotent; a
 * different ZSTD level re-registers ZSTD with that level).
 */
export function ensureCodecsRegistered(zstdLevel: number = DEFAULT_ZSTD_LEVEL): void {
  if (registeredZstdLevel === zstdLevel) return;
  if (registeredZstdLevel < 0) {
    compressionRegistry.set(CompressionType.LZ4_FRAME, registryCodec("LZ4_FRAME", zstdLevel));
  }
  compressionRegistry.set(CompressionType.ZSTD, registryCodec("ZSTD", zstdLevel));
  registeredZstdLevel = zstdLevel;
}
