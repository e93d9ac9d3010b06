// ServerPool: one connection per address; a call answered NETWORK_EXCEPTION by a live server does
// not close the connection under the other calls in flight on it, and a connection the server
// really closed is replaced on the next call.

import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { ApiKeys, RpcServer } from "@fluss-ts/rpc";
import { afterEach, describe, expect, it } from "vitest";
import { ServerPool } from "../src/server-pool.ts";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(): Promise<{ server: RpcServer; release: () => void }> {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const s = new RpcServer({ host: "127.0.0.1", port: 0 });
  s.handle(ApiKeys.DATABASE_EXISTS, async (req) => {
    if (req.databaseName === "broken") {
      throw new FlussError(Errors.NETWORK_EXCEPTION, "the coordinator cannot be reached");
    }
    if (req.databaseName === "slow") await gate;
    return { exists: true };
  });
  await s.listen();
  cleanups.push(() => s.close());
  return { server: s, release };
}

function pool(): ServerPool {
  const p = new ServerPool({ connectTimeoutMs: 5_000, requestTimeoutMs: 10_000, clientId: "t" });
  cleanups.push(() => p.close());
  return p;
}

describe("ServerPool", () => {
  it("keeps a live connection when one call is answered NETWORK_EXCEPTION: the calls in flight succeed", async () => {
    const { server: s, release } = await server();
    const p = pool();
    const addr = { host: "127.0.0.1", port: s.address.port };
    const slow = p.request(addr, ApiKeys.DATABASE_EXISTS, { databaseName: "slow" });
    const failed = await p.request(addr, ApiKeys.DATABASE_EXISTS, { databaseName: "broken" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isFlussError(failed) && failed.is(Errors.NETWORK_EXCEPTION)).toBe(true);
    release();
    // Before the fix the pool closed the connection here and `slow` failed with CLIENT_CLOSED.
    await expect(slow).resolves.toMatchObject({ exists: true });
    await expect(p.request(addr, ApiKeys.DATABASE_EXISTS, { databaseName: "x" })).resolves.toMatchObject({
      exists: true,
    });
  });

  it("reconnects after the server closed the connection", async () => {
    const first = await server();
    const p = pool();
    const addr = { host: "127.0.0.1", port: first.server.address.port };
    await expect(p.request(addr, ApiKeys.DATABASE_EXISTS, { databaseName: "a" })).resolves.toBeDefined();
    await first.server.close();
    const s2 = new RpcServer({ host: "127.0.0.1", port: addr.port });
    s2.handle(ApiKeys.DATABASE_EXISTS, () => ({ exists: false }));
    await s2.listen();
    cleanups.push(() => s2.close());
    // The dead connection fails at most one call with a retriable error; the next reaches the new server.
    const outcome = await p.request(addr, ApiKeys.DATABASE_EXISTS, { databaseName: "a" }).then(
      (r) => r.exists,
      (e: unknown) => (isFlussError(e) && e.retriable ? "retriable" : e),
    );
    expect([false, "retriable"]).toContain(outcome);
    await expect(p.request(addr, ApiKeys.DATABASE_EXISTS, { databaseName: "a" })).resolves.toMatchObject({
      exists: false,
    });
  });
});
