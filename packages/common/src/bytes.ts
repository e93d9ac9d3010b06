// Byte-array helpers that behave the same for plain Uint8Arrays and Node Buffers. Beware:
// `Buffer#slice` returns a view, not a copy; data from sockets and files arrives as Buffers.

/** A copy of `bytes[start, end)` (a fresh, unshared Uint8Array). */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.byteLength): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}
