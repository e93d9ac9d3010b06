// JS value → internal value converters for STRING / CHAR(n) and BYTES / BINARY(n), plus strict
// base64, shared by the Arrow batch builder and the row writers.
// Accepted inputs: STRING a string; CHAR(n) a string of at most n characters (code points; no
// padding is added); BYTES a Uint8Array or a base64 / base64url string; BINARY(n) the same, of
// exactly n bytes. Refusals throw ValueMismatch.
// Invariants: pure functions; a Uint8Array input is returned as is (never copied or mutated).

import { ValueMismatch } from "./mismatch.ts";

/** Number of Unicode code points (a lone surrogate counts as one). */
export function codePointCount(s: string): number {
  let count = 0;
  for (let j = 0; j < s.length; j++) {
    const code = s.charCodeAt(j);
    if (code >= 0xd800 && code <= 0xdbff && j + 1 < s.length) {
      const next = s.charCodeAt(j + 1);
      if (next >= 0xdc00 && next <= 0xdfff) j++;
    }
    count++;
  }
  return count;
}

/** STRING (maxChars = Infinity) and CHAR(n) (at most n characters, no padding). */
export function toCharString(v: unknown, maxChars: number): string {
  if (typeof v !== "string") throw new ValueMismatch("a string", v);
  if (v.length > maxChars && codePointCount(v) > maxChars) {
    throw new ValueMismatch(`at most ${maxChars} characters`, v, `${codePointCount(v)} characters`);
  }
  return v;
}

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Bytes of a base64 (or base64url) text, or undefined when it is not valid base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64_RE.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, "");
  if (unpadded.length % 4 === 1 || (text.length !== unpadded.length && text.length % 4 !== 0)) {
    return undefined;
  }
  const buf = Buffer.from(unpadded, "base64");
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** BYTES (width undefined) or BINARY(width) (exactly `width` bytes): Uint8Array or base64 string. */
export function toByteArray(v: unknown, width?: number): Uint8Array {
  const what =
    width === undefined
      ? "bytes (Uint8Array or base64 string)"
      : `exactly ${width} bytes (Uint8Array or base64 string)`;
  let bytes: Uint8Array | undefined;
  if (v instanceof Uint8Array) bytes = v;
  else if (typeof v === "string") {
    bytes = decodeBase64(v);
    if (bytes === undefined) throw new ValueMismatch(what, v, "not valid base64");
  } else throw new ValueMismatch(what, v);
  if (width !== undefined && bytes.byteLength !== width) {
    throw new ValueMismatch(what, v, `${bytes.byteLength} bytes`);
  }
  return bytes;
}
