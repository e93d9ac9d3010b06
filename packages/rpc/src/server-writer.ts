// The write side of one server connection: response frames go through a FIFO queue and reach the
// socket in slices, so one multi-MiB response (a FetchLog answer) never holds the event loop for
// the milliseconds a single huge writev would take. Invariants:
// - bytes reach the socket in the order their frames were queued; a frame's parts are never
//   interleaved with another frame's (responses are queued whole, at once);
// - at most `sliceBytesMax` bytes are handed to the socket per flush, in one corked batch (one
//   writev); the next slice waits for the socket's 'drain' when its buffer is over the high-water
//   mark, and always for the next event-loop turn (setImmediate), never a nextTick chain;
// - the first flush after the writer was idle runs on process.nextTick, so every response queued
//   in one tick leaves in one system call (as a corked socket did) and small answers gain no
//   extra turn of latency;
// - a frame's `done` runs once, after the socket's callback for the write holding the frame's
//   last byte (the bytes are in the kernel) or when the connection closes with it unsent: only
//   then may the buffers it refers to be reused;
// - queued parts are views of the caller's buffers (no copy); a large part is cut with subarray.

import assert from "node:assert/strict";

/** What the writer needs of a socket (net.Socket has it all). */
export interface WritableSocket {
  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
  end(cb?: () => void): unknown;
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  readonly writableHighWaterMark: number;
  once(event: "drain", listener: () => void): unknown;
}

export interface ResponseWriterOptions {
  /** Bytes handed to the socket per flush (per event-loop turn); default 256 KiB. */
  readonly sliceBytesMax?: number;
  /** Runs `fn` on a later event-loop turn (default setImmediate); tests inject their own. */
  readonly nextTurn?: (fn: () => void) => void;
  /** Called when the queue was emptied (the socket may have taken all there was). */
  readonly onQueueEmpty?: () => void;
}

/** Default bytes handed to the socket per event-loop turn. */
export const responseSliceBytesMaxDefault = 256 * 1024;

interface Entry {
  readonly chunk: Uint8Array;
  /** The frame's completion, on the entry holding its last part. */
  readonly done: (() => void) | undefined;
}

export class ResponseWriter {
  readonly #socket: WritableSocket;
  readonly #sliceBytesMax: number;
  readonly #nextTurn: (fn: () => void) => void;
  readonly #onQueueEmpty: () => void;
  #queue: Entry[] = [];
  #head = 0; // index of the first entry still queued
  #headOffset = 0; // bytes of the head entry's chunk already written
  #queuedBytes = 0;
  #scheduled = false; // a flush is scheduled (nextTick, nextTurn or a 'drain' wait)
  #closed = false;
  #endWhenFlushed: (() => void) | undefined;

  constructor(socket: WritableSocket, options: ResponseWriterOptions = {}) {
    const sliceBytesMax = options.sliceBytesMax ?? responseSliceBytesMaxDefault;
    assert(Number.isInteger(sliceBytesMax) && sliceBytesMax > 0, "sliceBytesMax must be a positive integer");
    this.#socket = socket;
    this.#sliceBytesMax = sliceBytesMax;
    this.#nextTurn = options.nextTurn ?? ((fn) => setImmediate(fn));
    this.#onQueueEmpty = options.onQueueEmpty ?? (() => {});
  }

  /** Bytes queued here and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** True while unsent bytes (here and in the socket's buffer) reach the socket's high-water mark. */
  get backlogged(): boolean {
    if (this.#socket.writableNeedDrain) return true;
    return this.#queuedBytes + this.#socket.writableLength >= this.#socket.writableHighWaterMark;
  }

  /** Queue one whole frame; `done` runs once its bytes are in the kernel or will never be sent. */
  write(parts: readonly Uint8Array[], done?: () => void): void {
    assert(!this.#closed && this.#endWhenFlushed === undefined, "write after the writer ended");
    assert(parts.length > 0, "a frame has at least one part");
    for (let i = 0; i < parts.length; i++) {
      const chunk = parts[i]!;
      this.#queue.push({ chunk, done: i === parts.length - 1 ? done : undefined });
      this.#queuedBytes += chunk.byteLength;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(() => this.#flush());
    }
  }

  /** Write `last` (if any) after everything queued, then end the socket and call `onEnded`. */
  end(onEnded: () => void, last?: Uint8Array): void {
    if (this.#closed || this.#endWhenFlushed !== undefined) return;
    if (last !== undefined) this.write([last]);
    this.#endWhenFlushed = onEnded;
    if (!this.#scheduled) this.#finishEnd();
  }

  /** The socket closed: frames still queued will never be sent; run their completions. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const rest = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    this.#headOffset = 0;
    this.#queuedBytes = 0;
    for (const e of rest) runSafely(e.done);
  }

  /** Hand at most one slice to the socket, then schedule the next one. */
  #flush(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    let budget = this.#sliceBytesMax;
    const socket = this.#socket;
    socket.cork();
    try {
      while (budget > 0 && this.#head < this.#queue.length) {
        const entry = this.#queue[this.#head]!;
        const left = entry.chunk.byteLength - this.#headOffset;
        if (left > budget) {
          const end = this.#headOffset + budget;
          socket.write(entry.chunk.subarray(this.#headOffset, end));
          this.#headOffset = end;
          this.#queuedBytes -= budget;
          budget = 0;
          break;
        }
        const piece = this.#headOffset === 0 ? entry.chunk : entry.chunk.subarray(this.#headOffset);
        const { done } = entry;
        if (done) socket.write(piece, () => done());
        else socket.write(piece);
        this.#queue[this.#head] = emptyEntry; // let the buffer go
        this.#head++;
        this.#headOffset = 0;
        this.#queuedBytes -= left;
        budget -= left;
      }
    } finally {
      socket.uncork();
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      this.#onQueueEmpty();
      if (this.#endWhenFlushed !== undefined) this.#finishEnd();
      return;
    }
    if (this.#head >= 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#scheduled = true;
    if (socket.writableNeedDrain) socket.once("drain", () => this.#nextTurn(() => this.#flush()));
    else this.#nextTurn(() => this.#flush());
  }

  #finishEnd(): void {
    const onEnded = this.#endWhenFlushed;
    assert(onEnded !== undefined && !this.#scheduled);
    this.#socket.end(onEnded);
  }
}

const emptyEntry: Entry = { chunk: new Uint8Array(0), done: undefined };

function runSafely(fn: (() => void) | undefined): void {
  if (fn === undefined) return;
  try {
    fn();
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
