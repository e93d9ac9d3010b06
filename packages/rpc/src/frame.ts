// Fluss RPC framing, big-endian throughout:
//   request        = i32 length · i16 api key · i16 api version · i32 request id · protobuf body
//   response       = i32 length · i8 type (0 success, 1 error) · i32 request id · body
//                    (success: the API's response message; error: ErrorResponse)
//   server failure = i32 length · i8 type 2 · ErrorResponse           (no request id)
// `length` counts the bytes after itself. `FrameDecoder` cuts a byte stream into frames (the bytes
// after the length prefix), copying only frames that straddle chunks, and refuses negative or
// oversized lengths before buffering the body. Parse functions check header sizes and types; a
// violation is a FlussError PROTOCOL_ERROR (the stream cannot be trusted any more).

import { create, fromBinary, isFieldSet, toBinary } from "@bufbuild/protobuf";
import { assert, Errors, FlussError, isWireCode } from "@fluss-ts/common";
import {
  frameBytesMaxDefault,
  lengthPrefixBytes,
  requestHeaderBytes,
  responseHeaderBytes,
  serverFailureHeaderBytes,
} from "./constants.ts";
import { ErrorResponseSchema } from "./gen/fluss/api_pb.ts";

export const ResponseType = { SUCCESS: 0, ERROR: 1, SERVER_FAILURE: 2 } as const;
export type ResponseTypeId = (typeof ResponseType)[keyof typeof ResponseType];

export interface RequestFrame {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly requestId: number;
  readonly body: Uint8Array;
}

export type ResponseFrame =
  | { readonly type: 0 | 1; readonly requestId: number; readonly body: Uint8Array }
  | { readonly type: 2; readonly body: Uint8Array };

/** An error carried by an error response or a server failure. */
export interface WireError {
  readonly code: number;
  readonly message: string | undefined;
}

export function protocolError(message: string): FlussError {
  return new FlussError(Errors.PROTOCOL_ERROR, message);
}

// ---- encoding --------------------------------------------------------------------------------

function writeI32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

function writeI16(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 8;
  out[at + 1] = v;
}

function checkI16(name: string, v: number): void {
  if (!Number.isInteger(v) || v < -32768 || v > 32767) throw protocolError(`${name} ${v} is not an int16`);
}

function checkI32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
    throw protocolError(`${name} ${v} is not an int32`);
  }
}

function checkFrameSize(frameLength: number): void {
  if (frameLength + lengthPrefixBytes > 0x7fffffff)
    throw protocolError(`frame of ${frameLength} bytes is too large`);
}

/** Bytes before a request body: length prefix and request header. */
export const requestFrameHeaderBytes = lengthPrefixBytes + requestHeaderBytes;
/** Bytes before a success or error response body: length prefix and response header. */
export const responseFrameHeaderBytes = lengthPrefixBytes + responseHeaderBytes;

/**
 * A frame being built, as buffers to write in order. `parts[0]` starts with `headerBytes` bytes
 * left for the frame header (filled by `fillRequestHeader` / `fillResponseHeader`); the body
 * follows, over one or more parts, `bodyBytes` in all. Every part is handed to the socket as it
 * is: nothing may write to any of them afterwards (the header room is filled before).
 */
export interface FrameParts {
  readonly parts: readonly Uint8Array[];
  readonly bodyBytes: number;
  readonly headerBytes: number;
}

/**
 * Frame parts around an encoded body: one buffer (header room and body together) when the body
 * has at most `copyBytesMax` bytes, else the header room and the body itself (no copy).
 */
export function bodyFrameParts(
  body: Uint8Array,
  headerBytes: number,
  copyBytesMax = Number.POSITIVE_INFINITY,
): FrameParts {
  const bodyBytes = body.byteLength;
  if (bodyBytes > copyBytesMax) {
    return { parts: [Buffer.allocUnsafe(headerBytes), body], bodyBytes, headerBytes };
  }
  const out = Buffer.allocUnsafe(headerBytes + bodyBytes);
  out.set(body, headerBytes);
  return { parts: [out], bodyBytes, headerBytes };
}

