// Open KV scans of a tablet server (ScanKv): each scanner walks one bucket's consistent store view
// in batches of bounded size. Scanners are bounded in number and expire when idle, so an abandoned
// client cannot pin store views forever. Calls of one scanner must come in sequence order.

import { randomBytes } from "node:crypto";
import { type Clock, Errors, FlussError, type Scheduler, type TimerHandle } from "@fluss-ts/common";
import type { KvTablet } from "@fluss-ts/storage";

export const SCANNERS_MAX = 1024;
export const SCANNER_IDLE_MS_MAX = 10 * 60_000;
export const SCAN_BATCH_BYTES_DEFAULT = 4 * 1024 * 1024;
export const SCAN_BATCH_BYTES_MAX = 64 * 1024 * 1024;

interface Scanner {
  readonly id: string;
  readonly values: Iterator<Uint8Array>;
  readonly logOffset: bigint;
  remaining: bigint;
  nextSeq: number;
  lastUsedMs: number;
  pending: Uint8Array | undefined;
}

export interface ScanBatchResult {
  scannerId: Uint8Array;
  values: Uint8Array[];
  hasMore: boolean;
  logOffset: bigint;
}

export class KvScanners {
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly scanners = new Map<string, Scanner>();
  private readonly expired = new Set<string>();
  private sweeper: TimerHandle | undefined;

  constructor(clock: Clock, scheduler: Scheduler) {
    this.clock = clock;
    this.scheduler = scheduler;
  }

  startExpiry(intervalMs = 30_000): void {
    this.sweeper = this.scheduler.setInterval(() => this.expireIdle(), intervalMs);
    this.sweeper.unref();
  }

  /** Close scanners idle longer than SCANNER_IDLE_MS_MAX. */
  expireIdle(): void {
    const now = this.clock.nowMs();
    for (const s of this.scanners.values()) {
      if (now - s.lastUsedMs > SCANNER_IDLE_MS_MAX) {
        this.drop(s);
        if (this.expired.size >= SCANNERS_MAX) this.expired.clear();
        this.expired.add(s.id);
      }
    }
  }

  open(kv: KvTablet, limit: bigint | null, batchBytes: number): ScanBatchResult {
    if (this.scanners.size >= SCANNERS_MAX) {
      throw new FlussError(Errors.TOO_MANY_SCANNERS, `this server has ${SCANNERS_MAX} open scanners`);
    }
    if (limit !== null && limit <= 0n)
      throw new FlussError(Errors.INVALID_SCAN_REQUEST, "limit must be positive");
    const scan = kv.scan();
    const s: Scanner = {
      id: randomBytes(16).toString("hex"),
      values: scan.values[Symbol.iterator](),
      logOffset: scan.logOffset,
      remaining: limit ?? -1n,
      nextSeq: 0,
      lastUsedMs: this.clock.nowMs(),
      pending: undefined,
    };
    this.scanners.set(s.id, s);
    return this.batch(s, batchBytes);
  }

  next(scannerId: Uint8Array, callSeq: number | null, batchBytes: number): ScanBatchResult {
    const id = Buffer.from(scannerId).toString("hex");
    const s = this.scanners.get(id);
    if (!s) {
      if (this.expired.has(id))
        throw new FlussError(Errors.SCANNER_EXPIRED, "the scanner expired after being idle");
      throw new FlussError(Errors.UNKNOWN_SCANNER_ID, "no such scanner (finished, closed or never opened)");
    }
    if (callSeq !== null && callSeq !== s.nextSeq) {
      throw new FlussError(Errors.INVALID_SCAN_REQUEST, `expected call ${s.nextSeq}, got ${callSeq}`);
    }
    return this.batch(s, batchBytes);
  }

  close(scannerId: Uint8Array): void {
    const s = this.scanners.get(Buffer.from(scannerId).toString("hex"));
    if (s) this.drop(s);
  }

  private batch(s: Scanner, batchBytesAsked: number): ScanBatchResult {
    const limitBytes = Math.min(
      SCAN_BATCH_BYTES_MAX,
      batchBytesAsked > 0 ? batchBytesAsked : SCAN_BATCH_BYTES_DEFAULT,
    );
    s.lastUsedMs = this.clock.nowMs();
    s.nextSeq++;
    const values: Uint8Array[] = [];
    let bytes = 0;
    let done = false;
    while (bytes < limitBytes && s.remaining !== 0n) {
      const v = s.pending ?? s.values.next().value;
      s.pending = undefined;
      if (v === undefined) {
        done = true;
        break;
      }
      values.push(v);
      bytes += v.byteLength + 4;
      if (s.remaining > 0n) s.remaining--;
    }
    if (!done && s.remaining !== 0n) {
      // Peek so a scan that ends exactly at a batch boundary says so now.
      const peek = s.values.next();
      if (peek.done) done = true;
      else s.pending = peek.value;
    }
    const hasMore = !done && s.remaining !== 0n;
    if (!hasMore) this.drop(s);
    return { scannerId: Buffer.from(s.id, "hex"), values, hasMore, logOffset: s.logOffset };
  }

  private drop(s: Scanner): void {
    this.scanners.delete(s.id);
    s.values.return?.();
  }

  closeAll(): void {
    this.scheduler.clearInterval(this.sweeper);
    for (const s of [...this.scanners.values()]) this.drop(s);
  }

  get openCount(): number {
    return this.scanners.size;
  }
}
