// LZ4 frame format (lz4.org frame spec v1.6) built on lz4-napi's *block* codec, shaped like the
// frames Fluss's Java writer produces: version 1, independent blocks, no checksums, no content
// size, 64 KiB maximum block size (a Java reader allocates one buffer of the declared maximum block
// size per decompressed Arrow buffer, so 4 MiB frames would be costly there). A block that does
// not shrink is stored raw (high bit of its size word set). Decoding accepts any frame of
// independent blocks (checksums present or not, skipped: the log batch CRC covers these bytes) and
// falls back to lz4-napi's frame decoder for linked blocks.
// Why not lz4-napi's frame API: its encoder picks up to 4 MiB blocks and its decoder allocates the
// maximum block size per call, several times slower than block decoding on Arrow-sized buffers.

import { compressSync, decompressFrameSync, uncompressSync } from "lz4-napi";

const MAGIC = 0x184d2204;
const FLG = 0x60; // version 01, block independence
const BD = 0x40; // maximum block size 64 KiB
const BLOCK_MAX = 64 * 1024;
const RAW_BLOCK = 0x80000000;

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME5 = 0x165667b1;

/** xxHash32 of a short input (< 16 bytes), as the frame header checksum needs. */
export function xxh32Short(bytes: Uint8Array, seed = 0): number {
  let h = (seed + PRIME5 + bytes.length) >>> 0;
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    const w = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
    h = Math.imul(rotl((h + Math.imul(w, PRIME3)) >>> 0, 17), 0x27d4eb2f) >>> 0;
  }
  for (; i < bytes.length; i++)
    h = Math.imul(rotl((h + Math.imul(bytes[i]!, PRIME5)) >>> 0, 11), PRIME1) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, PRIME2) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, PRIME3) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

const HEADER = Uint8Array.of(
  0x04,
  0x22,
  0x4d,
  0x18,
  FLG,
  BD,
  (xxh32Short(Uint8Array.of(FLG, BD)) >>> 8) & 0xff,
);

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Encode `data` as one LZ4 frame of independent 64 KiB blocks. */
export function compressLz4Frame(data: Uint8Array): Uint8Array {
  const blocks: { bytes: Uint8Array; raw: boolean }[] = [];
  let total = HEADER.byteLength + 4;
  for (let at = 0; at < data.byteLength; at += BLOCK_MAX) {
    const chunk = data.subarray(at, Math.min(at + BLOCK_MAX, data.byteLength));
    const packed = compressSync(asBuffer(chunk)).subarray(4); // drop lz4-napi's size prefix
    const raw = packed.byteLength >= chunk.byteLength;
    blocks.push({ bytes: raw ? chunk : packed, raw });
    total += 4 + (raw ? chunk.byteLength : packed.byteLength);
  }
  const out = Buffer.allocUnsafe(total);
  out.set(HEADER, 0);
  let pos = HEADER.byteLength;
  for (const { bytes, raw } of blocks) {
    out.writeUInt32LE((bytes.byteLength | (raw ? RAW_BLOCK : 0)) >>> 0, pos);
    out.set(bytes, pos + 4);
    pos += 4 + bytes.byteLength;
  }
  out.writeUInt32LE(0, pos); // end mark
  return out;
}

/**
 * Decode an LZ4 frame whose content is `expected` bytes long. Throws a plain Error when the frame
 * is malformed or does not hold exactly `expected` bytes.
 */
export function decompressLz4Frame(data: Uint8Array, expected: number): Uint8Array {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.byteLength < 7 || dv.getUint32(0, true) !== MAGIC) throw new Error("not an LZ4 frame");
  const flg = data[4]!;
  if (flg >> 6 !== 1) throw new Error(`unsupported LZ4 frame version ${flg >> 6}`);
  if ((flg & 0x20) === 0) return decompressFrameSync(asBuffer(data));
  const blockMax = 1 << (2 * ((data[5]! >> 4) & 7) + 8);
  const blockChecksum = (flg & 0x10) !== 0 ? 4 : 0;
  let pos = 7 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0);
  const out = new Uint8Array(expected);
  let outPos = 0;
  for (;;) {
    const word = dv.getUint32(pos, true);
    pos += 4;
    if (word === 0) break;
    const len = word & 0x7fffffff;
    const block = data.subarray(pos, pos + len);
    if (block.byteLength !== len) throw new Error("truncated LZ4 block");
    pos += len + blockChecksum;
    if (outPos + ((word & RAW_BLOCK) !== 0 ? len : 1) > expected)
      throw new Error("LZ4 frame longer than declared");
    if ((word & RAW_BLOCK) !== 0) {
      out.set(block, outPos);
      outPos += len;
      continue;
    }
    const decoded = decodeBlock(block, Math.min(blockMax, expected - outPos));
    if (outPos === 0 && decoded.byteLength === expected) return decoded;
    out.set(decoded, outPos);
    outPos += decoded.byteLength;
  }
  if (outPos !== expected) throw new Error(`LZ4 frame holds ${outPos} bytes, expected ${expected}`);
  return out;
}

/** Decode one block of at most `maxOutput` bytes with lz4-napi (which wants a size prefix). */
function decodeBlock(block: Uint8Array, maxOutput: number): Uint8Array {
  const prefixed = Buffer.allocUnsafe(4 + block.byteLength);
  prefixed.writeUInt32LE(maxOutput, 0);
  prefixed.set(block, 4);
  return uncompressSync(prefixed);
}