function headerRoom(frame: FrameParts, headerBytes: number): Uint8Array {
  const head = frame.parts[0];
  if (frame.headerBytes !== headerBytes || head === undefined || head.byteLength < headerBytes) {
    throw new Error(`frame parts have no room for a ${headerBytes}-byte header`);
  }
  return head;
}

/** Write the request header into the frame's header room; returns the parts to write. */
export function fillRequestHeader(
  frame: FrameParts,
  apiKey: number,
  apiVersion: number,
  requestId: number,
): readonly Uint8Array[] {
  checkI16("api key", apiKey);
  checkI16("api version", apiVersion);
  checkI32("request id", requestId);
  const frameLength = requestHeaderBytes + frame.bodyBytes;
  checkFrameSize(frameLength);
  const out = headerRoom(frame, requestFrameHeaderBytes);
  writeI32(out, 0, frameLength);
  writeI16(out, 4, apiKey);
  writeI16(out, 6, apiVersion);
  writeI32(out, 8, requestId);
  return frame.parts;
}

/** Write a success (0) or error (1) response header into the frame's header room. */
export function fillResponseHeader(frame: FrameParts, type: 0 | 1, requestId: number): readonly Uint8Array[] {
  checkI32("request id", requestId);
  const frameLength = responseHeaderBytes + frame.bodyBytes;
  checkFrameSize(frameLength);
  const out = headerRoom(frame, responseFrameHeaderBytes);
  writeI32(out, 0, frameLength);
  out[4] = type;
  writeI32(out, 5, requestId);
  return frame.parts;
}

/**
 * A request frame as buffers to write in order: one buffer (header and body together) when the
 * body has at most `copyBytesMax` bytes, else the 12-byte header and the body itself (no copy).
 */
export function requestFrameParts(
  apiKey: number,
  apiVersion: number,
  requestId: number,
  body: Uint8Array,
  copyBytesMax = Number.POSITIVE_INFINITY,
): readonly Uint8Array[] {
  checkFrameSize(requestHeaderBytes + body.byteLength);
  const frame = bodyFrameParts(body, requestFrameHeaderBytes, copyBytesMax);
  return fillRequestHeader(frame, apiKey, apiVersion, requestId);
}

/** A whole request frame in one buffer (the body is copied once). */
export function encodeRequestFrame(
  apiKey: number,
  apiVersion: number,
  requestId: number,
  body: Uint8Array,
): Uint8Array {
  return requestFrameParts(apiKey, apiVersion, requestId, body)[0]!;
}

/** A success or error response frame as buffers to write in order (see `requestFrameParts`). */
export function responseFrameParts(
  type: 0 | 1,
  requestId: number,
  body: Uint8Array,
  copyBytesMax = Number.POSITIVE_INFINITY,
): readonly Uint8Array[] {
  checkFrameSize(responseHeaderBytes + body.byteLength);
  return fillResponseHeader(bodyFrameParts(body, responseFrameHeaderBytes, copyBytesMax), type, requestId);
}

/** A whole success-response frame in one buffer. */
export function encodeSuccessFrame(requestId: number, body: Uint8Array): Uint8Array {
  return responseFrameParts(ResponseType.SUCCESS, requestId, body)[0]!;
}

function encodeErrorBody(error: WireError): Uint8Array {
  // Client-side kinds (>= 10000) mean nothing to a Fluss peer: servers map them before this point.
  assert(isWireCode(error.code), `error code ${error.code} is not a Fluss wire code`);
  const msg = create(ErrorResponseSchema, { errorCode: error.code });
  if (error.message !== undefined) msg.errorMessage = error.message;
  return toBinary(ErrorResponseSchema, msg);
}

