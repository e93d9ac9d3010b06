// CoordinatorElection on ZooKeeper (semantics in coordinator-election.ts), in Fluss's places:
//  - each coordinator registers /coordinators/ids/<id> (ephemeral, CoordinatorAddress JSON);
//  - it stands by creating an ephemeral sequential node /coordinators/election/latch-<seq> (the
//    recipe of Curator's LeaderLatch, which Fluss uses): the lowest sequence is the leader, every
//    other candidate watches the one just before it, so a leaving leader wakes one standby;
//  - the leader takes over in one transaction: its latch node must still exist, the epoch record
//    /coordinators/epoch goes from N to N+1 (compare-and-set on its version, as Fluss's
//    fenceBecomeCoordinatorLeader), and /coordinators/active (ephemeral) gets its address. The new
//    version of the epoch node is the fence of its metadata writes (ZkWriter);
//  - it loses when its session expires (its latch and active nodes are gone: a standby takes
//    over), or when the epoch moves under it (fenced). After an expiry it stands again on the
//    client's next session, behind the others.
// Leadership is kept through a connection loss that does not end the session (Fluss's
// zookeeper.client.tolerate-suspended-connections=true): the session decides, and the client
// declares its session over once the server has not heard from it for a session timeout (so a
// coordinator cut off steps down no later than ZooKeeper can hand its place to another).

import { isAssertionError, type Scheduler, systemScheduler } from "@fluss-ts/common";
import type { Logger } from "../../logging.ts";
import { silentLogger } from "../../logging.ts";
import { backgroundFailure } from "../../util/background.ts";
import type {
  CoordinatorAddress,
  CoordinatorElection,
  CoordinatorLeadership,
  ElectionEvent,
} from "../coordinator-election.ts";
import { createOwnEphemeral, removeOwnEphemeral } from "./zk-ephemeral.ts";
import { Paths } from "./zk-layout.ts";
import { decodeCoordinator, encodeCoordinator } from "./zk-registrations.ts";
import { isZooKeeperError, ZkCode, type ZkOp, type ZooKeeperClient } from "./zookeeper-client.ts";

const LATCH_PREFIX = "latch-";
/** Compare-and-set rounds of one takeover before standing again. */
const TAKEOVER_ATTEMPTS_MAX = 10;
/** Pause before looking again after a failed round. */
const RETRY_MS = 1_000;
/** Fluss's INITIAL_COORDINATOR_EPOCH - 1: the first coordinator is elected with epoch 0. */
const EPOCH_BEFORE_FIRST = -1;

export interface ZooKeeperCoordinatorElectionOptions {
  readonly scheduler?: Scheduler;
  readonly logger?: Logger;
}

function sequenceOf(name: string): number {
  return Number(name.slice(name.lastIndexOf("-") + 1));
}

/** The active coordinator's address as any process reads it. */
export async function readActiveCoordinator(zk: ZooKeeperClient): Promise<CoordinatorAddress | null> {
  const node = await zk.getData(Paths.coordinatorActive);
  return node === undefined ? null : decodeCoordinator(node.data);
}

export class ZooKeeperCoordinatorElection implements CoordinatorElection {
  private readonly zk: ZooKeeperClient;
  private readonly address: CoordinatorAddress;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly listeners = new Set<(e: ElectionEvent) => void>();
  private current: CoordinatorLeadership | null = null;
  /** Our latch node's name on the current session. */
  private latch: string | null = null;
  private closed = false;
  private running: Promise<void> | null = null;
  private dirty = false;
  private unsubscribe: () => void = () => undefined;

  constructor(zk: ZooKeeperClient, address: CoordinatorAddress, o: ZooKeeperCoordinatorElectionOptions = {}) {
    this.zk = zk;
    this.address = address;
    this.scheduler = o.scheduler ?? systemScheduler;
    this.logger = (o.logger ?? silentLogger).child({ coordinator: address.id });
  }

  get leadership(): CoordinatorLeadership | null {
    return this.current;
  }

