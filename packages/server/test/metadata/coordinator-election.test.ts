// Coordinator election: in-process (always active, epoch 0) and on ZooKeeper with two candidates.
// The first is elected with epoch 0, the other waits; when the active one's session ends (expired,
// or the process killed -9) the standby takes over with a higher epoch, and the metadata writes of
// the deposed one (fenced with its epoch's version) are refused whole. A closed coordinator hands
// over at once; one whose epoch is moved under it steps down and is elected again with a new epoch.

import { spawn } from "node:child_process";
import { join } from "node:path";
import { Errors } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasZooKeeper, ZooKeeperProxy, ZooKeeperServer } from "../../../../test/helpers/zookeeper.ts";
import {
  type CoordinatorAddress,
  type ElectionEvent,
  InProcessCoordinatorElection,
} from "../../src/metadata/coordinator-election.ts";
import { ZooKeeperCoordinatorElection } from "../../src/metadata/zk/zk-coordinator-election.ts";
import { ZooKeeperClient } from "../../src/metadata/zk/zookeeper-client.ts";
import { ZooKeeperMetadataStore } from "../../src/metadata/zk/zookeeper-metadata-store.ts";
import { refusal } from "./metadata-store-contract.ts";

const address = (id: string, port: number): CoordinatorAddress => ({
  id,
  endpoints: [{ listener: "FLUSS", host: "127.0.0.1", port }],
});

async function until(f: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const db = (name: string) => ({ name, createdTime: 1, modifiedTime: 1, descriptorJson: "{}" });

describe("in-process coordinator election", () => {
  it("is elected at start with epoch 0 and loses only when closed", async () => {
    const election = new InProcessCoordinatorElection(address("local", 9123));
    const events: ElectionEvent[] = [];
    election.onEvent((e) => events.push(e));
    expect(await election.activeCoordinator()).toBeNull();
    await election.start();
    expect(election.leadership).toEqual({ epoch: 0, epochZkVersion: 0 });
    expect(await election.activeCoordinator()).toEqual(address("local", 9123));
    await election.close();
    expect(events).toEqual([
      { kind: "elected", leadership: { epoch: 0, epochZkVersion: 0 } },
      { kind: "lost", epoch: 0, why: "closed" },
    ]);
  });
});

describe.skipIf(!hasZooKeeper())("ZooKeeper coordinator election", () => {
  let zk: ZooKeeperServer;
  let roots = 0;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
  });
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await zk?.stop();
  });

  async function candidate(root: string, id: string, o: { proxy?: boolean; sessionTimeoutMs?: number } = {}) {
    const proxy = o.proxy ? await ZooKeeperProxy.start(zk) : null;
    const client = await ZooKeeperClient.connect({
      address: proxy?.address ?? zk.address,
      rootPath: root,
      sessionTimeoutMs: o.sessionTimeoutMs ?? 4_000,
      connectionTimeoutMs: 5_000,
    });
    const election = new ZooKeeperCoordinatorElection(client, address(id, 9000 + Number(id)));
    const events: ElectionEvent[] = [];
    election.onEvent((e) => events.push(e));
    const store = new ZooKeeperMetadataStore(client);
    await store.open();
    election.onEvent((e) => {
      if (e.kind === "elected") void store.takeOver(e.leadership.epochZkVersion);
    });
    closers.push(async () => {
      await election.close();
      await client.close();
      await proxy?.close();
    });
    await election.start();
    return { client, election, events, store, proxy };
  }

  it("elects one, hands over to the standby with a higher epoch when its session expires, and fences it", async () => {
    const root = `/election-${++roots}`;
    const a = await candidate(root, "1", { proxy: true });
    await until(() => a.election.leadership !== null, "the first candidate to be elected");
    expect(a.election.leadership!.epoch).toBe(0);
    const b = await candidate(root, "2");
    await new Promise((r) => setTimeout(r, 300));
    expect(b.election.leadership).toBeNull(); // a standby
    expect(await b.election.activeCoordinator()).toEqual(address("1", 9001));
    await a.store.putDatabase(db("by-a"));

    const creds = a.client.sessionCredentials()!;
    await a.proxy!.expireSession(creds.id, creds.password);
    await until(() => b.election.leadership !== null, "the standby to take over");
    expect(b.election.leadership!.epoch).toBe(1);
    expect(await b.election.activeCoordinator()).toEqual(address("2", 9002));
    await until(() => a.events.some((e) => e.kind === "lost"), "the deposed one to hear it");
    expect(a.events).toEqual([
      { kind: "elected", leadership: { epoch: 0, epochZkVersion: 1 } },
      { kind: "lost", epoch: 0, why: "session-expired" },
    ]);
    // The deposed coordinator's writes fail whole; the new one's go through.
    expect((await refusal(a.store.putDatabase(db("late-a")))).code).toBe(
      Errors.NOT_COORDINATOR_LEADER_EXCEPTION.code,
    );
    await until(() => b.events.length === 1, "");
    await b.store.putDatabase(db("by-b"));
    expect((await b.store.listDatabases()).map((d) => d.name)).toEqual(["by-a", "by-b"]);
    // The old one stands again, behind: it is a standby now.
    await new Promise((r) => setTimeout(r, 500));
    expect(a.election.leadership).toBeNull();
    // Closing the active one hands over at once (no session timeout to wait for).
    await b.election.close();
    await until(() => a.election.leadership !== null, "the first one to be elected again");
    expect(a.election.leadership!.epoch).toBe(2);
  });

  it("a standby takes over after the active process is killed -9, within its session timeout", async () => {
    const root = `/election-${++roots}`;
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, "..", "fixtures", "zk-candidate.ts"), zk.address, root, "7", "2000"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
    });
    closers.push(async () => {
      child.kill("SIGKILL");
    });
    await until(() => out.includes("elected 0"), "the child to be elected", 30_000);
    const b = await candidate(root, "8");
    await new Promise((r) => setTimeout(r, 300));
    expect(b.election.leadership).toBeNull();
    const killedAt = Date.now();
    child.kill("SIGKILL");
    await until(() => b.election.leadership !== null, "the standby to take over", 10_000);
    expect(b.election.leadership!.epoch).toBe(1);
    expect(Date.now() - killedAt).toBeLessThan(2_000 + 2_000); // session timeout plus slack
  });

  it("steps down when the epoch moves under it, and is elected again with a new epoch", async () => {
    const root = `/election-${++roots}`;
    const a = await candidate(root, "1");
    await until(() => a.election.leadership !== null, "election");
    const raw = await ZooKeeperClient.connect({ address: zk.address, rootPath: root });
    closers.push(() => raw.close());
    const epoch = (await raw.getData("/coordinators/epoch"))!;
    await raw.multi([
      { kind: "set", path: "/coordinators/epoch", data: Buffer.from("5"), version: epoch.stat.version },
    ]);
    await until(() => a.events.length >= 3, "it to step down and be elected again");
    expect(a.events[1]).toEqual({ kind: "lost", epoch: 0, why: "fenced" });
    expect(a.events[2]).toMatchObject({ kind: "elected", leadership: { epoch: 6 } });
    expect(JSON.parse((await raw.getData("/coordinators/active"))!.data.toString())).toEqual({
      version: 2,
      id: "1",
      listeners: "FLUSS://127.0.0.1:9001",
    });
  });
});
