// ZooKeeperClient: the requests this code makes of ZooKeeper (reads with optional watches, creates,
// multi-op transactions) on top of the session machinery of zk-session.ts, whose header describes
// the session life (disconnected, reconnected, expired, new session) and the request rules
// (bounded in flight, a deadline each, `ambiguous` writes). Paths are relative to the root path.

import { assert, Errors, FlussError } from "@fluss-ts/common";
import type { Stat, Event as ZkEvent } from "node-zookeeper-client";
import zookeeper from "node-zookeeper-client";
import { exactVersion, statOf, WATCH_TYPES } from "./zk-library.ts";
import { type ZooKeeperClientOptions, ZooKeeperSession } from "./zk-session.ts";
import { isZooKeeperError, type NodeStat, ZkCode, type ZkOp, type ZkWatcher } from "./zk-types.ts";

export * from "./zk-session.ts";
export * from "./zk-types.ts";

export class ZooKeeperClient extends ZooKeeperSession {
  /** Open a session (within the connection timeout) and create the root path. */
  static async connect(o: ZooKeeperClientOptions): Promise<ZooKeeperClient> {
    const zk = new ZooKeeperClient(o);
    const client = await zk.openSession();
    if (client === null) {
      throw new FlussError(
        Errors.NETWORK_EXCEPTION,
        `could not connect to ZooKeeper at ${zk.address} within ${zk.connectionTimeoutMs} ms (zookeeper.client.connection-timeout)`,
      );
    }
    zk.adopt(client);
    try {
      await zk.mkdirs("/");
    } catch (err) {
      await zk.close();
      throw err;
    }
    return zk;
  }

  private wrapWatcher(watcher: ZkWatcher | undefined): ((e: ZkEvent) => void) | undefined {
    if (watcher === undefined) return undefined;
    return (e) => {
      const type = WATCH_TYPES[e.getType()];
      if (type !== undefined) watcher({ type, path: this.relative(e.getPath()) });
    };
  }

  /** A node's data and stat, or undefined when it does not exist. */
  async getData(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: NodeStat } | undefined> {
    const w = this.wrapWatcher(watcher);
    try {
      return await this.request<{ data: Buffer; stat: NodeStat }>(`get ${path}`, false, (c, done) => {
        const cb = (err: unknown, data: Buffer, stat: Stat): void =>
          done(err, err ? undefined : { data: data ?? Buffer.alloc(0), stat: statOf(stat) });
        if (w) c.getData(this.full(path), w, cb);
        else c.getData(this.full(path), cb);
      });
    } catch (err) {
      if (isZooKeeperError(err, ZkCode.NO_NODE)) return undefined;
      throw err;
    }
  }

  /** A node's children (names), or undefined when it does not exist. */
  async getChildren(path: string, watcher?: ZkWatcher): Promise<string[] | undefined> {
    const w = this.wrapWatcher(watcher);
    try {
      return await this.request<string[]>(`children of ${path}`, false, (c, done) => {
        const cb = (err: unknown, children: string[]): void => done(err, children);
        if (w) c.getChildren(this.full(path), w, cb);
        else c.getChildren(this.full(path), cb);
      });
    } catch (err) {
      if (isZooKeeperError(err, ZkCode.NO_NODE)) return undefined;
      throw err;
    }
  }

  /** A node's stat, or undefined; a watcher is set either way (it fires on create too). */
  exists(path: string, watcher?: ZkWatcher): Promise<NodeStat | undefined> {
    const w = this.wrapWatcher(watcher);
    return this.request<NodeStat | undefined>(`exists ${path}`, false, (c, done) => {
      const cb = (err: unknown, stat: Stat): void => done(err, err || !stat ? undefined : statOf(stat));
      if (w) c.exists(this.full(path), w, cb);
      else c.exists(this.full(path), cb);
    });
  }

  /** Create one node (its parent must exist). */
  create(path: string, data: Buffer, ephemeral = false): Promise<void> {
    const mode = ephemeral ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT;
    return this.request<void>(`create ${path}`, true, (c, done) => {
      c.create(this.full(path), data, mode, (err) => done(err));
    });
  }

  /** Create an ephemeral sequential node `<prefix><10-digit sequence>`; resolves with its name. */
  createEphemeralSequential(prefix: string, data: Buffer): Promise<string> {
    return this.request<string>(`create ${prefix}*`, true, (c, done) => {
      c.create(this.full(prefix), data, zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, (err, created) =>
        done(err, err ? undefined : created.slice(created.lastIndexOf("/") + 1)),
      );
    });
  }

  /** Create `path` and its missing ancestors as empty persistent nodes (existing ones are kept). */
  async mkdirs(path: string): Promise<void> {
    const full = this.full(path);
    await this.request<void>(`mkdirs ${path}`, true, (c, done) => {
      c.mkdirp(full, (err) => done(err));
    });
  }

  /** Run `ops` as one atomic multi-op transaction. */
  multi(ops: readonly ZkOp[]): Promise<void> {
    assert(ops.length > 0, "a transaction has operations");
    return this.request<void>(`transaction of ${ops.length} ops on ${ops[0]!.path}`, true, (c, done) => {
      const tx = c.transaction();
      for (const op of ops) {
        const p = this.full(op.path);
        if (op.kind === "create") {
          tx.create(
            p,
            op.data,
            op.ephemeral ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT,
          );
        } else if (op.kind === "set") {
          tx.setData(p, op.data, op.version);
          exactVersion(tx, op.version);
        } else if (op.kind === "check") {
          tx.check(p, op.version);
          exactVersion(tx, op.version);
        } else {
          tx.remove(p, op.version);
          exactVersion(tx, op.version);
        }
      }
      tx.commit((err) => done(err));
    });
  }
}
