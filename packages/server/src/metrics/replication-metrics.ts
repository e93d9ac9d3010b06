// Replication metrics of one process's registry:
//  - per tablet server: ISR shrinks and expands (counters its leader replicas report through
//    `ReplicationEvents`), under-replicated buckets among those it leads (fewer in-sync replicas
//    than replicas, read from its buckets at scrape time), and its local log and KV bytes
//    (storage-sizes.ts: a cached walk of its data directory);
//  - on the active coordinator: the cluster's buckets by state (ok, under_replicated, offline) and
//    tablet servers by liveness, from its records (coordinator/cluster-status.ts), read at most
//    once per CLUSTER_CACHE_MS whatever the scrape rate.
// Invariants: label values come from closed sets (server names, states); a failed read leaves
// its gauges empty for that scrape instead of failing the whole scrape.

import { type Clock, systemClock } from "@fluss-ts/common";
import { Counter, Gauge, type Registry } from "prom-client";
import { StorageSizeReader } from "./storage-sizes.ts";

/** How long the cluster counts are served before the next scrape reads the records again. */
export const CLUSTER_CACHE_MS = 5_000;

/** What a tablet server's leader replicas report. */
export interface ReplicationEvents {
  /** The coordinator accepted an ISR without `removed` followers. */
  isrShrunk(removed?: number): void;
  /** The coordinator accepted an ISR with `added` followers. */
  isrExpanded(added?: number): void;
}

/** The cluster as the active coordinator records it. */
export interface ClusterCounts {
  readonly buckets: number;
  readonly underReplicated: number;
  readonly offline: number;
  readonly serversAlive: number;
  readonly serversDead: number;
}

/** A led bucket's replication, as the under-replicated gauge reads it. */
export interface LedBucketReplication {
  readonly leader: boolean;
  /** Replicas assigned and in-sync replicas (absent: not known to the server: not counted). */
  readonly replicas?: number;
  readonly inSyncReplicas?: number;
}

interface TabletWatch {
  readonly server: string;
  readonly buckets: () => Iterable<LedBucketReplication>;
  readonly sizes: StorageSizeReader | null;
}

export class ReplicationMetrics {
  private readonly tablets: TabletWatch[] = [];
  private readonly shrinks: Counter<"server">;
  private readonly expands: Counter<"server">;
  private cluster: (() => Promise<ClusterCounts>) | null = null;
  private clusterCache: { atMs: number; counts: Promise<ClusterCounts> } | null = null;
  private readonly clock: Clock;

  constructor(registry: Registry, clock: Clock = systemClock) {
    this.clock = clock;
    const registers = [registry];
    this.shrinks = new Counter({
      name: "fluss_isr_shrinks_total",
      help: "ISR shrinks of buckets this server leads (followers removed), accepted by the coordinator",
      labelNames: ["server"],
      registers,
    });
    this.expands = new Counter({
      name: "fluss_isr_expands_total",
      help: "ISR expansions of buckets this server leads (followers added back), accepted by the coordinator",
      labelNames: ["server"],
      registers,
    });
    this.registerTabletGauges(registers);
    this.registerClusterGauges(registers);
  }

  /** Watch a tablet server: its buckets at scrape time and, given, its data directory's sizes. */
  watchTablet(server: string, buckets: () => Iterable<LedBucketReplication>, storageDir?: string): void {
    this.tablets.push({
      server,
      buckets,
      sizes: storageDir === undefined ? null : new StorageSizeReader(storageDir, this.clock),
    });
    this.shrinks.inc({ server }, 0);
    this.expands.inc({ server }, 0);
  }

  events(server: string): ReplicationEvents {
    return {
      isrShrunk: (removed = 1) => this.shrinks.inc({ server }, removed),
      isrExpanded: (added = 1) => this.expands.inc({ server }, added),
    };
  }

  /** The active coordinator's records (replaces an earlier one: one coordinator per process is active). */
  watchCluster(read: () => Promise<ClusterCounts>): void {
    this.cluster = read;
    this.clusterCache = null;
  }

  private clusterCounts(): Promise<ClusterCounts> | null {
    if (this.cluster === null) return null;
    const now = this.clock.nowMs();
    if (this.clusterCache === null || now - this.clusterCache.atMs >= CLUSTER_CACHE_MS) {
      this.clusterCache = { atMs: now, counts: this.cluster() };
    }
    return this.clusterCache.counts;
  }

  private registerTabletGauges(registers: Registry[]): void {
    const tablets = this.tablets;
    new Gauge({
      name: "fluss_under_replicated_buckets",
      help: "Buckets this server leads with fewer in-sync replicas than replicas",
      labelNames: ["server"],
      registers,
      collect() {
        this.reset();
        for (const t of tablets) {
          let n = 0;
          for (const b of t.buckets()) {
            if (b.leader && b.replicas !== undefined && (b.inSyncReplicas ?? 0) < b.replicas) n++;
          }
          this.set({ server: t.server }, n);
        }
      },
    });
    new Gauge({
      name: "fluss_local_storage_bytes",
      help: "Bytes on this server's local disk: kind=log (segments, indexes) or kv (stores); a cached walk",
      labelNames: ["server", "kind"],
      registers,
      async collect() {
        this.reset();
        for (const t of tablets) {
          if (t.sizes === null) continue;
          const s = await t.sizes.read().catch(() => null);
          if (s === null) continue;
          this.set({ server: t.server, kind: "log" }, s.logBytes);
          this.set({ server: t.server, kind: "kv" }, s.kvBytes);
        }
      },
    });
  }

  private registerClusterGauges(registers: Registry[]): void {
    const counts = () => this.clusterCounts();
    new Gauge({
      name: "fluss_cluster_buckets",
      help: "Buckets of the cluster by state (ok, under_replicated, offline), on the active coordinator",
      labelNames: ["state"],
      registers,
      async collect() {
        this.reset();
        const c = await counts()?.catch(() => null);
        if (!c) return;
        this.set({ state: "ok" }, c.buckets - c.underReplicated - c.offline);
        this.set({ state: "under_replicated" }, c.underReplicated);
        this.set({ state: "offline" }, c.offline);
      },
    });
    new Gauge({
      name: "fluss_cluster_tablet_servers",
      help: "Tablet servers the cluster knows, by state (alive, dead: named by replicas only)",
      labelNames: ["state"],
      registers,
      async collect() {
        this.reset();
        const c = await counts()?.catch(() => null);
        if (!c) return;
        this.set({ state: "alive" }, c.serversAlive);
        this.set({ state: "dead" }, c.serversDead);
      },
    });
  }
}
