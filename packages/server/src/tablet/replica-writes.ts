// The write side of a tablet server (Fluss's ReplicaManager.appendRecordsToLog / putRecordsToKv):
// append log batches and put KV batches to the buckets this server leads, each bucket answered on
// its own. A bucket's failure is its own answer, never the request's; an unexpected server error
// is logged at error. Every log batch must name the table's schema (SCHEMA_NOT_EXIST otherwise).
// Acks follow Fluss's required acks (replica.ts); an acks=all write waits at most the request's
// timeout for its in-sync replicas (REQUEST_TIME_OUT after that).

import { Errors, FlussError, splitBatches, toFlussError } from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import { type Replica, type RequiredAcks, WRITE_TIMEOUT_MS_DEFAULT } from "./replica.ts";
import type { ReplicaManager } from "./replica-manager.ts";

export interface ProduceBucket {
  partitionId: bigint | null;
  bucket: number;
  records: Uint8Array;
}

export interface ProduceBucketResult {
  partitionId: bigint | null;
  bucket: number;
  error: FlussError | null;
  /** Log: the first offset written; KV: the log end offset after the write. */
  baseOffset: bigint;
}

export class ReplicaWrites {
  private readonly replicas: ReplicaManager;
  private readonly logger: Logger;

  constructor(replicas: ReplicaManager, logger: Logger) {
    this.replicas = replicas;
    this.logger = logger;
  }

  /** Append to each bucket as leader, answering per `acks` (Fluss's required acks; see replica.ts). */
  produce(
    tableId: bigint,
    buckets: readonly ProduceBucket[],
    acks: RequiredAcks = -1,
    timeoutMs = WRITE_TIMEOUT_MS_DEFAULT,
  ): Promise<ProduceBucketResult[]> {
    return Promise.all(
      buckets.map(async (b): Promise<ProduceBucketResult> => {
        try {
          const replica = this.replicas.replica({ tableId, partitionId: b.partitionId, bucket: b.bucket });
          checkSchemas(replica, b.records);
          const r = await replica.appendAsLeader(b.records, acks, timeoutMs);
          return { partitionId: b.partitionId, bucket: b.bucket, error: null, baseOffset: r.baseOffset };
        } catch (err) {
          return this.failed(b, err, "produce failed");
        }
      }),
    );
  }

  /** Upsert/delete KV batches in each bucket as leader, answering per `acks`. */
  putKv(
    tableId: bigint,
    buckets: readonly ProduceBucket[],
    targetColumns: readonly number[] | null,
    acks: RequiredAcks = -1,
    timeoutMs = WRITE_TIMEOUT_MS_DEFAULT,
  ): Promise<ProduceBucketResult[]> {
    return Promise.all(
      buckets.map(async (b): Promise<ProduceBucketResult> => {
        try {
          const replica = this.replicas.replica({ tableId, partitionId: b.partitionId, bucket: b.bucket });
          const r = await replica.putKvAsLeader(b.records, targetColumns, acks, timeoutMs);
          return { partitionId: b.partitionId, bucket: b.bucket, error: null, baseOffset: r.lastOffset + 1n };
        } catch (err) {
          return this.failed(b, err, "put kv failed");
        }
      }),
    );
  }

  private failed(b: ProduceBucket, err: unknown, what: string): ProduceBucketResult {
    const e = toFlussError(err);
    if (e.is(Errors.UNKNOWN_SERVER_ERROR)) this.logger.error({ err }, what);
    return { partitionId: b.partitionId, bucket: b.bucket, error: e, baseOffset: -1n };
  }
}

/** Every batch must name a schema the table has (today: its one schema). */
function checkSchemas(replica: Replica, records: Uint8Array): void {
  for (const { header } of splitBatches(records, { verifyCrc: false, allowPartialTail: false })) {
    if (header.schemaId !== replica.table.schemaId) {
      throw new FlussError(
        Errors.SCHEMA_NOT_EXIST,
        `batch names schema ${header.schemaId}; table ${replica.table.tableId} has schema ${replica.table.schemaId}`,
      );
    }
  }
}
