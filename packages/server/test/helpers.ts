// Test helpers for the coordinator: a Coordinator over a LocalMetadataStore in a temp directory,
// fake tablet servers that record what they are told, and table descriptors from SQL-ish text.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, parseSchema, type TableDescriptor } from "@fluss-ts/common";
import {
  type BucketAnswer,
  Coordinator,
  type CoordinatorOptions,
  type MetadataUpdate,
  type ReplicaAssignment,
  type ReplicaRef,
  type ServerNode,
  type StopReplica,
  type TabletServerGateway,
} from "../src/coordinator/coordinator.ts";
import { silentLogger } from "../src/logging.ts";
import { LocalMetadataStore } from "../src/metadata/local-metadata-store.ts";

function refKey(r: { tableId: bigint; partitionId: bigint | null; bucket: number }): string {
  return `${r.tableId}/${r.partitionId ?? "-"}/${r.bucket}`;
}

/** A tablet server that only remembers the replicas it hosts and the metadata it was sent. */
export class FakeTabletServer implements TabletServerGateway {
  readonly node: ServerNode;
  readonly hosted = new Map<string, ReplicaAssignment>();
  readonly deleted: ReplicaRef[] = [];
  readonly updates: MetadataUpdate[] = [];
  /** Coordinator epochs of the requests received, in order. */
  readonly epochs: number[] = [];
  closed = false;

  constructor(id: number) {
    this.node = { id, host: "127.0.0.1", port: 10_000 + id };
  }

  async updateMetadata(coordinatorEpoch: number, update: MetadataUpdate): Promise<void> {
    this.epochs.push(coordinatorEpoch);
    this.updates.push(update);
  }

  async notifyLeaderAndIsr(
    coordinatorEpoch: number,
    assignments: readonly ReplicaAssignment[],
  ): Promise<BucketAnswer[]> {
    this.epochs.push(coordinatorEpoch);
    for (const a of assignments) this.hosted.set(refKey({ ...a, tableId: a.table.tableId }), a);
    return assignments.map((a) => ({
      ref: { tableId: a.table.tableId, partitionId: a.partitionId, bucket: a.bucket },
      error: null,
    }));
  }

  async stopReplicas(coordinatorEpoch: number, stops: readonly StopReplica[]): Promise<BucketAnswer[]> {
    this.epochs.push(coordinatorEpoch);
    for (const r of stops) {
      const ref = { tableId: r.tableId, partitionId: r.partitionId, bucket: r.bucket };
      this.hosted.delete(refKey(ref));
      if (r.delete) this.deleted.push(ref);
    }
    return stops.map((r) => ({
      ref: { tableId: r.tableId, partitionId: r.partitionId, bucket: r.bucket },
      error: null,
    }));
  }

  close(): void {
    this.closed = true;
  }

  /** Partition names of a table this server hosts a replica of. */
  partitionsOf(tableId: bigint): string[] {
    const names = new Set<string>();
    for (const a of this.hosted.values()) {
      if (a.table.tableId === tableId && a.partitionName !== null) names.add(a.partitionName);
    }
    return [...names].sort();
  }
}

export interface CoordinatorFixture {
  coordinator: Coordinator;
  store: LocalMetadataStore;
  clock: ManualClock;
  servers: FakeTabletServer[];
  dir: string;
  /** A fresh coordinator over the same metadata (a restart). */
  restart(): Promise<CoordinatorFixture>;
  close(): Promise<void>;
}

export async function startCoordinator(
  opts: Partial<CoordinatorOptions> & { startMs?: number; servers?: number; dir?: string } = {},
): Promise<CoordinatorFixture> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "fluss-coord-")));
  const store = new LocalMetadataStore(dir);
  await store.open();
  const clock = opts.clock instanceof ManualClock ? opts.clock : new ManualClock(opts.startMs ?? 0);
  const coordinator = new Coordinator({
    store,
    clock,
    logger: silentLogger,
    node: { id: -1, host: "127.0.0.1", port: 9123 },
    defaultBucketNumber: 1,
    defaultReplicationFactor: 1,
    bucketCountMax: 4096,
    defaultTimeZone: "UTC",
    ...opts,
  });
  const servers: FakeTabletServer[] = [];
  for (let i = 0; i < (opts.servers ?? 2); i++) {
    const s = new FakeTabletServer(i);
    servers.push(s);
    await coordinator.registerTabletServer(s);
  }
  await coordinator.createDatabase("db", true);
  const fixture: CoordinatorFixture = {
    coordinator,
    store,
    clock,
    servers,
    dir,
    async restart() {
      await coordinator.autoPartitions.stop();
      await store.close();
      return startCoordinator({ ...opts, clock, dir });
    },
    async close() {
      await coordinator.autoPartitions.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** A descriptor from a schema text, partition keys, buckets and options. */
export function descriptor(
  schema: string,
  o: {
    partitionKeys?: string[];
    bucketKeys?: string[];
    buckets?: number;
    options?: Record<string, string>;
  } = {},
): TableDescriptor {
  return {
    schema: parseSchema(schema),
    partitionKeys: o.partitionKeys ?? [],
    bucketKeys: o.bucketKeys ?? [],
    ...(o.buckets === undefined ? {} : { bucketCount: o.buckets }),
    properties: o.options ?? {},
    customProperties: {},
  };
}
