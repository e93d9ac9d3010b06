// A replica's role changes on NotifyLeaderAndIsr (Fluss's Replica.makeLeader / makeFollower), with
// the replication core's rules (replication/leader-replica.ts, follower-replica.ts):
//  - leading a new epoch: stop following (waiting for a follower append in flight), claim the epoch
//    in the log (durable; FENCED_LEADER_EPOCH when this replica claimed it or a newer one before —
//    it never leads an epoch twice, even across a restart that lost unflushed data — so the
//    coordinator elects again), then build the LeaderReplica (the previous one's follower progress
//    carries over when this server led the epoch before); a primary-key table's KV tablet opens
//    first (the store plus the changelog replayed up to the high watermark, the rest staged: it
//    serves exactly the committed state, KvTablet's recovery path), before the leader core can move
//    the high watermark;
//  - the same epoch again: `update` (a newer bucket epoch: ISR and replicas taken; an equal one:
//    nothing, so a resend never resets an AdjustIsr in flight);
//  - following: a leader stops leading first (waiting acks=all writes fail with
//    NOT_LEADER_OR_FOLLOWER, its KV tablet closes: followers keep the changelog only), then the
//    FollowerReplica learns the leader and epoch and the fetchers run it.
// Called one at a time per server (the coordinator fence's queue).

import { Errors, FlussError } from "@fluss-ts/common";
import type { ReplicaAssignment } from "../coordinator/types.ts";
import type { Logger } from "../logging.ts";
import { FollowerReplica } from "../replication/follower-replica.ts";
import { LeaderReplica, type LeaderReplicaOptions } from "../replication/leader-replica.ts";
import type { LeadershipNotice } from "../replication/types.ts";
import type { Replica } from "./replica.ts";
import type { ReplicaFetchers } from "./replica-fetchers.ts";

export interface ReplicaRolesOptions {
  readonly leader: LeaderReplicaOptions;
  /** log.replica.fetch.backoff-interval. */
  readonly fetchBackoffMs: number;
  readonly fetchers: ReplicaFetchers;
  readonly logger: Logger;
  /** Open a primary-key leader's KV tablet (throws what the bucket answers). */
  readonly openKv: (replica: Replica) => Promise<void>;
  /** Close a KV tablet a replica no longer needs (it follows now), releasing its descriptors. */
  readonly closeKv: (replica: Replica) => Promise<void>;
}

export class ReplicaRoles {
  private readonly o: ReplicaRolesOptions;

  constructor(o: ReplicaRolesOptions) {
    this.o = o;
  }

  private get serverId(): number {
    return this.o.leader.localId;
  }

  /** Lead the bucket as `a` says (see the file comment). Throws the bucket's answer. */
  async becomeLeader(replica: Replica, a: ReplicaAssignment, coordinatorEpoch: number): Promise<void> {
    const notice: LeadershipNotice = {
      leaderAndIsr: {
        leader: a.leader,
        leaderEpoch: a.leaderEpoch,
        isr: a.isr,
        coordinatorEpoch,
        bucketEpoch: a.bucketEpoch,
      },
      replicas: a.replicas,
    };
    const current = replica.leader;
    if (current !== null && current.leaderEpoch === a.leaderEpoch) {
      if (current.update(notice) === "updated") replica.checkAcks();
      replica.table = a.table;
      return;
    }
    if (current !== null && a.leaderEpoch < current.leaderEpoch) {
      throw new FlussError(
        Errors.FENCED_LEADER_EPOCH_EXCEPTION,
        `leader epoch ${a.leaderEpoch} is older than the current ${current.leaderEpoch}`,
      );
    }
    if (replica.follower !== null) await this.o.fetchers.unfollow(replica);
    replica.follower = null;
    replica.log.claimLeaderEpoch(a.leaderEpoch);
    // The KV tablet opens before the leader core exists, so the high watermark cannot move while
    // it recovers (it would miss the move and keep committed entries staged).
    replica.table = a.table;
    if (replica.isPrimaryKeyTable && replica.kv === null) await this.o.openKv(replica);
    const leader = new LeaderReplica(this.o.leader, replica.log, notice, current ?? undefined);
    replica.becomeLeader(leader, a.table);
    this.o.logger.info(
      {
        bucket: a.bucket,
        tableId: String(a.table.tableId),
        leaderEpoch: a.leaderEpoch,
        isr: a.isr,
        logEndOffset: String(replica.log.logEndOffset),
        highWatermark: String(replica.log.highWatermark),
      },
      "leading bucket",
    );
  }

  /** Follow the leader `a` names (or none: NO_LEADER) from its epoch on. Throws the bucket's answer. */
  async becomeFollower(replica: Replica, a: ReplicaAssignment): Promise<void> {
    if (replica.leader !== null) {
      replica.loseLeadership(`leadership moved to server ${a.leader}`);
      if (replica.kv !== null) await this.o.closeKv(replica);
    }
    replica.table = a.table;
    if (replica.follower === null) {
      replica.follower = new FollowerReplica<Uint8Array>(
        { localId: this.serverId, clock: this.o.leader.clock, fetchBackoffMs: this.o.fetchBackoffMs },
        replica.log,
      );
    }
    if (replica.follower.onLeaderAndIsr(a.leader, a.leaderEpoch) === "new-epoch") {
      this.o.logger.info(
        { bucket: a.bucket, tableId: String(a.table.tableId), leader: a.leader, leaderEpoch: a.leaderEpoch },
        "following bucket",
      );
    }
    replica.leaderEpoch = a.leaderEpoch;
    this.o.fetchers.follow(replica);
  }

  /** Stop any role (the replica is stopped or the server closes). */
  async stop(replica: Replica): Promise<void> {
    replica.loseLeadership("this replica stopped");
    if (replica.follower !== null) await this.o.fetchers.unfollow(replica);
    replica.follower = null;
  }
}
