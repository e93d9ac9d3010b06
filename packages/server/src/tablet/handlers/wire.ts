// Helpers every tablet-server handler shares: the per-bucket error fields as sent (a Fluss wire
// code; client-side kinds mapped per API; failed assertions rethrown, never answered) and the
// optional partition id of a per-bucket entry.

import { type ApiDef, servedFlussError } from "@fluss-ts/rpc";

/** `error_code`/`error_message` of a per-bucket answer; nothing when `err` is null. */
export function errorFields(err: unknown, api: ApiDef): { errorCode?: number; errorMessage?: string } {
  if (err === null || err === undefined) return {};
  const e = servedFlussError(err, api);
  return { errorCode: e.code, errorMessage: e.message };
}

/** `{ partitionId }` when set, else nothing (so the optional field stays absent on the wire). */
export function partitionField(partitionId: bigint | null): { partitionId?: bigint } {
  return partitionId === null ? {} : { partitionId };
}
