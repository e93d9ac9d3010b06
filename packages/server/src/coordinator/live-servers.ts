// The tablet servers the coordinator knows to be alive (Fluss's CoordinatorContext live servers)
// and the fan-out of control messages to them: UpdateMetadata to every live server,
// NotifyLeaderAndIsr and StopReplica to the servers hosting the buckets concerned. Messages are
// queued on each server's gateway when the fan-out is called — from inside the coordinator's serial
// queue, so servers see changes in the order they were made — and the returned promises are awaited
// only outside that queue: a tablet server that calls back into the coordinator while acting on a
// message (auto-increment id ranges) never waits on the queue that waits on it.
// Invariants: every message carries this coordinator's epoch; a server that left gets nothing more
// (its gateway is closed and what was queued for it fails); a server in controlled shutdown is
// still live but gets no new buckets.

import { Errors, FlussError } from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import type {
  BucketAnswer,
  MetadataUpdate,
  PartitionUpdate,
  ReplicaAssignment,
  ServerNode,
  StopReplica,
  TabletServerGateway,
  TableUpdate,
} from "./types.ts";

/** A bucket's outcome on one server: answered (ok or its error), or not confirmed (server away). */
export interface BucketOutcome {
  readonly serverId: number;
  readonly answer: BucketAnswer | null;
  /** Why there is no answer (the server left, fenced us, or could not be reached). */
  readonly unconfirmed: unknown;
}

export class LiveTabletServers {
  private readonly gateways = new Map<number, TabletServerGateway>();
  private readonly shuttingDown = new Set<number>();
  private readonly logger: Logger;
  private readonly coordinatorNode: () => ServerNode;
  private epoch: number;

  constructor(o: { logger: Logger; coordinatorNode: () => ServerNode; coordinatorEpoch: number }) {
    this.logger = o.logger;
    this.coordinatorNode = o.coordinatorNode;
    this.epoch = o.coordinatorEpoch;
  }

  get coordinatorEpoch(): number {
    return this.epoch;
  }

  set coordinatorEpoch(epoch: number) {
    this.epoch = epoch;
  }

  get size(): number {
    return this.gateways.size;
  }

  has(id: number): boolean {
    return this.gateways.has(id);
  }

  get(id: number): TabletServerGateway | undefined {
    return this.gateways.get(id);
  }

  /** Live servers, by id. */
  nodes(): ServerNode[] {
    return [...this.gateways.values()].map((g) => g.node).sort((a, b) => a.id - b.id);
  }

  /** Ids of the servers new buckets may go to (live, not shutting down), ascending. */
  assignableIds(): number[] {
    return [...this.gateways.keys()].filter((id) => !this.shuttingDown.has(id)).sort((a, b) => a - b);
  }

  /** A server joins (or rejoins: its previous gateway is closed). */
  add(gateway: TabletServerGateway): void {
    this.gateways.get(gateway.node.id)?.close();
    this.gateways.set(gateway.node.id, gateway);
    this.shuttingDown.delete(gateway.node.id);
  }

  /** A server left: nothing more is sent to it. */
  remove(id: number): TabletServerGateway | undefined {
    const g = this.gateways.get(id);
    this.gateways.delete(id);
    this.shuttingDown.delete(id);
    g?.close();
    return g;
  }

  markShuttingDown(id: number): void {
    if (this.gateways.has(id)) this.shuttingDown.add(id);
  }

  /** Live and not shutting down: may lead a bucket or join an ISR. */
  isEligible(id: number): boolean {
    return this.gateways.has(id) && !this.shuttingDown.has(id);
  }

  /** Close every gateway (the coordinator stops). */
  closeAll(): void {
    for (const id of [...this.gateways.keys()]) this.remove(id);
  }

  /** An UpdateMetadata with the live servers and the given changes. */
  metadataUpdate(tables: readonly TableUpdate[], partitions: readonly PartitionUpdate[]): MetadataUpdate {
    return {
      coordinator: this.coordinatorNode(),
      tabletServers: this.nodes(),
      shuttingDown: [...this.shuttingDown].sort((a, b) => a - b),
      tables,
      partitions,
    };
  }

  /** Queue an UpdateMetadata of these changes for every live server (or only `only`). */
  updateMetadata(
    tables: readonly TableUpdate[],
    partitions: readonly PartitionUpdate[],
    only?: ReadonlySet<number>,
  ): Promise<void> {
    const update = this.metadataUpdate(tables, partitions);
    const sends: Promise<void>[] = [];
    for (const g of this.gateways.values()) {
      if (only && !only.has(g.node.id)) continue;
      sends.push(
        g.updateMetadata(this.epoch, update).catch((err: unknown) => {
          // A server that left meanwhile (or the coordinator stopping) is not news.
          const gone = this.gateways.get(g.node.id) !== g;
          const level = gone ? "debug" : "warn";
          this.logger[level]({ err, server: g.node.id }, "a tablet server did not take a metadata update");
        }),
      );
    }
    return Promise.all(sends).then(() => undefined);
  }

  /** Queue NotifyLeaderAndIsr per hosting server; resolves with every bucket's outcome. */
  notifyLeaderAndIsr(perServer: ReadonlyMap<number, readonly ReplicaAssignment[]>): Promise<BucketOutcome[]> {
    return this.fanOut(
      perServer,
      (g, list) => g.notifyLeaderAndIsr(this.epoch, list),
      (a) => ({
        tableId: a.table.tableId,
        partitionId: a.partitionId,
        bucket: a.bucket,
      }),
    );
  }

  /** Queue StopReplica per hosting server; resolves with every bucket's outcome. */
  stopReplicas(perServer: ReadonlyMap<number, readonly StopReplica[]>): Promise<BucketOutcome[]> {
    return this.fanOut(
      perServer,
      (g, list) => g.stopReplicas(this.epoch, list),
      (s) => ({
        tableId: s.tableId,
        partitionId: s.partitionId,
        bucket: s.bucket,
      }),
    );
  }

  private fanOut<T>(
    perServer: ReadonlyMap<number, readonly T[]>,
    send: (g: TabletServerGateway, list: readonly T[]) => Promise<readonly BucketAnswer[]>,
    refOf: (t: T) => BucketAnswer["ref"],
  ): Promise<BucketOutcome[]> {
    const all: Promise<BucketOutcome[]>[] = [];
    for (const [serverId, list] of perServer) {
      if (list.length === 0) continue;
      const g = this.gateways.get(serverId);
      const away = (unconfirmed: unknown): BucketOutcome[] =>
        list.map(() => ({ serverId, answer: null, unconfirmed }));
      if (!g) {
        all.push(
          Promise.resolve(
            away(new FlussError(Errors.NETWORK_EXCEPTION, `tablet server ${serverId} is not alive`)),
          ),
        );
        continue;
      }
      all.push(
        send(g, list).then(
          (answers) => {
            const byKey = new Map(answers.map((a) => [refKey(a.ref), a]));
            return list.map((t) => {
              const answer = byKey.get(refKey(refOf(t)));
              return answer
                ? { serverId, answer, unconfirmed: null }
                : { serverId, answer: null, unconfirmed: new Error("no answer for the bucket") };
            });
          },
          (err: unknown) => away(err),
        ),
      );
    }
    return Promise.all(all).then((lists) => lists.flat());
  }
}

function refKey(r: BucketAnswer["ref"]): string {
  return `${r.tableId}/${r.partitionId ?? "-"}/${r.bucket}`;
}
