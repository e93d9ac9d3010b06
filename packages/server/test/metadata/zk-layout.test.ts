// The ZooKeeper node codecs against JSON as Fluss's own serdes write it (samples from Fluss's
// *JsonSerdeTest classes), and round trips of what fluss-ts writes: leadership, tablet server
// registrations (versions 1 and 4), table registrations (the descriptor rebuilt from Fluss's fields
// and the schema), counters; names that cannot be path segments are refused with Fluss codes.

import { descriptorToJson, Errors, isFlussError, schemaToJson } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import {
  decodeCounter,
  decodeLeaderAndIsr,
  decodeTable,
  encodeCounter,
  encodeLeaderAndIsr,
  encodeTable,
  Paths,
} from "../../src/metadata/zk/zk-layout.ts";
import { decodeTabletServer, encodeTabletServer } from "../../src/metadata/zk/zk-registrations.ts";
import { descriptor } from "../helpers.ts";

const json = (text: string) => Buffer.from(text);

describe("ZooKeeper layout codecs", () => {
  it("reads Fluss's leader_isr versions 1 and 2, and writes version 2", () => {
    const v2 = json(
      '{"version":2,"leader":1,"leader_epoch":10,"isr":[1,2,3],"coordinator_epoch":100,"bucket_epoch":1000,"standby_replicas":[]}',
    );
    const lai = { leader: 1, leaderEpoch: 10, isr: [1, 2, 3], coordinatorEpoch: 100, bucketEpoch: 1000 };
    expect(decodeLeaderAndIsr(v2, "x")).toEqual(lai);
    expect(encodeLeaderAndIsr(lai).toString()).toBe(v2.toString());
    const v1 = json(
      '{"version":1,"leader":1,"leader_epoch":10,"isr":[1,2,3],"coordinator_epoch":100,"bucket_epoch":1000}',
    );
    expect(decodeLeaderAndIsr(v1, "x")).toEqual(lai);
  });

  it("reads Fluss's tablet server registrations (versions 1 and 4) and writes version 4", () => {
    const v4 = json(
      '{"version":4,"listeners":"CLIENT://localhost:2345,FLUSS://127.0.0.1:2346","register_timestamp":10000,"rack":"cn-hangzhou-server10","cpu_cores":8.0,"memory_bytes":1024}',
    );
    const read = decodeTabletServer(3, v4);
    expect(read).toEqual({
      info: {
        id: 3,
        endpoints: [
          { listener: "CLIENT", host: "localhost", port: 2345 },
          { listener: "FLUSS", host: "127.0.0.1", port: 2346 },
        ],
        rack: "cn-hangzhou-server10",
      },
      registerTimestamp: 10000,
    });
    expect(JSON.parse(encodeTabletServer(read.info, 10000).toString())).toEqual({
      version: 4,
      listeners: "CLIENT://localhost:2345,FLUSS://127.0.0.1:2346",
      register_timestamp: 10000,
      rack: "cn-hangzhou-server10",
    });
    const v1 = decodeTabletServer(
      1,
      json('{"version":1,"host":"localhost","port":1001,"register_timestamp":10000}'),
    );
    expect(v1.info.endpoints).toEqual([{ listener: "FLUSS", host: "localhost", port: 1001 }]);
  });

  it("reads a table node Fluss wrote (no fluss_ts field): the descriptor is rebuilt from its fields and schema", () => {
    const d = descriptor("id BIGINT, v STRING", { buckets: 32, options: { "option-3": "300" } });
    const schemaJson = JSON.stringify(schemaToJson(d.schema));
    const fluss = json(
      '{"version":1,"table_id":1234,"comment":"second-table","bucket_count":32,"properties":{"option-3":"300"},"custom_properties":{},"created_time":-1,"modified_time":-1}',
    );
    const reg = decodeTable("db", "t", fluss, 1, () => schemaJson);
    expect(reg).toMatchObject({ tableId: 1234n, bucketCount: 32, schemaId: 1, createdTime: -1 });
    expect(JSON.parse(reg.descriptorJson)).toEqual(descriptorToJson({ ...d, comment: "second-table" }));
    // And what fluss-ts writes for that descriptor is exactly Fluss's node.
    expect(encodeTable(reg, schemaJson).toString()).toBe(fluss.toString());
  });

  it("keeps a descriptor Fluss's fields cannot rebuild, and reads it back as given", () => {
    const reg = {
      database: "db",
      table: "t",
      tableId: 5n,
      schemaId: 2,
      descriptorJson: '{"something":"else"}',
      bucketCount: 1,
      createdTime: 1,
      modifiedTime: 2,
    };
    const node = encodeTable(reg, "{}");
    expect(JSON.parse(node.toString()).fluss_ts).toEqual({ descriptor: '{"something":"else"}' });
    expect(decodeTable("db", "t", node, 2, () => undefined)).toEqual(reg);
  });

  it("writes counters as Curator's 8-byte longs", () => {
    expect(encodeCounter(258n)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]));
    expect(decodeCounter(encodeCounter(2n ** 40n), "c")).toBe(2n ** 40n);
    expect(() => decodeCounter(Buffer.from("12"), "c")).toThrow(/8/);
  });

  it("refuses names that cannot be one path segment, with Fluss's codes", () => {
    for (const [f, code] of [
      [() => Paths.database("a/b"), Errors.INVALID_DATABASE_EXCEPTION.code],
      [() => Paths.table("db", ".."), Errors.INVALID_TABLE_EXCEPTION.code],
      [() => Paths.partition("db", "t", ""), Errors.PARTITION_SPEC_INVALID_EXCEPTION.code],
    ] as const) {
      let err: unknown = null;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(isFlussError(err) && err.code).toBe(code);
    }
    expect(Paths.partition("db", "t", "2026$x")).toBe("/metadata/databases/db/tables/t/partitions/2026$x");
  });
});
