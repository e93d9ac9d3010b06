// The client's metadata cache reads bucket routes as servers send them: a bucket whose leader is
// being elected comes without leader_id (proto2 presence) and has no route — LEADER_NOT_AVAILABLE,
// retriable — instead of a route to server 0 (the field's default); a learned coordinator address
// that serves no metadata any more (a standby after a failover) sends it to the bootstrap servers.

import { create } from "@bufbuild/protobuf";
import {
  descriptorToJson,
  Errors,
  encodeJson,
  FlussError,
  isFlussError,
  parseSchema,
} from "@fluss-ts/common";
import { type ApiDef, MetadataResponseSchema, PbBucketMetadataSchema, type RespOf } from "@fluss-ts/rpc";
import { describe, expect, it } from "vitest";
import { MetadataCache } from "../src/metadata.ts";
import type { ServerPool } from "../src/server-pool.ts";

function response() {
  const led = create(PbBucketMetadataSchema, { bucketId: 0, replicaId: [0, 1], leaderId: 1, leaderEpoch: 3 });
  const leaderless = create(PbBucketMetadataSchema, { bucketId: 1, replicaId: [0, 1] });
  return create(MetadataResponseSchema, {
    coordinatorServer: { nodeId: -1, host: "127.0.0.1", port: 9123 },
    tabletServers: [
      { nodeId: 0, host: "127.0.0.1", port: 9124 },
      { nodeId: 1, host: "127.0.0.1", port: 9125 },
    ],
    tableMetadata: [
      {
        tablePath: { databaseName: "db", tableName: "t" },
        tableId: 7n,
        schemaId: 1,
        tableJson: encodeJson(
          descriptorToJson({
            schema: parseSchema("id BIGINT"),
            partitionKeys: [],
            bucketKeys: [],
            bucketCount: 2,
            properties: {},
            customProperties: {},
          }),
        ),
        bucketMetadata: [led, leaderless],
        createdTime: 1n,
        modifiedTime: 1n,
      },
    ],
  });
}

describe("MetadataCache", () => {
  it("routes a led bucket to its leader and a bucket without a leader nowhere (retriable)", async () => {
    const pool = {
      request: async <A extends ApiDef>() => response() as unknown as RespOf<A>,
    } as unknown as ServerPool;
    const cache = new MetadataCache(pool, [{ host: "127.0.0.1", port: 9123 }]);
    const route = await cache.table({ database: "db", table: "t" });
    expect(route.buckets.map((b) => b.leader)).toEqual([1, null]);
    expect(cache.leaderOf(route, 0)).toEqual({ host: "127.0.0.1", port: 9125 });
    let refused: unknown;
    try {
      cache.leaderOf(route, 1);
    } catch (err) {
      refused = err;
    }
    expect(isFlussError(refused) && refused.is(Errors.LEADER_NOT_AVAILABLE_EXCEPTION)).toBe(true);
    expect(isFlussError(refused) && refused.retriable).toBe(true);
  });

  it("asks the bootstrap servers when the coordinator it learned serves no metadata (now a standby)", async () => {
    const asked: number[] = [];
    const pool = {
      request: async <A extends ApiDef>(addr: { port: number }) => {
        asked.push(addr.port);
        // 9123: the coordinator the first answer named, restarted as a standby since.
        if (addr.port === 9123)
          throw new FlussError(Errors.UNSUPPORTED_VERSION, "API key 1012 is not supported by this server");
        return response() as unknown as RespOf<A>;
      },
    } as unknown as ServerPool;
    const cache = new MetadataCache(pool, [{ host: "127.0.0.1", port: 9124 }]);
    const path = { database: "db", table: "t" };
    await cache.table(path);
    expect(asked).toEqual([9124]);
    const route = await cache.table(path, true);
    expect(route.buckets.map((b) => b.leader)).toEqual([1, null]);
    expect(asked).toEqual([9124, 9123, 9124]);
  });
});
