// Id counters on ZooKeeper: Curator DistributedAtomicLong nodes (8-byte values) moved by
// compare-and-set on the node version, fenced like every write (ZkWriter). The stored value is the
// next id to hand out (as Fluss's); a missing node means 1. Calls for the same counter in this
// process are chained, so they do not fight each other's compare-and-set; other processes still
// race by it. A round whose answer was lost is recognised by the node holding our value at the
// version our write would have made.

import { Errors, FlussError } from "@fluss-ts/common";
import { decodeCounter, EMPTY_DATA, encodeCounter } from "./zk-layout.ts";
import { failWith, storageError, type ZkWriter } from "./zk-writer.ts";
import { ZkCode, type ZkOp, type ZooKeeperClient } from "./zookeeper-client.ts";

/** Compare-and-set rounds one reservation may take under contention before it gives up. */
const COUNTER_ATTEMPTS_MAX = 100;

export class ZkCounters {
  private readonly zk: ZooKeeperClient;
  private readonly writer: ZkWriter;
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(zk: ZooKeeperClient, writer: ZkWriter) {
    this.zk = zk;
    this.writer = writer;
  }

  /** Reserve `count` ids of the counter at `path` (creating `parents` when missing); the first. */
  async next(counter: string, path: string, parents: readonly string[], count: number): Promise<bigint> {
    const previous = this.chains.get(path) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.cas(counter, path, parents, count));
    this.chains.set(path, next);
    try {
      return await next;
    } finally {
      if (this.chains.get(path) === next) this.chains.delete(path);
    }
  }

  private async read<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw storageError(`read of ${what}`, err);
    }
  }

  private async cas(
    counter: string,
    path: string,
    parents: readonly string[],
    count: number,
  ): Promise<bigint> {
    for (let attempt = 1; attempt <= COUNTER_ATTEMPTS_MAX; attempt++) {
      const node = await this.read(`counter ${counter}`, () => this.zk.getData(path));
      const first = node === undefined ? 1n : decodeCounter(node.data, counter);
      const data = encodeCounter(first + BigInt(count));
      const ops: ZkOp[] = [];
      if (node === undefined) {
        for (const parent of parents) {
          if ((await this.read(parent, () => this.zk.exists(parent))) === undefined) {
            ops.push({ kind: "create", path: parent, data: EMPTY_DATA });
          }
        }
        ops.push({ kind: "create", path, data });
      } else {
        ops.push({ kind: "set", path, data, version: node.stat.version });
      }
      const expectedVersion = node === undefined ? 0 : node.stat.version + 1;
      const raced = new FlussError(Errors.STORAGE_EXCEPTION, "raced");
      try {
        await this.writer.commit(
          `next id of ${counter}`,
          ops,
          async () => {
            const now = await this.zk.getData(path);
            return now !== undefined && now.stat.version === expectedVersion && now.data.equals(data);
          },
          failWith({ [ZkCode.BAD_VERSION]: raced, [ZkCode.NODE_EXISTS]: raced }),
        );
        return first;
      } catch (err) {
        if (err !== raced) throw err;
      }
    }
    throw new FlussError(
      Errors.STORAGE_EXCEPTION,
      `counter ${counter} is contended: no id after ${COUNTER_ATTEMPTS_MAX} tries`,
    );
  }
}
