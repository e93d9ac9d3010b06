// InitWriter (API 1026): a fresh writer id for an idempotent writer.
//   InitWriterRequest  { table_path: [PbTablePath] }
//   InitWriterResponse { writer_id: int64 }

import type { TablePath } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

export async function initWriter(rpc: RpcCaller, at: Address, path: TablePath): Promise<bigint> {
  return (await rpc.request(at, ApiKeys.INIT_WRITER, { tablePath: [pbPath(path)] })).writerId;
}