  onEvent(listener: (e: ElectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ElectionEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  activeCoordinator(): Promise<CoordinatorAddress | null> {
    return readActiveCoordinator(this.zk);
  }

  async start(): Promise<void> {
    for (const p of [Paths.coordinators, Paths.coordinatorElection]) await this.zk.mkdirs(p);
    this.unsubscribe = this.zk.onSessionEvent((e) => {
      if (this.closed) return;
      if (e.kind === "expired") {
        this.latch = null;
        this.lose("session-expired");
      } else if (e.kind === "session") {
        void this.stand().catch((err: unknown) => this.retryLater(err));
      }
    });
    await this.stand();
  }

  /** Register our address and a new latch node on the current session, then look. */
  private async stand(): Promise<void> {
    const data = encodeCoordinator(this.address);
    const what = `coordinator id ${this.address.id}`;
    await createOwnEphemeral(
      this.zk,
      this.scheduler,
      this.logger,
      Paths.coordinator(this.address.id),
      data,
      what,
      () => this.closed,
    );
    if (this.closed) return;
    this.latch = await this.zk.createEphemeralSequential(
      `${Paths.coordinatorElection}/${LATCH_PREFIX}`,
      Buffer.from(this.address.id),
    );
    this.logger.info({ latch: this.latch }, "coordinator stands for election");
    this.check();
  }

  private retryLater(err: unknown): void {
    if (isAssertionError(err)) {
      backgroundFailure(this.logger, "coordinator election")(err); // a bug: crash
      return;
    }
    if (this.closed) return;
    this.logger.warn({ err }, "coordinator election step failed; trying again");
    this.scheduler.setTimeout(() => {
      if (this.closed) return;
      if (this.latch === null) void this.stand().catch((e: unknown) => this.retryLater(e));
      else this.check();
    }, RETRY_MS);
  }

  /** Look at the candidates (serialised: one look at a time, one more if asked meanwhile). */
  private check(): void {
    if (this.closed) return;
    if (this.running !== null) {
      this.dirty = true;
      return;
    }
    this.running = (async () => {
      do {
        this.dirty = false;
        await this.checkOnce();
      } while (this.dirty && !this.closed);
    })()
      .catch((err: unknown) => this.retryLater(err))
      .finally(() => {
        this.running = null;
      });
  }

  private async checkOnce(): Promise<void> {
    const latch = this.latch;
    if (latch === null || this.current !== null) return;
    const children = ((await this.zk.getChildren(Paths.coordinatorElection)) ?? [])
      .filter((c) => c.startsWith(LATCH_PREFIX))
      .sort((a, b) => sequenceOf(a) - sequenceOf(b));
    const at = children.indexOf(latch);
    if (at < 0) return; // our session ended: "session" brings a new latch
    if (at === 0) {
      await this.takeOver(latch);
      return;
    }
    const before = `${Paths.coordinatorElection}/${children[at - 1]}`;
    const stat = await this.zk.exists(before, (e) => {
      if (e.type === "deleted") this.check();
    });
    if (stat === undefined) this.dirty = true; // gone between the listing and the watch
  }

  /** Bump the epoch and write our address, atomically, while our latch node is ours. */
  private async takeOver(latch: string): Promise<void> {
    await this.ensureEpochNode();
    const latchPath = `${Paths.coordinatorElection}/${latch}`;
    for (let attempt = 1; attempt <= TAKEOVER_ATTEMPTS_MAX && !this.closed; attempt++) {
      const epochNode = await this.zk.getData(Paths.coordinatorEpoch);
      if (epochNode === undefined) {
        await this.ensureEpochNode();
        continue;
      }
      const epoch = Number(epochNode.data.toString("utf8")) + 1;
      const active = await this.zk.getData(Paths.coordinatorActive);
      const ops: ZkOp[] = [
        { kind: "check", path: latchPath, version: -1 },
        {
          kind: "set",
          path: Paths.coordinatorEpoch,
          data: Buffer.from(String(epoch)),
          version: epochNode.stat.version,
        },
      ];
      if (active !== undefined)
        ops.push({ kind: "remove", path: Paths.coordinatorActive, version: active.stat.version });
      ops.push({
        kind: "create",
        path: Paths.coordinatorActive,
        data: encodeCoordinator(this.address),
        ephemeral: true,
      });
      const leadership = { epoch, epochZkVersion: epochNode.stat.version + 1 };
      if (await this.tryTakeOver(ops, leadership)) {
        this.becomeActive(leadership);
        return;
      }
      if ((await this.zk.exists(latchPath)) === undefined) return; // our latch is gone: not ours
    }
  }

  private async tryTakeOver(ops: readonly ZkOp[], leadership: CoordinatorLeadership): Promise<boolean> {
    try {
      await this.zk.multi(ops);
      return true;
    } catch (err) {
      if (!isZooKeeperError(err)) throw err;
      if (!err.ambiguous) return false; // raced: look again
    }
    // The answer was lost: it took if the epoch is ours and the active node is this session's.
    const [epoch, active] = [
      await this.zk.getData(Paths.coordinatorEpoch),
      await this.zk.exists(Paths.coordinatorActive),
    ];
    return (
      epoch?.stat.version === leadership.epochZkVersion &&
      epoch.data.toString("utf8") === String(leadership.epoch) &&
      active?.ephemeralOwner === this.zk.sessionIdBigInt
    );
  }

  private async ensureEpochNode(): Promise<void> {
    if ((await this.zk.exists(Paths.coordinatorEpoch)) !== undefined) return;
    try {
      await this.zk.create(Paths.coordinatorEpoch, Buffer.from(String(EPOCH_BEFORE_FIRST)));
    } catch (err) {
      if (!isZooKeeperError(err, ZkCode.NODE_EXISTS)) throw err;
    }
  }

  private becomeActive(leadership: CoordinatorLeadership): void {
    this.current = leadership;
    this.logger.info({ ...leadership }, "elected the active coordinator");
    this.emit({ kind: "elected", leadership });
    void this.watchEpoch(leadership).catch((err: unknown) => this.retryLater(err));
  }

  /** Step down if another coordinator moves the epoch past ours. */
  private async watchEpoch(leadership: CoordinatorLeadership): Promise<void> {
    const node = await this.zk.getData(Paths.coordinatorEpoch, (e) => {
      if (this.current === leadership && e.type !== "childrenChanged") {
        void this.watchEpoch(leadership).catch((err: unknown) => this.retryLater(err));
      }
    });
    if (this.current !== leadership) return;
    if (node === undefined || node.stat.version !== leadership.epochZkVersion) {
      this.logger.warn({ ...leadership }, "coordinator epoch moved under the active coordinator: fenced");
      this.lose("fenced");
      await this.resign();
    }
  }

  private lose(why: "session-expired" | "fenced" | "closed"): void {
    const was = this.current;
    if (was === null) return;
    this.current = null;
    this.logger.warn({ epoch: was.epoch, why }, "no longer the active coordinator");
    this.emit({ kind: "lost", epoch: was.epoch, why });
  }

  /** Leave the queue and stand again behind the others (after being fenced). */
  private async resign(): Promise<void> {
    const latch = this.latch;
    this.latch = null;
    if (latch !== null) await removeOwnEphemeral(this.zk, `${Paths.coordinatorElection}/${latch}`);
    if (!this.closed) await this.stand();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    const wasActive = this.current !== null;
    this.lose("closed");
    try {
      if (wasActive) await removeOwnEphemeral(this.zk, Paths.coordinatorActive);
      if (this.latch !== null)
        await removeOwnEphemeral(this.zk, `${Paths.coordinatorElection}/${this.latch}`);
      await removeOwnEphemeral(this.zk, Paths.coordinator(this.address.id));
    } catch (err) {
      this.logger.warn({ err }, "coordinator could not remove its election nodes; they go with its session");
    }
    this.latch = null;
    this.listeners.clear();
  }
}
