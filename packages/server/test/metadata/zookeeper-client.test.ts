// The ZooKeeper session as a server sees it, on a real ZooKeeper server: a restart of ZooKeeper is
// a disconnect and a reconnect of the same session; a session expired on the server is reported
// "expired" and replaced by a new one (its ephemeral nodes gone); a server that stops answering
// (frozen) ends the session locally within the session timeout although the TCP connection stays
// open; a request that could not be sent before its session ended is never sent later.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasZooKeeper, ZooKeeperProxy, ZooKeeperServer } from "../../../../test/helpers/zookeeper.ts";
import { type ZkSessionEvent, ZooKeeperClient } from "../../src/metadata/zk/zookeeper-client.ts";

/** Session events as they come; `next(kind)` takes the first not yet taken (waiting for it). */
export function recorder(zk: ZooKeeperClient) {
  const events: ZkSessionEvent[] = [];
  let taken = 0;
  let wake: () => void = () => undefined;
  zk.onSessionEvent((e) => {
    events.push(e);
    wake();
  });
  return {
    events,
    async next(kind: ZkSessionEvent["kind"], timeoutMs = 20_000): Promise<ZkSessionEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const at = events.findIndex((e, i) => i >= taken && e.kind === kind);
        if (at >= 0) {
          taken = at + 1;
          return events[at]!;
        }
        if (Date.now() >= deadline)
          throw new Error(`no ${kind} event in ${timeoutMs} ms (saw ${events.map((e) => e.kind)})`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

describe.skipIf(!hasZooKeeper())("ZooKeeper client sessions", () => {
  let zk: ZooKeeperServer;
  let roots = 0;
  const clients: ZooKeeperClient[] = [];
  const proxies: ZooKeeperProxy[] = [];
  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    for (const p of proxies) await p.close();
    await zk?.stop();
  });

  async function proxy(): Promise<ZooKeeperProxy> {
    const p = await ZooKeeperProxy.start(zk);
    proxies.push(p);
    return p;
  }

  async function connect(
    sessionTimeoutMs: number,
    requestTimeoutMs?: number,
    via?: ZooKeeperProxy,
  ): Promise<ZooKeeperClient> {
    const c = await ZooKeeperClient.connect({
      address: via?.address ?? zk.address,
      rootPath: `/session-${++roots}`,
      sessionTimeoutMs,
      connectionTimeoutMs: 5_000,
      ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    });
    clients.push(c);
    return c;
  }

  it("a ZooKeeper restart is a disconnect and a reconnect of the same session", async () => {
    const c = await connect(10_000);
    const r = recorder(c);
    const session = c.sessionId;
    await c.create("/eph", Buffer.from("x"), true);
    await zk.kill();
    await r.next("disconnected");
    await zk.restart();
    await r.next("reconnected");
    expect(c.sessionId).toBe(session);
    expect(await c.exists("/eph")).toBeDefined(); // the session, and its ephemeral node, lived on
    expect(r.events.map((e) => e.kind)).toEqual(["disconnected", "reconnected"]);
  });

  it("a session expired on the server is reported and replaced; its ephemeral nodes are gone", async () => {
    const p = await proxy();
    const c = await connect(4_000, undefined, p);
    const r = recorder(c);
    const first = c.sessionId;
    await c.create("/eph", Buffer.from("x"), true);
    const creds = c.sessionCredentials()!;
    await p.expireSession(creds.id, creds.password);
    expect(await r.next("expired")).toMatchObject({ kind: "expired", sessionId: first, why: "server" });
    const next = await r.next("session");
    expect(next.sessionId).not.toBe(first);
    expect(c.sessionId).toBe(next.sessionId);
    expect(await c.exists("/eph")).toBeUndefined();
  });

  it("a partition (nothing gets through, the connection stays open) ends the session locally within the session timeout", async () => {
    const p = await proxy();
    const c = await connect(2_000, 1_000, p);
    const r = recorder(c);
    const first = c.sessionId;
    const frozenAt = Date.now();
    p.freeze();
    try {
      const expired = await r.next("expired", 10_000);
      const tookMs = Date.now() - frozenAt;
      expect(expired).toMatchObject({ why: "timeout", sessionId: first });
      // Within the session timeout of the last answer the server gave (plus a watchdog tick).
      expect(tookMs).toBeLessThan(2_000 + 1_000);
    } finally {
      p.heal();
    }
    const next = await r.next("session");
    expect(next.sessionId).not.toBe(first);
    await c.create("/alive", Buffer.alloc(0));
  });

  it("a request queued while ZooKeeper was down is dropped with its session, never sent later", async () => {
    const c = await connect(2_000, 10_000);
    const r = recorder(c);
    await zk.kill();
    await r.next("disconnected");
    const queued = c.create("/late", Buffer.from("x")).then(
      () => "created",
      (e: unknown) => `failed: ${String(e)}`,
    );
    await r.next("expired", 10_000);
    expect(await queued).toMatch(/^failed: /);
    await zk.restart();
    await r.next("session", 20_000);
    await new Promise((res) => setTimeout(res, 300));
    expect(await c.exists("/late")).toBeUndefined();
  });

  it("keeps at most inFlightRequestsMax requests outstanding and still answers them all", async () => {
    const c = await ZooKeeperClient.connect({
      address: zk.address,
      rootPath: `/inflight-${++roots}`,
      inFlightRequestsMax: 3,
    });
    clients.push(c);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => c.exists(`/n${i}`)));
    expect(results.every((x) => x === undefined)).toBe(true);
  });
});
