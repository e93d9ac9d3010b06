// Which coordinator is the active one. Every coordinator process stands as a candidate; one is
// elected and gets a coordinator epoch higher than any before it; the others wait as standbys and
// one of them takes over (with the next epoch) when the active one's session ends.
// Two implementations: ZooKeeper (zk/zk-coordinator-election.ts: Fluss's /coordinators/election,
// /coordinators/active and /coordinators/epoch) and in-process (below: `fluss local` has one
// coordinator, always active).
// Semantics both keep:
//  - "elected" comes with the epoch and the version of the epoch record: a coordinator fences its
//    metadata writes with that version (ZooKeeperMetadataStore.takeOver), so once a newer one has
//    been elected, every write of the older one is refused whole;
//  - "lost" means: stop acting as the coordinator now (its session expired, it was fenced, or it
//    was closed). A coordinator that lost stays a candidate (unless closed) and may be elected
//    again later, always with a new, higher epoch;
//  - epochs only grow, across restarts of every coordinator.

export interface CoordinatorAddress {
  /** The coordinator's id (Fluss uses a string). */
  readonly id: string;
  readonly endpoints: readonly import("./server-registry.ts").Endpoint[];
}

export interface CoordinatorLeadership {
  /** This coordinator's epoch: higher than every earlier active coordinator's. */
  readonly epoch: number;
  /** Version of the epoch record this election wrote: the fence of the metadata writes. */
  readonly epochZkVersion: number;
}

export type ElectionEvent =
  | { readonly kind: "elected"; readonly leadership: CoordinatorLeadership }
  | {
      readonly kind: "lost";
      readonly epoch: number;
      readonly why: "session-expired" | "fenced" | "closed";
    };

export interface CoordinatorElection {
  /** Stand as a candidate; events follow on `onEvent` (subscribe first). */
  start(): Promise<void>;
  /** Non-null while this coordinator is the active one. */
  readonly leadership: CoordinatorLeadership | null;
  onEvent(listener: (e: ElectionEvent) => void): () => void;
  /** The active coordinator's address, if one is elected and has written it. */
  activeCoordinator(): Promise<CoordinatorAddress | null>;
  /** Step down (a "lost" with why "closed" if active) and stop standing. */
  close(): Promise<void>;
}

/** `fluss local`: the only coordinator, elected at start with epoch 0 (Fluss's first epoch). */
export class InProcessCoordinatorElection implements CoordinatorElection {
  private readonly address: CoordinatorAddress;
  private readonly listeners = new Set<(e: ElectionEvent) => void>();
  private current: CoordinatorLeadership | null = null;

  constructor(address: CoordinatorAddress) {
    this.address = address;
  }

  get leadership(): CoordinatorLeadership | null {
    return this.current;
  }

  async start(): Promise<void> {
    if (this.current !== null) return;
    this.current = { epoch: 0, epochZkVersion: 0 };
    for (const l of [...this.listeners]) l({ kind: "elected", leadership: this.current });
  }

  onEvent(listener: (e: ElectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async activeCoordinator(): Promise<CoordinatorAddress | null> {
    return this.current === null ? null : this.address;
  }

  async close(): Promise<void> {
    const was = this.current;
    this.current = null;
    if (was !== null)
      for (const l of [...this.listeners]) l({ kind: "lost", epoch: was.epoch, why: "closed" });
    this.listeners.clear();
  }
}
