// InitWriter (API 1026, public): a fresh writer id for an idempotent writer (never reused).
//   InitWriterRequest  { table_path: [PbTablePath] }
//   InitWriterResponse { writer_id: int64 }

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";

export function initWriterHandler(c: Coordinator): RequestHandler<typeof ApiKeys.INIT_WRITER> {
  return async () => ({ writerId: await c.allocateWriterId() });
}
