// The messages of the simulated cluster, one per Fluss RPC the protocol uses (NotifyLeaderAndIsr,
// AdjustIsr, FetchLog from a follower, OffsetForLeaderEpoch, ProduceLog) plus the ZooKeeper session
// heartbeat. Requests carry an id their answers echo; a requester that hears nothing times out.

import type { FlussError } from "@fluss-ts/common";
import type { EpochEndOffset } from "@fluss-ts/storage";
import type { FetchAnswer, FetchFailure } from "../../../src/replication/follower-replica.ts";
import type { LeaderAndIsr, ServerId } from "../../../src/replication/types.ts";
import type { SimBatch } from "./sim-log.ts";

export type Message =
  | { readonly kind: "heartbeat"; readonly server: ServerId; readonly incarnation: number }
  | {
      readonly kind: "notify";
      readonly bucket: number;
      readonly lai: LeaderAndIsr;
      readonly replicas: readonly ServerId[];
    }
  | {
      readonly kind: "notify-ack";
      readonly bucket: number;
      readonly server: ServerId;
      readonly incarnation: number;
      readonly leaderEpoch: number;
      readonly bucketEpoch: number;
      /** The server refused to lead this epoch (it led it before a restart): elect again. */
      readonly refusedEpoch: number | null;
    }
  | {
      readonly kind: "adjust-isr";
      readonly id: number;
      readonly bucket: number;
      readonly proposal: LeaderAndIsr;
    }
  | {
      readonly kind: "adjust-isr-resp";
      readonly id: number;
      readonly bucket: number;
      readonly result: LeaderAndIsr | FlussError;
    }
  | {
      readonly kind: "fetch";
      readonly id: number;
      readonly bucket: number;
      readonly follower: ServerId;
      readonly leaderEpoch: number;
      readonly fetchOffset: bigint;
    }
  | {
      readonly kind: "fetch-resp";
      readonly id: number;
      readonly result: FetchAnswer<SimBatch[]> | FetchFailure;
    }
  | {
      readonly kind: "epoch-query";
      readonly id: number;
      readonly bucket: number;
      readonly leaderEpoch: number;
      readonly requestedEpoch: number;
    }
  | { readonly kind: "epoch-resp"; readonly id: number; readonly result: EpochEndOffset | FlussError }
  | {
      readonly kind: "produce";
      readonly id: number;
      readonly bucket: number;
      readonly writerId: number;
      readonly seq: number;
      readonly recordId: number;
      readonly count: number;
    }
  | {
      readonly kind: "produce-resp";
      readonly id: number;
      readonly error: FlussError | null;
      readonly base: bigint;
    };

/** Node ids: tablet servers are 1..N; these are the others. */
export const COORDINATOR: ServerId = 1000;
export const ZOOKEEPER: ServerId = 1001;
export const CLIENT: ServerId = 1002;
