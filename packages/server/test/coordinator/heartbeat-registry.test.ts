// Membership without ZooKeeper on virtual time: the first registration of a server is a join;
// heartbeats of the same incarnation only keep it alive; a server silent past the session timeout
// leaves; a new incarnation (restart) or a new address is a join again.

import { ManualClock, ManualScheduler } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { HeartbeatRegistry } from "../../src/coordinator/heartbeat-registry.ts";
import { silentLogger } from "../../src/logging.ts";
import { FakeTabletServer } from "../helpers.ts";

function setup() {
  const clock = new ManualClock(1_000);
  const scheduler = new ManualScheduler(clock);
  const events: string[] = [];
  const registry = new HeartbeatRegistry({
    membership: {
      async registerTabletServer(g) {
        events.push(`join ${g.node.id}@${g.node.port}`);
      },
      async unregisterTabletServer(id) {
        events.push(`leave ${id}`);
      },
    },
    connect: (node) => Object.assign(new FakeTabletServer(node.id), { node }),
    clock,
    scheduler,
    logger: silentLogger,
    heartbeatIntervalMs: 100,
    sessionTimeoutMs: 300,
  });
  registry.start();
  return { registry, scheduler, events };
}

const node = (id: number, port = 5000 + id) => ({ id, host: "127.0.0.1", port });

describe("HeartbeatRegistry", () => {
  it("joins once per incarnation, expires a silent server, rejoins a restarted one", async () => {
    const { registry, scheduler, events } = setup();
    await registry.heartbeat(node(1), 7n);
    await registry.heartbeat(node(2), 9n);
    for (let i = 0; i < 5; i++) {
      scheduler.advance(100);
      await registry.heartbeat(node(1), 7n);
    }
    expect(events).toEqual(["join 1@5001", "join 2@5002", "leave 2"]);
    await registry.heartbeat(node(1), 8n);
    expect(events.at(-1)).toBe("join 1@5001");
    await registry.heartbeat(node(1, 6001), 8n);
    expect(events.at(-1)).toBe("join 1@6001");
    registry.stop();
    scheduler.advance(10_000);
    expect(events.filter((e) => e === "leave 1")).toHaveLength(0);
  });
});
