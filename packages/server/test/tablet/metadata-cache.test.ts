// A tablet server's metadata cache: UpdateMetadata adds tables and partitions with their routes and
// replaces the live servers; Fluss's deletion markers (table id -2, partition id -2) remove them;
// GetMetadata is answered only when everything asked for is cached, with leaders that are not live
// left out.

import { descriptorToJson, encodeJson, parseSchema } from "@fluss-ts/common";
import {
  create,
  isFieldSet,
  MetadataRequestSchema,
  type PbBucketMetadata,
  PbBucketMetadataSchema,
  UpdateMetadataRequestSchema,
} from "@fluss-ts/rpc";
import { describe, expect, it } from "vitest";
import { TabletMetadataCache } from "../../src/tablet/metadata-cache.ts";

const json = encodeJson(
  descriptorToJson({
    schema: parseSchema("id BIGINT, dt STRING NOT NULL"),
    partitionKeys: ["dt"],
    bucketKeys: [],
    bucketCount: 2,
    properties: {},
    customProperties: {},
  }),
);
const server = (id: number) => ({ nodeId: id, host: "h", port: 1000 + id });
const path = { databaseName: "db", tableName: "t" };
const table = (tableId: bigint, leader = 1) => ({
  tablePath: path,
  tableId,
  schemaId: 1,
  tableJson: json,
  createdTime: 5n,
  modifiedTime: 6n,
  bucketMetadata: [{ bucketId: 0, leaderId: leader, leaderEpoch: 3, replicaId: [leader] }],
});
const update = (o: object) => create(UpdateMetadataRequestSchema, { coordinatorServer: server(9), ...o });
const ask = (o: object) => create(MetadataRequestSchema, o);

describe("TabletMetadataCache", () => {
  it("answers from what it holds and only then", () => {
    const c = new TabletMetadataCache();
    expect(c.answer(ask({ tablePath: [path] }))).toBeNull();
    c.apply(update({ tabletServers: [server(1), server(2)], tableMetadata: [table(11n)] }));
    expect(c.tableInfo(11n)?.bucketCount).toBe(2);
    expect(c.tableInfo(11n)?.descriptor.partitionKeys).toEqual(["dt"]);
    const a = c.answer(ask({ tablePath: [path] }))!;
    expect(a.tableMetadata?.[0]?.bucketMetadata?.[0]?.leaderId).toBe(1);
    expect(a.tabletServers?.map((s) => s.nodeId)).toEqual([1, 2]);
    // Leader 1 no longer live: reported without a leader.
    c.apply(update({ tabletServers: [server(2)] }));
    const b = c.answer(ask({ tablePath: [path] }))!;
    const bucket = b.tableMetadata?.[0]?.bucketMetadata?.[0] as PbBucketMetadata;
    expect(isFieldSet(bucket, PbBucketMetadataSchema.field.leaderId)).toBe(false);
    expect(c.answer(ask({ tablePath: [{ databaseName: "db", tableName: "other" }] }))).toBeNull();
  });

  it("keeps partitions of known tables and forgets what Fluss's markers delete", () => {
    const c = new TabletMetadataCache();
    c.apply(
      update({
        tabletServers: [server(1)],
        tableMetadata: [table(11n)],
        partitionMetadata: [
          { tableId: 11n, partitionName: "2026", partitionId: 40n, bucketMetadata: [] },
          { tableId: 99n, partitionName: "x", partitionId: 41n, bucketMetadata: [] },
        ],
      }),
    );
    expect(c.answer(ask({ partitionsId: [40n] }))?.partitionMetadata).toHaveLength(1);
    expect(c.answer(ask({ partitionsId: [41n] }))).toBeNull();
    expect(
      c.answer(ask({ partitionsPath: [{ ...path, partitionName: "2026" }] }))?.partitionMetadata,
    ).toHaveLength(1);
    c.apply(
      update({
        tabletServers: [server(1)],
        partitionMetadata: [{ tableId: 11n, partitionName: "2026", partitionId: -2n }],
      }),
    );
    expect(c.answer(ask({ partitionsId: [40n] }))).toBeNull();
    c.apply(
      update({
        tabletServers: [server(1)],
        tableMetadata: [{ ...table(-2n), tableJson: new Uint8Array(0) }],
      }),
    );
    expect(c.tableInfo(11n)).toBeUndefined();
    expect(c.answer(ask({ tablePath: [path] }))).toBeNull();
  });

  it("replaces a table recreated under the same name", () => {
    const c = new TabletMetadataCache();
    c.apply(update({ tabletServers: [server(1)], tableMetadata: [table(11n)] }));
    c.apply(update({ tabletServers: [server(1)], tableMetadata: [table(12n)] }));
    expect(c.tableInfo(11n)).toBeUndefined();
    expect(c.answer(ask({ tablePath: [path] }))?.tableMetadata?.[0]?.tableId).toBe(12n);
  });
});
