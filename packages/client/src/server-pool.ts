// One RPC connection per server address, opened on first use and reopened after it breaks. Callers
// address servers by `host:port`; the pool hides connect races (concurrent first calls share one
// connect) and turns a dead connection into a fresh one on the next call. Invariant: the pool never
// closes a connection that is still open except at `close()`, so a call is failed by its own
// outcome only (a failed neighbour never turns it into CLIENT_CLOSED).

import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { type ApiDef, type ReqInitOf, type RespOf, RpcConnection } from "@fluss-ts/rpc";

export interface Address {
  readonly host: string;
  readonly port: number;
}

export function parseAddress(text: string): Address {
  const t = text.trim();
  const i = t.lastIndexOf(":");
  const host = i > 0 ? t.slice(0, i).replace(/^\[|\]$/g, "") : t;
  const port = i > 0 ? Number(t.slice(i + 1)) : 9123;
  if (host.length === 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new FlussError(Errors.INVALID_ARGUMENT, `invalid server address '${text}' (expected host:port)`);
  }
  return { host, port };
}

export function addressKey(a: Address): string {
  return `${a.host}:${a.port}`;
}

export interface PoolOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  clientId: string;
}

export class ServerPool {
  private readonly opts: PoolOptions;
  private readonly conns = new Map<string, Promise<RpcConnection>>();
  private closed = false;

  constructor(opts: PoolOptions) {
    this.opts = opts;
  }

  private connection(addr: Address): Promise<RpcConnection> {
    if (this.closed) return Promise.reject(new FlussError(Errors.CLIENT_CLOSED, "the connection is closed"));
    const key = addressKey(addr);
    let p = this.conns.get(key);
    if (!p) {
      p = RpcConnection.connect({
        host: addr.host,
        port: addr.port,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        requestTimeoutMs: this.opts.requestTimeoutMs,
      });
      this.conns.set(key, p);
      p.catch(() => {
        if (this.conns.get(key) === p) this.conns.delete(key);
      });
    }
    return p;
  }

  async request<A extends ApiDef>(
    addr: Address,
    api: A,
    req: ReqInitOf<A>,
    opts?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<RespOf<A>> {
    let conn = await this.connection(addr);
    if (!conn.isOpen) {
      // closed while idle (either side's idle timeout, a server restart): reconnect before sending
      await this.forget(addr, conn);
      conn = await this.connection(addr);
    }
    try {
      return await conn.request(api, req, opts);
    } catch (err) {
      // A broken connection is dropped so the next call reconnects. A NETWORK_EXCEPTION can also be
      // one call's answer from a live server (a tablet server that could not reach the
      // coordinator): the connection stays, since closing it would fail every other call in
      // flight on it with CLIENT_CLOSED, which is final (found by test:fault: writes failed).
      if (isFlussError(err) && err.is(Errors.NETWORK_EXCEPTION) && !conn.isOpen) {
        await this.forget(addr, conn);
      }
      throw err;
    }
  }

  /** Drop `conn` from the pool if it is still the one cached for `addr`. */
  private async forget(addr: Address, conn: RpcConnection): Promise<void> {
    const key = addressKey(addr);
    const current = this.conns.get(key);
    if (current && (await current.catch(() => undefined)) === conn) this.conns.delete(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close()));
  }
}
