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

  /**
   * Send this turn's lookups: grouped by bucket (a bucket number for a table without partitions,
   * so no string per key), then by the buckets' leaders, one request per leader of at most
   * KEYS_PER_REQUEST_MAX keys.
   */
  private dispatch(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const byBucket = new Map<number | string, Pending[]>();
    for (const p of batch) {
      const k = p.target.partitionId === null ? p.target.bucket : targetKey(p.target);
      const group = byBucket.get(k);
      if (group === undefined) byBucket.set(k, [p]);
      else group.push(p);
    }
    const byLeader = new Map<string, Pending[][]>();
    for (const group of byBucket.values()) {
      let leader: string;
      try {
        leader = this.ctx.leaderKey(group[0]!.target);
      } catch (err) {
        const e = toFlussError(err);
        for (const p of group) this.retry(p, e);
        continue;
      }
      const groups = byLeader.get(leader);
      if (groups === undefined) byLeader.set(leader, [group]);
      else groups.push(group);
    }
    for (const [leader, groups] of byLeader) {
      for (const request of requestsOf(groups)) void this.send(leader, request);
    }
  }

  /** One request: a key group per bucket. */
  private async send(leader: string, groups: Pending[][]): Promise<void> {
    let results: LookupBucketResult[];
    try {
      results = await this.ctx.send(leader, {
        buckets: groups.map((ps) => ({ ...ps[0]!.target, keys: ps.map((p) => p.key) })),
      });
    } catch (err) {
      const e = toFlussError(err);
      for (const ps of groups) for (const p of ps) this.retry(p, e);
      return;
    }
    let byKey: Map<string, LookupBucketResult> | undefined;
    for (let g = 0; g < groups.length; g++) {
      const ps = groups[g]!;
      const target = ps[0]!.target;
      // Answers come in request order; match by bucket when they do not.
      let r: LookupBucketResult | undefined = results[g];
      if (r === undefined || r.bucket !== target.bucket || r.partitionId !== target.partitionId) {
        byKey ??= new Map(results.map((x) => [targetKey(x), x]));
        r = byKey.get(targetKey(target));
      }
      if (!r) {
        const err = errorFromCode(
          Errors.UNKNOWN_SERVER_ERROR.code,
          `no result for bucket ${targetKey(target)}`,
        );
        for (const p of ps) p.reject(err);
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

/** A leader's bucket groups as requests of at most KEYS_PER_REQUEST_MAX keys (big groups split). */
function requestsOf(groups: readonly Pending[][]): Pending[][][] {
  const requests: Pending[][][] = [];
  let current: Pending[][] = [];
  let keys = 0;
  for (const group of groups) {
    for (let i = 0; i < group.length; ) {
      if (keys === KEYS_PER_REQUEST_MAX) {
        requests.push(current);
        current = [];
        keys = 0;
      }
      const take = Math.min(group.length - i, KEYS_PER_REQUEST_MAX - keys);
      current.push(i === 0 && take === group.length ? group : group.slice(i, i + take));
      keys += take;
      i += take;
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

function targetKey(t: LookupTarget): string {
  return t.partitionId === null ? `-/${t.bucket}` : `${t.partitionId}/${t.bucket}`;
}
