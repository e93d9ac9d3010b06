// How the ZooKeeper metadata store writes: multi-op transactions, fenced by the coordinator epoch,
// with unknown outcomes resolved before a caller hears anything.
//  - Fence: with an epoch node version set (the active coordinator's, from its election), every
//    transaction starts with a check of /coordinators/epoch at that version, as Fluss's
//    wrapRequestsWithEpochCheck does: once another coordinator has taken over (and bumped the
//    epoch), a deposed one's writes fail whole, with NOT_COORDINATOR_LEADER_EXCEPTION.
//  - Visible writes (`commit`): one transaction; on success it is durable (ZooKeeper acknowledges
//    after its quorum logged it) and visible. A definite failure changed nothing. When the answer is
//    lost (connection loss, timeout), `verify` reads the result after the write on the same session
//    (ordered after it) or, once that session is gone, from the next one (a session's unsent
//    requests are dropped at its end); only if ZooKeeper cannot be reached for a whole session
//    timeout plus the connection timeout is the outcome reported unknown (STORAGE_EXCEPTION).
//  - Invisible writes (`commitChunks`, `deleteTree`): nodes readers ignore until a visible write
//    publishes them (or that a visible write already hid), split into transactions of at most
//    `opsPerTransactionMax` ops and about `transactionBytesMax` bytes (ZooKeeper refuses requests over
//    its jute.maxbuffer, 1 MiB by default). A failure there leaves only invisible garbage, which
//    `ZooKeeperMetadataStore.collectGarbage` removes.

import { assert, Errors, FlussError, isAssertionError, isFlussError } from "@fluss-ts/common";
import type { Logger } from "../../logging.ts";
import { Paths } from "./zk-layout.ts";
import {
  isZooKeeperError,
  ZkCode,
  type ZkOp,
  type ZooKeeperClient,
  type ZooKeeperError,
} from "./zookeeper-client.ts";

export const TRANSACTION_OPS_MAX_DEFAULT = 500;
export const TRANSACTION_BYTES_MAX_DEFAULT = 512 * 1024;
/** Bytes of a request beside paths and data (headers, version, ACL, mode), rounded up. */
const OP_OVERHEAD_BYTES = 64;
/** Attempts at deleting a tree while its children change. */
const DELETE_TREE_ATTEMPTS_MAX = 5;
/** Depth of the trees this store deletes (table > partitions > name is the deepest: 6). */
const TREE_DEPTH_MAX = 16;

