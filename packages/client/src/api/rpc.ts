// What the per-API functions of this folder send requests through: a pool of server connections
// (server-pool.ts), addressed by host:port. Each API of the client lives in its own file here —
// request building and response mapping, its wire shape in its opening comment — so writers,
// scanners, lookups and admin hold no protobuf of their own.

import type { ApiDef, ReqInitOf, RespOf } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";

export interface RpcCaller {
  request<A extends ApiDef>(
    addr: Address,
    api: A,
    req: ReqInitOf<A>,
    opts?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<RespOf<A>>;
}

/** The optional partition_id of a per-bucket request entry: present only for a partition. */
export function partitionField(partitionId: bigint | null): { partitionId?: bigint } {
  return partitionId === null ? {} : { partitionId };
}

export function pbPath(p: { database: string; table: string }): { databaseName: string; tableName: string } {
  return { databaseName: p.database, tableName: p.table };
}
