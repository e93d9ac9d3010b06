// GetDatabaseInfo (API 1035, public): a database's descriptor and times.
//   GetDatabaseInfoRequest  { database_name: string }
//   GetDatabaseInfoResponse { database_json: bytes (Fluss's form); created_time: int64;
//                             modified_time: int64 }

import { encodeJson } from "@fluss-ts/common";
import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { flussDatabaseJson } from "../database-json.ts";

export function getDatabaseInfoHandler(c: Coordinator): RequestHandler<typeof ApiKeys.GET_DATABASE_INFO> {
  return async (req) => {
    const db = await c.getDatabase(req.databaseName);
    return {
      // Rewritten in Fluss's form: databases created before it was stored that way hold "{}".
      databaseJson: encodeJson(flussDatabaseJson(db.descriptorJson)),
      createdTime: BigInt(db.createdTime),
      modifiedTime: BigInt(db.modifiedTime),
    };
  };
}
