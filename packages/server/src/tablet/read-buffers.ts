// Reused read buffers for fetches. Fresh memory costs a page fault per 4 KiB page on first
// touch — on our VMs that dominated large reads (8 ms to read 2 MiB into a new buffer, 0.2 ms into
// a touched one) — so log reads go into pooled buffers handed back once the response has left.
// Buffers come in power-of-two size classes; the pool keeps at most `pooledBytesMax` idle, and a
// request holds its buffers in an arena released as a whole (after the socket took the bytes).

const CLASS_BYTES_MIN = 64 * 1024;
const CLASS_BYTES_MAX = 128 * 1024 * 1024;

export class ReadBufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private pooledBytes = 0;
  readonly pooledBytesMax: number;

  constructor(pooledBytesMax = 256 * 1024 * 1024) {
    this.pooledBytesMax = pooledBytesMax;
  }

  private classOf(size: number): number {
    let c = CLASS_BYTES_MIN;
    while (c < size) c *= 2;
    return c;
  }

  /** A buffer of at least `size` bytes (its first `size` bytes are what callers see). */
  take(size: number): Buffer {
    if (size > CLASS_BYTES_MAX) return Buffer.allocUnsafe(size);
    const c = this.classOf(size);
    const list = this.free.get(c);
    const buf = list?.pop();
    if (buf) {
      this.pooledBytes -= c;
      return buf;
    }
    return Buffer.allocUnsafe(c);
  }

  give(buf: Buffer): void {
    const c = buf.byteLength;
    if (c < CLASS_BYTES_MIN || c > CLASS_BYTES_MAX || (c & (c - 1)) !== 0) return;
    if (this.pooledBytes + c > this.pooledBytesMax) return;
    let list = this.free.get(c);
    if (!list) {
      list = [];
      this.free.set(c, list);
    }
    list.push(buf);
    this.pooledBytes += c;
  }

  /** An arena for one request: allocations live until `release()`. */
  arena(): ReadArena {
    return new ReadArena(this);
  }

  get idleBytes(): number {
    return this.pooledBytes;
  }
}

export class ReadArena {
  private readonly pool: ReadBufferPool;
  private held: Buffer[] = [];

  constructor(pool: ReadBufferPool) {
    this.pool = pool;
  }

  readonly allocate = (size: number): Uint8Array => {
    const buf = this.pool.take(size);
    this.held.push(buf);
    return buf.subarray(0, size);
  };

  /** Hand every buffer back; nothing may touch them afterwards. */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const b of held) this.pool.give(b);
  }
}
