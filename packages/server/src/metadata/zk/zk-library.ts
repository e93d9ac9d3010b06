// What the ZooKeeper client (zookeeper-client.ts) touches of node-zookeeper-client beyond its
// typed API: stats as bigints, watch event names, and two workarounds that reach into the library
// (1.1.3, its latest release): `abandon` drops a dead session's unsent requests so a later
// reconnect cannot send them, and `exactVersion` undoes its turning version 0 into "any version"
// inside transactions (its issue #67, open since 2017). Both assert the internals they rely on.

import { assert } from "@fluss-ts/common";
import type { Client, Stat, Transaction } from "node-zookeeper-client";
import zookeeper from "node-zookeeper-client";
import { type NodeStat, ZkCode, type ZkWatchEvent } from "./zk-types.ts";

export function toBigInt(b: Buffer): bigint {
  return b.readBigInt64BE(0);
}

export function statOf(s: Stat): NodeStat {
  return {
    version: s.version,
    cversion: s.cversion,
    czxid: toBigInt(s.czxid),
    ephemeralOwner: toBigInt(s.ephemeralOwner),
    numChildren: s.numChildren,
    dataLength: s.dataLength,
  };
}

export const WATCH_TYPES: Record<number, ZkWatchEvent["type"]> = {
  [zookeeper.Event.NODE_CREATED]: "created",
  [zookeeper.Event.NODE_DELETED]: "deleted",
  [zookeeper.Event.NODE_DATA_CHANGED]: "dataChanged",
  [zookeeper.Event.NODE_CHILDREN_CHANGED]: "childrenChanged",
};

/** The library's connection internals this file touches (see `abandon` and `exactVersion`). */
interface ClientInternals {
  connectionManager?: {
    packetQueue?: { shift(): { callback?: (err: unknown) => void } | undefined };
    socket?: { destroy(): void };
  };
}

/** The library's own exception for an expired session (its callbacks call `getCode()` on errors). */
function sessionExpired(): Error {
  const create = (zookeeper.Exception as unknown as { create?: (code: number) => Error }).create;
  assert(typeof create === "function", "node-zookeeper-client exports Exception.create");
  return create(ZkCode.SESSION_EXPIRED);
}

/**
 * Stop an abandoned client for good: requests it has not sent yet are failed, not sent on a later
 * reconnect (which could revive a session we already gave up), and its socket is closed.
 */
export function abandon(client: Client): void {
  const cm = (client as unknown as ClientInternals).connectionManager;
  const queue = cm?.packetQueue;
  for (let p = queue?.shift(); p !== undefined; p = queue?.shift()) {
    p.callback?.(sessionExpired());
  }
  client.close();
  cm?.socket?.destroy();
}

/**
 * node-zookeeper-client turns version 0 into -1 ("any") in transactions (`version || -1`, its issue
 * #67): set the exact version on the op just added.
 */
export function exactVersion(tx: Transaction, version: number): void {
  const ops = (tx as unknown as { ops?: Array<{ version?: number }> }).ops;
  assert(Array.isArray(ops) && ops.length > 0, "node-zookeeper-client keeps transaction ops in `ops`");
  ops[ops.length - 1]!.version = version;
}

export function hex(b: Buffer): string {
  return `0x${b.toString("hex")}`;
}