/** A ZooKeeper failure as the metadata store reports it (a read, or a write that changed nothing). */
export function storageError(what: string, err: unknown): Error {
  if (isAssertionError(err) || isFlussError(err)) return err as Error;
  if (isZooKeeperError(err)) {
    return new FlussError(Errors.STORAGE_EXCEPTION, `ZooKeeper ${what} failed: ${err.message}`, {
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

export interface ZkWriterOptions {
  readonly opsPerTransactionMax?: number;
  readonly transactionBytesMax?: number;
}

export class ZkWriter {
  private readonly zk: ZooKeeperClient;
  private readonly logger: Logger;
  private readonly opsMax: number;
  private readonly bytesMax: number;
  /** Version of /coordinators/epoch every write checks, or null for unfenced writes. */
  fenceVersion: number | null = null;

  constructor(zk: ZooKeeperClient, logger: Logger, o: ZkWriterOptions = {}) {
    this.zk = zk;
    this.logger = logger;
    this.opsMax = o.opsPerTransactionMax ?? TRANSACTION_OPS_MAX_DEFAULT;
    this.bytesMax = o.transactionBytesMax ?? TRANSACTION_BYTES_MAX_DEFAULT;
    assert(Number.isSafeInteger(this.opsMax) && this.opsMax >= 2, "a transaction holds at least 2 ops");
    assert(Number.isSafeInteger(this.bytesMax) && this.bytesMax >= 1024, "transactions may hold 1 KiB");
  }

  private fenced(ops: readonly ZkOp[]): ZkOp[] {
    if (this.fenceVersion === null) return [...ops];
    return [{ kind: "check", path: Paths.coordinatorEpoch, version: this.fenceVersion }, ...ops];
  }

  /** True when the fence no longer holds (another coordinator bumped the epoch). */
  private async lostFence(): Promise<boolean> {
    if (this.fenceVersion === null) return false;
    const stat = await this.zk.exists(Paths.coordinatorEpoch);
    return stat === undefined || stat.version !== this.fenceVersion;
  }

  private async definiteFailure(
    what: string,
    err: ZooKeeperError,
    mapFailure: (code: number) => FlussError | undefined,
  ): Promise<Error> {
    if (err.code === ZkCode.BAD_VERSION && (await this.lostFence().catch(() => false))) {
      return new FlussError(
        Errors.NOT_COORDINATOR_LEADER_EXCEPTION,
        `${what} refused: another coordinator took over (the coordinator epoch moved past the one this coordinator was elected with)`,
      );
    }
    return mapFailure(err.code) ?? storageError(what, err);
  }

  /**
   * One visible transaction. Resolves once durable; rejects having changed nothing (mapped by
   * `mapFailure` from ZooKeeper's code, else STORAGE_EXCEPTION), or when its outcome cannot be
   * learned in time (STORAGE_EXCEPTION saying so).
   */
  async commit(
    what: string,
    ops: readonly ZkOp[],
    verify: () => Promise<boolean>,
    mapFailure: (code: number) => FlussError | undefined = () => undefined,
  ): Promise<void> {
    try {
      await this.zk.multi(this.fenced(ops));
      return;
    } catch (err) {
      if (!isZooKeeperError(err)) throw err;
      if (!err.ambiguous) throw await this.definiteFailure(what, err, mapFailure);
      this.logger.warn({ err, what }, "ZooKeeper write outcome unknown; reading it back");
    }
    const deadlineMs = this.zk.nowMs() + this.zk.negotiatedSessionTimeoutMs + this.zk.connectionTimeoutMs;
    for (;;) {
      if (!(await this.zk.whenConnected(deadlineMs))) {
        throw new FlussError(
          Errors.STORAGE_EXCEPTION,
          `${what}: outcome unknown, ZooKeeper at ${this.zk.address} unreachable (the change may have been recorded)`,
        );
      }
      try {
        if (await verify()) return;
        throw new FlussError(
          Errors.STORAGE_EXCEPTION,
          `${what} was not recorded: the ZooKeeper connection was lost`,
        );
      } catch (err) {
        if (!isZooKeeperError(err) || this.zk.nowMs() >= deadlineMs) throw storageError(what, err);
      }
    }
  }

  /** Invisible writes, split into transactions; throws at the first failure. */
  async commitChunks(what: string, ops: readonly ZkOp[]): Promise<void> {
    for (const chunk of this.chunk(ops)) {
      try {
        await this.zk.multi(this.fenced(chunk));
      } catch (err) {
        if (!isZooKeeperError(err)) throw err;
        throw await this.definiteFailure(what, err, () => undefined);
      }
    }
  }

  private chunk(ops: readonly ZkOp[]): ZkOp[][] {
    const out: ZkOp[][] = [];
    let current: ZkOp[] = [];
    let bytes = 0;
    for (const op of ops) {
      const size = opBytes(op);
      if (current.length > 0 && (current.length + 1 >= this.opsMax || bytes + size > this.bytesMax)) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(op);
      bytes += size;
    }
    if (current.length > 0) out.push(current);
    return out;
  }

  /** Every node under `path` and `path` itself, children before parents ([] when absent). */
  async listTree(path: string, depth = 0): Promise<string[]> {
    assert(depth <= TREE_DEPTH_MAX, "metadata trees are shallow");
    const children = await this.zk.getChildren(path);
    if (children === undefined) return [];
    const below = await Promise.all(children.sort().map((c) => this.listTree(`${path}/${c}`, depth + 1)));
    return [...below.flat(), path];
  }

  /** Delete `path` with everything under it (nodes readers already ignore). */
  async deleteTree(what: string, path: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const nodes = await this.listTree(path);
      if (nodes.length === 0) return;
      try {
        await this.commitChunks(
          what,
          nodes.map((p) => ({ kind: "remove", path: p, version: -1 }) as const),
        );
        return;
      } catch (err) {
        // A node appeared or vanished meanwhile (NOT_EMPTY / NO_NODE): list again.
        const changed =
          isZooKeeperError(err) || (isFlussError(err) && err.code === Errors.STORAGE_EXCEPTION.code);
        if (!changed || attempt >= DELETE_TREE_ATTEMPTS_MAX) throw err;
      }
    }
  }

  /** Delete `path`'s tree, logging instead of failing (what is left is garbage for later). */
  async deleteTreeQuietly(what: string, path: string): Promise<void> {
    try {
      await this.deleteTree(what, path);
    } catch (err) {
      if (isAssertionError(err)) throw err;
      this.logger.warn({ err, path }, `${what}: left for garbage collection`);
    }
  }
}

function opBytes(op: ZkOp): number {
  const data = op.kind === "create" || op.kind === "set" ? op.data.length : 0;
  return Buffer.byteLength(op.path) + data + OP_OVERHEAD_BYTES;
}

/** True when a node holds exactly `data`. */
export async function holds(zk: ZooKeeperClient, path: string, data: Buffer): Promise<boolean> {
  const node = await zk.getData(path);
  return node?.data.equals(data) === true;
}

/** A node's data and version when readers see it (absent or empty data: undefined). */
export async function visibleNode(
  zk: ZooKeeperClient,
  path: string,
): Promise<{ data: Buffer; version: number } | undefined> {
  const node = await zk.getData(path);
  if (node === undefined || node.data.length === 0) return undefined;
  return { data: node.data, version: node.stat.version };
}

/** A `mapFailure` for ZkWriter.commit from ZooKeeper codes to the errors they mean here. */
export const failWith =
  (codes: Partial<Record<number, FlussError>>) =>
  (code: number): FlussError | undefined =>
    codes[code];
