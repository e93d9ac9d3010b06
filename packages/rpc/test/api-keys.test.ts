import { create } from "@bufbuild/protobuf";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { ReqOf, RespOf } from "../src/api-keys.ts";
import { ApiKeys, allApis, apiByKey, supportsVersion } from "../src/api-keys.ts";
import type { ProduceLogRequest, ProduceLogResponse } from "../src/gen/fluss/api_pb.ts";
import { ProduceLogRequestSchema } from "../src/gen/fluss/api_pb.ts";

describe("ApiKeys", () => {
  it("numbers APIs as Fluss does", () => {
    const expected: Record<string, number> = {
      API_VERSIONS: 1000,
      CREATE_DATABASE: 1001,
      DROP_DATABASE: 1002,
      LIST_DATABASES: 1003,
      DATABASE_EXISTS: 1004,
      CREATE_TABLE: 1005,
      DROP_TABLE: 1006,
      GET_TABLE_INFO: 1007,
      LIST_TABLES: 1008,
      LIST_PARTITION_INFOS: 1009,
      TABLE_EXISTS: 1010,
      GET_TABLE_SCHEMA: 1011,
      GET_METADATA: 1012,
      UPDATE_METADATA: 1013,
      PRODUCE_LOG: 1014,
      FETCH_LOG: 1015,
      PUT_KV: 1016,
      LOOKUP: 1017,
      NOTIFY_LEADER_AND_ISR: 1018,
      STOP_REPLICA: 1019,
      ADJUST_ISR: 1020,
      LIST_OFFSETS: 1021,
      GET_FILESYSTEM_SECURITY_TOKEN: 1025,
      INIT_WRITER: 1026,
      LIMIT_SCAN: 1033,
      PREFIX_LOOKUP: 1034,
      GET_DATABASE_INFO: 1035,
      CREATE_PARTITION: 1036,
      DROP_PARTITION: 1037,
      CONTROLLED_SHUTDOWN: 1043,
      SCAN_KV: 1061,
      GET_CLUSTER_HEALTH: 1062,
      REGISTER_TABLET_SERVER: 9000,
      ALLOCATE_ID_RANGE: 9001,
      OFFSET_FOR_LEADER_EPOCH: 9002,
      GET_CLUSTER_STATUS: 9100,
    };
    const actual = Object.fromEntries(Object.entries(ApiKeys).map(([name, def]) => [name, def.key]));
    expect(actual).toEqual(expected);
    for (const [name, def] of Object.entries(ApiKeys)) expect(def.name).toBe(name);
  });

  it("carries Fluss version ranges", () => {
    expect([ApiKeys.PUT_KV.minVersion, ApiKeys.PUT_KV.maxVersion]).toEqual([0, 2]);
    expect([ApiKeys.LOOKUP.minVersion, ApiKeys.LOOKUP.maxVersion]).toEqual([0, 1]);
    expect([ApiKeys.PREFIX_LOOKUP.minVersion, ApiKeys.PREFIX_LOOKUP.maxVersion]).toEqual([0, 1]);
    expect(ApiKeys.PRODUCE_LOG.maxVersion).toBe(0);
    expect(supportsVersion(ApiKeys.PUT_KV, 2)).toBe(true);
    expect(supportsVersion(ApiKeys.PUT_KV, 3)).toBe(false);
    const privateApis = allApis()
      .filter((a) => a.visibility === "private")
      .map((a) => a.name);
    expect(privateApis).toEqual([
      "UPDATE_METADATA",
      "NOTIFY_LEADER_AND_ISR",
      "STOP_REPLICA",
      "ADJUST_ISR",
      "CONTROLLED_SHUTDOWN",
      "REGISTER_TABLET_SERVER",
      "ALLOCATE_ID_RANGE",
      "OFFSET_FOR_LEADER_EPOCH",
    ]);
  });

  it("pairs each API with its request and response schemas by name", () => {
    for (const def of allApis()) {
      const base = def.request.name.replace(/Request$/, "");
      expect(def.response.name).toBe(`${base}Response`);
    }
    expect(ApiKeys.GET_METADATA.request.typeName).toBe("fluss.MetadataRequest");
  });

  it("looks keys up and returns undefined for unknown ones", () => {
    expect(apiByKey(1014)).toBe(ApiKeys.PRODUCE_LOG);
    expect(apiByKey(1013)).toBe(ApiKeys.UPDATE_METADATA);
    expect(apiByKey(1022)).toBeUndefined();
    expect(apiByKey(0)).toBeUndefined();
    expect(apiByKey(99999)).toBeUndefined();
  });

  it("infers message types from the table", () => {
    expectTypeOf<ReqOf<typeof ApiKeys.PRODUCE_LOG>>().toEqualTypeOf<ProduceLogRequest>();
    expectTypeOf<RespOf<typeof ApiKeys.PRODUCE_LOG>>().toEqualTypeOf<ProduceLogResponse>();
    const req: ReqOf<typeof ApiKeys.PRODUCE_LOG> = create(ProduceLogRequestSchema, {
      acks: -1,
      tableId: 1n,
      timeoutMs: 1,
    });
    expect(req.tableId).toBe(1n);
  });
});