/** An error-response frame: the request failed with `error`. */
export function encodeErrorFrame(requestId: number, error: WireError): Uint8Array {
  return responseFrameParts(ResponseType.ERROR, requestId, encodeErrorBody(error))[0]!;
}

/** A server-failure frame: the connection failed as a whole; the server closes it next. */
export function encodeServerFailureFrame(error: WireError): Uint8Array {
  const body = encodeErrorBody(error);
  const out = new Uint8Array(lengthPrefixBytes + serverFailureHeaderBytes + body.byteLength);
  writeI32(out, 0, serverFailureHeaderBytes + body.byteLength);
  out[4] = ResponseType.SERVER_FAILURE;
  out.set(body, 5);
  return out;
}

// ---- parsing ---------------------------------------------------------------------------------

function readI32(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

function readI16(b: Uint8Array, at: number): number {
  return (((b[at]! << 8) | b[at + 1]!) << 16) >> 16;
}

/** Split a request frame (the bytes after the length prefix) into header fields and body. */
export function parseRequestFrame(frame: Uint8Array): RequestFrame {
  if (frame.byteLength < requestHeaderBytes) {
    throw protocolError(`request frame of ${frame.byteLength} bytes is shorter than its header`);
  }
  return {
    apiKey: readI16(frame, 0),
    apiVersion: readI16(frame, 2),
    requestId: readI32(frame, 4),
    body: frame.subarray(requestHeaderBytes),
  };
}

/** Split a response frame (the bytes after the length prefix) by its type. */
export function parseResponseFrame(frame: Uint8Array): ResponseFrame {
  if (frame.byteLength < serverFailureHeaderBytes) throw protocolError("empty response frame");
  const type = frame[0];
  if (type === ResponseType.SERVER_FAILURE) return { type, body: frame.subarray(serverFailureHeaderBytes) };
  if (type !== ResponseType.SUCCESS && type !== ResponseType.ERROR) {
    throw protocolError(`unknown response type ${type}`);
  }
  if (frame.byteLength < responseHeaderBytes) {
    throw protocolError(`response frame of ${frame.byteLength} bytes is shorter than its header`);
  }
  return { type, requestId: readI32(frame, 1), body: frame.subarray(responseHeaderBytes) };
}

/** Decode the ErrorResponse body of an error response or a server failure. */
export function decodeWireError(body: Uint8Array): WireError {
  let msg: ReturnType<typeof fromBinary<typeof ErrorResponseSchema>>;
  try {
    msg = fromBinary(ErrorResponseSchema, body);
  } catch (err) {
    throw new FlussError(Errors.CORRUPT_MESSAGE, `undecodable error response: ${(err as Error).message}`);
  }
  const hasMessage = isFieldSet(msg, ErrorResponseSchema.field.errorMessage);
  return { code: msg.errorCode, message: hasMessage ? msg.errorMessage : undefined };
}

// ---- stream decoding -------------------------------------------------------------------------

export interface FrameDecoderOptions {
  /** Largest frame accepted, counting the 4-byte length prefix (default 100 MiB). */
  readonly frameBytesMax?: number;
}

/**
 * Cuts a byte stream into frames. Feed socket chunks with `push`, then take frames with `next`
 * until it returns undefined (pull-based, so a reader may stop taking frames to apply
 * backpressure). A frame inside one chunk is returned as a view of that chunk (no copy); a frame
 * spanning chunks is copied once into a buffer of its exact size. Bytes buffered never exceed
 * one frame plus the unread rest of the chunks pushed.
 */
export class FrameDecoder {
  readonly frameBytesMax: number;
  #chunks: Uint8Array[] = [];
  #head = 0; // index of the first unread chunk
  #headOffset = 0; // read position inside that chunk
  #buffered = 0; // unread bytes over all chunks
  #failed: FlussError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.frameBytesMax ?? frameBytesMaxDefault;
    if (!Number.isInteger(max) || max < lengthPrefixBytes || max > 0x7fffffff) {
      throw new FlussError(Errors.INVALID_ARGUMENT, `frameBytesMax ${max} out of range`);
    }
    this.frameBytesMax = max;
  }

  /** Unread bytes held by the decoder. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Append a chunk. The decoder keeps a reference; the caller must not reuse its memory. */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
  }

  /**
   * Size of the next frame counting its length prefix, once its prefix has arrived (undefined
   * before). Throws PROTOCOL_ERROR like `next` when the declared length is invalid.
   */
  peekFrameBytes(): number | undefined {
    if (this.#failed) throw this.#failed;
    if (this.#buffered < lengthPrefixBytes) return undefined;
    return lengthPrefixBytes + this.#checkedLength();
  }

  /**
   * The next complete frame (the bytes after the length prefix), or undefined when more bytes
   * are needed. Throws PROTOCOL_ERROR once a declared length is negative or over the limit;
   * after that the decoder stays failed.
   */
  next(): Uint8Array | undefined {
    if (this.#failed) throw this.#failed;
    if (this.#buffered < lengthPrefixBytes) return undefined;
    const length = this.#checkedLength();
    if (this.#buffered < lengthPrefixBytes + length) return undefined;
    this.#skip(lengthPrefixBytes);
    return this.#take(length);
  }

  /** The head frame's declared length; fails the decoder when it is negative or over the limit. */
  #checkedLength(): number {
    const length = this.#peekLength();
    if (length < 0 || length > this.frameBytesMax - lengthPrefixBytes) {
      this.#failed = protocolError(
        `frame length ${length} is ${length < 0 ? "negative" : `over the limit of ${this.frameBytesMax} bytes`}`,
      );
      throw this.#failed;
    }
    return length;
  }

  #peekLength(): number {
    const chunk = this.#chunks[this.#head]!;
    if (chunk.byteLength - this.#headOffset >= lengthPrefixBytes) return readI32(chunk, this.#headOffset);
    const four = new Uint8Array(lengthPrefixBytes);
    this.#copyOut(four, false);
    return readI32(four, 0);
  }

  #skip(bytes: number): void {
    let left = bytes;
    while (left > 0) {
      const chunk = this.#chunks[this.#head]!;
      const avail = chunk.byteLength - this.#headOffset;
      const n = Math.min(avail, left);
      left -= n;
      this.#advance(n, avail);
    }
  }

  #take(length: number): Uint8Array {
    const chunk = this.#chunks[this.#head];
    if (chunk === undefined || length === 0) return new Uint8Array(0);
    const avail = chunk.byteLength - this.#headOffset;
    if (avail >= length) {
      const view = chunk.subarray(this.#headOffset, this.#headOffset + length);
      this.#advance(length, avail);
      return view;
    }
    const out = Buffer.allocUnsafe(length);
    this.#copyOut(out, true);
    return out;
  }

  /** Copy `out.byteLength` unread bytes into `out`; consume them when `consume` is true. */
  #copyOut(out: Uint8Array, consume: boolean): void {
    let filled = 0;
    let index = this.#head;
    let offset = this.#headOffset;
    while (filled < out.byteLength) {
      const chunk = this.#chunks[index]!;
      const n = Math.min(chunk.byteLength - offset, out.byteLength - filled);
      out.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (offset === chunk.byteLength) {
        index++;
        offset = 0;
      }
    }
    if (consume) this.#skip(out.byteLength);
  }

  /** Consume `n` bytes of the head chunk, which has `avail` unread bytes. */
  #advance(n: number, avail: number): void {
    this.#buffered -= n;
    if (n < avail) {
      this.#headOffset += n;
      return;
    }
    this.#chunks[this.#head] = EMPTY; // drop the reference so the chunk can be collected
    this.#head++;
    this.#headOffset = 0;
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= 64) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
