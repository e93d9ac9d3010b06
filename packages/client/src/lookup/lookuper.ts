// Point and prefix lookups of a primary-key table. Concurrent lookups coalesce: every call made in
// the same turn of the event loop joins one request per leader (one bucket entry per bucket), so
// 64 callers awaiting lookups in a loop cost one round trip per round, not 64. Retriable errors
// (leader moved, connection lost, a new leader still catching up) refresh the route and retry, with
// a backoff growing to RETRY_BACKOFF_MS_MAX, ATTEMPTS_MAX times (~35 s: a leader failover fits).

import { Errors, errorFromCode, type FlussError, type Scheduler, toFlussError } from "@fluss-ts/common";

/** A physical bucket: of the table, or of one of its partitions. */
export interface LookupTarget {
  readonly partitionId: bigint | null;
  readonly bucket: number;
}

export interface LookupRequestSpec {
  buckets: ReadonlyArray<LookupTarget & { keys: Uint8Array[] }>;
}

export interface LookupBucketResult {
  partitionId: bigint | null;
  bucket: number;
  errorCode: number;
  errorMessage: string;
  /** One entry per key: the stored values (one for a point lookup, any number for a prefix). */
  values: Uint8Array[][];
}

export interface LookupContext {
  /** Retry backoff timers. */
  readonly scheduler: Scheduler;
  leaderKey(target: LookupTarget): string;
  send(leaderKey: string, spec: LookupRequestSpec): Promise<LookupBucketResult[]>;
  onRetriableError(err: FlussError): void;
}

interface Pending {
  target: LookupTarget;
  key: Uint8Array;
  attempts: number;
  resolve(values: Uint8Array[]): void;
  reject(err: FlussError): void;
}

const KEYS_PER_REQUEST_MAX = 1024;
const ATTEMPTS_MAX = 40;
const RETRY_BACKOFF_MS = 100;
const RETRY_BACKOFF_MS_MAX = 1000;

/** Batches lookups of one kind (point or prefix) for one table. */
export class LookupBatcher {
  private readonly ctx: LookupContext;
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(ctx: LookupContext) {
    this.ctx = ctx;
  }

  /** All stored values for a key (point lookup: zero or one). */
  lookup(target: LookupTarget, key: Uint8Array): Promise<Uint8Array[]> {
    return new Promise((resolve, reject) => {
      this.enqueue({ target, key, attempts: 0, resolve, reject });
    });
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.dispatch());
    }
  }

  private dispatch(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const byLeader = new Map<string, Pending[]>();
    for (const p of batch) {
      let leader: string;
      try {
        leader = this.ctx.leaderKey(p.target);
      } catch (err) {
        this.retry(p, toFlussError(err));
        continue;
      }
      const list = byLeader.get(leader) ?? [];
      list.push(p);
      byLeader.set(leader, list);
    }
    for (const [leader, list] of byLeader) {
      for (let i = 0; i < list.length; i += KEYS_PER_REQUEST_MAX) {
        void this.send(leader, list.slice(i, i + KEYS_PER_REQUEST_MAX));
      }
    }
  }

  private async send(leader: string, list: Pending[]): Promise<void> {
    const byBucket = new Map<string, Pending[]>();
    for (const p of list) {
      const k = targetKey(p.target);
      const l = byBucket.get(k) ?? [];
      l.push(p);
      byBucket.set(k, l);
    }
    let results: LookupBucketResult[];
    try {
      results = await this.ctx.send(leader, {
        buckets: [...byBucket.values()].map((ps) => ({ ...ps[0]!.target, keys: ps.map((p) => p.key) })),
      });
    } catch (err) {
      for (const p of list) this.retry(p, toFlussError(err));
      return;
    }
    const resultOf = new Map(results.map((r) => [targetKey(r), r]));
    for (const [key, ps] of byBucket) {
      const r = resultOf.get(key);
      if (!r) {
        for (const p of ps)
          p.reject(errorFromCode(Errors.UNKNOWN_SERVER_ERROR.code, `no result for bucket ${key}`));
      } else if (r.errorCode !== 0) {
        const err = errorFromCode(r.errorCode, r.errorMessage);
        for (const p of ps) this.retry(p, err);
      } else {
        for (let i = 0; i < ps.length; i++) ps[i]!.resolve(r.values[i] ?? []);
      }
    }
  }

  private retry(p: Pending, err: FlussError): void {
    p.attempts++;
    if (!err.retriable || p.attempts >= ATTEMPTS_MAX) {
      p.reject(err);
      return;
    }
    this.ctx.onRetriableError(err);
    this.ctx.scheduler.setTimeout(
      () => this.enqueue(p),
      Math.min(RETRY_BACKOFF_MS_MAX, RETRY_BACKOFF_MS * p.attempts),
    );
  }
}

function targetKey(t: LookupTarget): string {
  return t.partitionId === null ? `-/${t.bucket}` : `${t.partitionId}/${t.bucket}`;
}
