// Tablet server registration and liveness, on both registries: watchers first hear every live
// server, then joins and leaves in order; a registration whose session ends hears "expired", the
// watchers see the server leave, and it registers again by itself with a higher epoch (watchers see
// it join anew). On ZooKeeper: nodes are Fluss's JSON; a server killed without a word leaves once its
// session times out; a server id still held by an earlier session is taken once that session ends,
// and refused while another live session holds it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasZooKeeper, ZooKeeperProxy, ZooKeeperServer } from "../../../../test/helpers/zookeeper.ts";
import {
  InProcessServerRegistry,
  parseListeners,
  type RegistrationEvent,
  type ServerRegistry,
  type TabletServerInfo,
  type TabletServersEvent,
} from "../../src/metadata/server-registry.ts";
import { ZooKeeperServerRegistry } from "../../src/metadata/zk/zk-server-registry.ts";
import { ZooKeeperClient } from "../../src/metadata/zk/zookeeper-client.ts";

const info = (id: number, rack: string | null = null): TabletServerInfo => ({
  id,
  endpoints: parseListeners(`FLUSS://127.0.0.1:${9000 + id},CLIENT://[::1]:${9100 + id}`),
  rack,
});

/** Poll until `f` holds (events arrive asynchronously on ZooKeeper). */
async function until(f: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const brief = (events: TabletServersEvent[]) => events.map((e) => `${e.kind} ${e.server.id}`);

/** The scenario both registries pass; `expire` ends one registration's session. */
async function joinsLeavesAndExpiry(
  registry: (n: number) => Promise<ServerRegistry>,
  expire: (serverId: number) => Promise<void>,
): Promise<void> {
  const coordinatorSide = await registry(0);
  const r1 = await (await registry(1)).registerTabletServer(info(1, "rack-a"));
  const events: TabletServersEvent[] = [];
  const watch = await coordinatorSide.watchTabletServers((e) => events.push(e));
  expect(brief(events)).toEqual(["joined 1"]);
  expect(events[0]!.server).toMatchObject({ ...info(1, "rack-a"), registrationEpoch: r1.registrationEpoch });
  const r2 = await (await registry(2)).registerTabletServer(info(2));
  await until(() => events.length === 2, "server 2 to join");
  expect(brief(events)).toEqual(["joined 1", "joined 2"]);
  expect([...watch.live.keys()].sort()).toEqual([1, 2]);
  expect((await coordinatorSide.listTabletServers()).map((s) => s.id)).toEqual([1, 2]);

  const heard: RegistrationEvent["kind"][] = [];
  r1.onEvent((e) => heard.push(e.kind));
  const before = r1.registrationEpoch!;
  await expire(1);
  await until(() => heard.includes("registered"), "server 1 to register again");
  expect(heard.filter((k) => k === "expired" || k === "registered")).toEqual(["expired", "registered"]);
  expect(r1.isRegistered).toBe(true);
  expect(r1.registrationEpoch! > before).toBe(true);
  await until(() => events.length === 4, "server 1 to leave and join again");
  expect(brief(events)).toEqual(["joined 1", "joined 2", "left 1", "joined 1"]);
  expect(events[3]!.server.registrationEpoch).toBe(r1.registrationEpoch);

  await r2.close();
  await until(() => events.length === 5, "server 2 to leave");
  expect(brief(events).at(-1)).toBe("left 2");
  expect([...watch.live.keys()]).toEqual([1]);
  watch.close();
  await r1.close();
}

describe("in-process server registry", () => {
  it("joins, leaves, an expired session and the re-registration, in order", async () => {
    const registry = new InProcessServerRegistry();
    await joinsLeavesAndExpiry(
      async () => registry,
      async (id) => registry.expire(id),
    );
  });

  it("refuses a second registration of a live id", async () => {
    const registry = new InProcessServerRegistry();
    await registry.registerTabletServer(info(1));
    await expect(registry.registerTabletServer(info(1))).rejects.toThrow(/already registered/);
  });
});

describe.skipIf(!hasZooKeeper())("ZooKeeper server registry", () => {
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

  async function client(rootPath: string, sessionTimeoutMs = 4_000, via?: ZooKeeperProxy) {
    const c = await ZooKeeperClient.connect({
      address: via?.address ?? zk.address,
      rootPath,
      sessionTimeoutMs,
      connectionTimeoutMs: 5_000,
    });
    clients.push(c);
    return c;
  }

  it("joins, leaves, an expired session and the re-registration, in order", async () => {
    const root = `/registry-${++roots}`;
    const byServer = new Map<number, { proxy: ZooKeeperProxy; zk: ZooKeeperClient }>();
    await joinsLeavesAndExpiry(
      async (n) => {
        const proxy = await ZooKeeperProxy.start(zk);
        proxies.push(proxy);
        const c = await client(root, 4_000, proxy);
        byServer.set(n, { proxy, zk: c });
        return new ZooKeeperServerRegistry(c);
      },
      async (id) => {
        const { proxy, zk: c } = byServer.get(id)!;
        const creds = c.sessionCredentials()!;
        await proxy.expireSession(creds.id, creds.password);
      },
    );
  });

  it("writes Fluss's TabletServerRegistration JSON in an ephemeral node", async () => {
    const root = `/registry-${++roots}`;
    const c = await client(root);
    const reg = await new ZooKeeperServerRegistry(c).registerTabletServer(info(7, "r1"));
    const node = (await c.getData("/tabletservers/ids/7"))!;
    expect(JSON.parse(node.data.toString())).toMatchObject({
      version: 4,
      listeners: "FLUSS://127.0.0.1:9007,CLIENT://[::1]:9107",
      rack: "r1",
    });
    expect(node.stat.ephemeralOwner).toBe(c.sessionIdBigInt);
    expect(node.stat.czxid).toBe(reg.registrationEpoch);
    await reg.close();
    expect(await c.exists("/tabletservers/ids/7")).toBeUndefined();
  });

  it("a server cut off from ZooKeeper leaves within its session timeout and hears it too", async () => {
    const root = `/registry-${++roots}`;
    const proxy = await ZooKeeperProxy.start(zk);
    proxies.push(proxy);
    const watcherSide = new ZooKeeperServerRegistry(await client(root));
    const events: TabletServersEvent[] = [];
    await watcherSide.watchTabletServers((e) => events.push(e));
    const reg = await new ZooKeeperServerRegistry(await client(root, 2_000, proxy)).registerTabletServer(
      info(3),
    );
    await until(() => events.length === 1, "server 3 to join");
    const heard: RegistrationEvent["kind"][] = [];
    reg.onEvent((e) => heard.push(e.kind));
    proxy.freeze(); // a partition: its connection stays open, nothing gets through
    const frozenAt = Date.now();
    await until(() => heard.includes("expired") && events.length === 2, "server 3 to leave", 10_000);
    expect(brief(events)).toEqual(["joined 3", "left 3"]);
    expect(Date.now() - frozenAt).toBeLessThan(2_000 + 2_000); // session timeout plus slack
    proxy.heal();
    await until(() => heard.includes("registered") && events.length === 3, "server 3 to come back");
    expect(brief(events)).toEqual(["joined 3", "left 3", "joined 3"]);
  });

  it("takes over its id from an earlier session once that ends; refuses while another holds it", async () => {
    const root = `/registry-${++roots}`;
    const proxy = await ZooKeeperProxy.start(zk);
    proxies.push(proxy);
    const old = await client(root, 4_000, proxy);
    await new ZooKeeperServerRegistry(old).registerTabletServer(info(5)); // an earlier life of server 5
    const next = await client(root, 4_000);
    const registering = new ZooKeeperServerRegistry(next).registerTabletServer(info(5));
    await new Promise((r) => setTimeout(r, 500));
    const creds = old.sessionCredentials()!;
    await proxy.expireSession(creds.id, creds.password); // the old process is gone for good
    const reg = await registering;
    expect((await next.exists("/tabletservers/ids/5"))?.ephemeralOwner).toBe(next.sessionIdBigInt);
    // A second live process with the same id waits one session timeout, then is refused.
    const third = await ZooKeeperClient.connect({
      address: zk.address,
      rootPath: root,
      sessionTimeoutMs: 1_000,
      connectionTimeoutMs: 1_000,
    });
    clients.push(third);
    await expect(new ZooKeeperServerRegistry(third).registerTabletServer(info(5))).rejects.toThrow(
      /tablet-server.id 5 is registered by another live ZooKeeper session/,
    );
    expect(reg.isRegistered).toBe(true);
  });
});
