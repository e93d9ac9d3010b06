// A tablet server's link to the active coordinator (coordinator-link.ts) follows a coordinator
// failover even while the old coordinator's address still answers: the old process restarted as
// the standby serves nothing (UNSUPPORTED_VERSION for every API), and the link's open connection
// to it must be left once the active coordinator is named elsewhere — else every AdjustIsr went
// to the standby and ISRs never grew back (found by test:fault).

import { Errors, isFlussError, systemScheduler } from "@fluss-ts/common";
import { ApiKeys, RpcServer } from "@fluss-ts/rpc";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logging.ts";
import { type CoordinatorAddress, CoordinatorLink } from "../../src/tablet/coordinator-link.ts";

const servers: RpcServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function listen(s: RpcServer): Promise<CoordinatorAddress> {
  servers.push(s);
  return s.listen();
}

describe("CoordinatorLink", () => {
  it("leaves its connection to a coordinator that is no longer the active one", async () => {
    const standby = await listen(new RpcServer()); // serves nothing (a standby)
    const active = await listen(new RpcServer().handle(ApiKeys.ADJUST_ISR, () => ({ tablesResp: [] })));
    let named: CoordinatorAddress = standby;
    const link = new CoordinatorLink({
      node: { id: 0, host: "127.0.0.1", port: 1 },
      coordinator: () => named,
      heartbeats: false,
      incarnation: 1n,
      scheduler: systemScheduler,
      logger: silentLogger,
      requestTimeoutMs: 5_000,
    });
    const adjust = () => link.request(ApiKeys.ADJUST_ISR, { serverId: 0, tablesReq: [] });
    const refused = await adjust().catch((e: unknown) => e);
    expect(isFlussError(refused) && refused.is(Errors.UNSUPPORTED_VERSION)).toBe(true);
    named = active; // the new active coordinator, as UpdateMetadata (or ZooKeeper) names it
    await expect(adjust()).resolves.toEqual(expect.objectContaining({ tablesResp: [] }));
    await link.stop();
  });
});
