// The vocabulary of the ZooKeeper client (zookeeper-client.ts): session and watch events, node
// stats, the operations of a multi-op transaction, ZooKeeper's result codes, and the error a failed
// request rejects with (whose `ambiguous` flag marks a write whose outcome is unknown).

export type ZkSessionEvent =
  | { readonly kind: "disconnected"; readonly sessionId: string }
  | { readonly kind: "reconnected"; readonly sessionId: string }
  | { readonly kind: "expired"; readonly sessionId: string; readonly why: "server" | "timeout" }
  | { readonly kind: "session"; readonly sessionId: string };

export type ZkWatchEvent = {
  readonly type: "created" | "deleted" | "dataChanged" | "childrenChanged";
  readonly path: string;
};
export type ZkWatcher = (event: ZkWatchEvent) => void;

export interface NodeStat {
  readonly version: number;
  readonly cversion: number;
  /** Transaction that created the node: grows with every re-creation. */
  readonly czxid: bigint;
  /** Session owning an ephemeral node (0n for a persistent one). */
  readonly ephemeralOwner: bigint;
  readonly numChildren: number;
  readonly dataLength: number;
}

/** One operation of a multi-op transaction; version -1 matches any. */
export type ZkOp =
  | { readonly kind: "create"; readonly path: string; readonly data: Buffer; readonly ephemeral?: boolean }
  | { readonly kind: "set"; readonly path: string; readonly data: Buffer; readonly version: number }
  | { readonly kind: "check"; readonly path: string; readonly version: number }
  | { readonly kind: "remove"; readonly path: string; readonly version: number };

/** ZooKeeper's result codes this code distinguishes. */
export const ZkCode = {
  CONNECTION_LOSS: -4,
  OPERATION_TIMEOUT: -7,
  NO_NODE: -101,
  BAD_VERSION: -103,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  SESSION_EXPIRED: -112,
} as const;

/** A failed ZooKeeper request. `ambiguous`: a write that may or may not have been applied. */
export class ZooKeeperError extends Error {
  readonly code: number;
  readonly ambiguous: boolean;

  constructor(code: number, message: string, ambiguous: boolean) {
    super(message);
    this.name = "ZooKeeperError";
    this.code = code;
    this.ambiguous = ambiguous;
  }
}

export function isZooKeeperError(err: unknown, code?: number): err is ZooKeeperError {
  return err instanceof ZooKeeperError && (code === undefined || err.code === code);
}
