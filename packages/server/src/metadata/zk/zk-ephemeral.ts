// Creating an ephemeral node this session must own (a tablet server's or a coordinator's
// registration), when an earlier life of the same id may still hold it: the node of a process
// killed -9, or of this process's own expired session, lives until ZooKeeper expires that session.
// We wait for it to go, up to a session timeout plus the connection timeout, then refuse with
// INVALID_CONFIG_EXCEPTION (another live process uses this id). A create whose answer was lost is
// recognised by the node's owner being this session.

import { Errors, FlussError, type Scheduler } from "@fluss-ts/common";
import type { Logger } from "../../logging.ts";
import { isZooKeeperError, ZkCode, type ZooKeeperClient } from "./zookeeper-client.ts";

/** Longest single wait before looking at the node again. */
const RECHECK_MS = 5_000;

/** Create `path` as an ephemeral node of the current session; resolves with its creation zxid. */
export async function createOwnEphemeral(
  zk: ZooKeeperClient,
  scheduler: Scheduler,
  logger: Logger,
  path: string,
  data: Buffer,
  what: string,
  isClosed: () => boolean = () => false,
): Promise<bigint> {
  const deadlineMs = zk.nowMs() + zk.negotiatedSessionTimeoutMs + zk.connectionTimeoutMs;
  for (;;) {
    try {
      await zk.create(path, data, true);
    } catch (err) {
      if (!isZooKeeperError(err)) throw err;
      if (err.code !== ZkCode.NODE_EXISTS && !err.ambiguous) throw err;
    }
    const stat = await zk.exists(path);
    const session = zk.sessionIdBigInt;
    if (stat !== undefined && session !== null && stat.ephemeralOwner === session) return stat.czxid;
    if (stat === undefined) continue;
    const remainingMs = deadlineMs - zk.nowMs();
    const owner = `0x${stat.ephemeralOwner.toString(16)}`;
    if (remainingMs <= 0 || isClosed()) {
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        `${what} is registered by another live ZooKeeper session (${owner}) at ${zk.address}: is another process running with this id?`,
      );
    }
    logger.info({ path, owner }, `${what}: waiting for an earlier registration to expire`);
    await new Promise<void>((resolve) => {
      const timer = scheduler.setTimeout(resolve, Math.min(remainingMs, RECHECK_MS));
      const done = (): void => {
        scheduler.clearTimeout(timer);
        resolve();
      };
      void zk.exists(path, done).then(
        (now) => {
          if (now === undefined || now.ephemeralOwner !== stat.ephemeralOwner) done();
        },
        () => undefined,
      );
    });
  }
}

/** Remove `path` if this session owns it (best effort: it goes with the session anyway). */
export async function removeOwnEphemeral(zk: ZooKeeperClient, path: string): Promise<void> {
  const stat = await zk.exists(path);
  if (stat !== undefined && stat.ephemeralOwner === zk.sessionIdBigInt) {
    await zk.multi([{ kind: "remove", path, version: stat.version }]);
  }
}
