// The simulated network: every message between nodes (tablet servers, the coordinator, the
// ZooKeeper model, the client) may be lost, duplicated or delayed (so reordered), and never crosses a
// partition (blocked when sent or when due). A crashed node receives nothing; a paused node (SIGSTOP)
// receives its messages when it resumes, in the order they were due.

import type { Rng, World } from "./world.ts";

export type NodeId = number;

export interface NetworkParams {
  /** Probability that a message is lost. */
  readonly lossRate: number;
  /** Probability that a message is delivered twice. */
  readonly duplicateRate: number;
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
}

interface Endpoint {
  readonly deliver: (from: NodeId, message: unknown) => void;
  readonly isUp: () => boolean;
  /** Bumped by every restart: a message sent to one process never reaches the next one. */
  readonly incarnation: () => number;
  /** Until when the node is paused (messages wait); -Infinity when running. */
  readonly pausedUntil: () => number;
}

export class Network {
  private readonly world: World;
  private readonly rng: Rng;
  params: NetworkParams;
  private readonly endpoints = new Map<NodeId, Endpoint>();
  private readonly blocked = new Set<string>();
  sent = 0;
  dropped = 0;

  constructor(world: World, rng: Rng, params: NetworkParams) {
    this.world = world;
    this.rng = rng;
    this.params = params;
  }

  register(id: NodeId, endpoint: Endpoint): void {
    this.endpoints.set(id, endpoint);
  }

  private key(a: NodeId, b: NodeId): string {
    return a < b ? `${a}-${b}` : `${b}-${a}`;
  }

  isBlocked(a: NodeId, b: NodeId): boolean {
    return this.blocked.has(this.key(a, b));
  }

  /** Cut every link between a node of `side` and a node of `other`. */
  partition(side: readonly NodeId[], other: readonly NodeId[]): void {
    for (const a of side) for (const b of other) if (a !== b) this.blocked.add(this.key(a, b));
  }

  heal(): void {
    this.blocked.clear();
  }

  send(from: NodeId, to: NodeId, message: unknown): void {
    this.sent++;
    if (this.isBlocked(from, to) || this.rng.chance(this.params.lossRate)) {
      this.dropped++;
      return;
    }
    const incarnation = this.endpoints.get(to)?.incarnation() ?? 0;
    const copies = this.rng.chance(this.params.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.rng.int(this.params.delayMinMs, this.params.delayMaxMs);
      this.world.schedule(delay, () => this.arrive(from, to, incarnation, message));
    }
  }

  private arrive(from: NodeId, to: NodeId, incarnation: number, message: unknown): void {
    const endpoint = this.endpoints.get(to);
    if (
      endpoint === undefined ||
      !endpoint.isUp() ||
      endpoint.incarnation() !== incarnation ||
      this.isBlocked(from, to)
    ) {
      this.dropped++;
      return;
    }
    const paused = endpoint.pausedUntil();
    if (paused > this.world.nowMs) {
      this.world.schedule(paused - this.world.nowMs, () => this.arrive(from, to, incarnation, message));
      return;
    }
    endpoint.deliver(from, message);
  }
}
