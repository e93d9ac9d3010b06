// A TCP proxy between one server process and ZooKeeper, for the fault harness: it learns the
// process's ZooKeeper session (id and password) from the ConnectResponse the server sends first on
// every connection, so the harness can expire that session on the server (helpers/zookeeper.ts's
// expireSession: attach with the same id and password, close) without help from the process. The
// process is cut off while that runs so it cannot take its session back first; afterwards it
// reconnects, learns that its session expired, and reacts as it must (a tablet server registers
// again, a coordinator gives up its win).
// ConnectResponse (jute, big-endian, after the 4-byte frame length): protocolVersion int32,
// timeOut int32, sessionId int64, passwd (int32 length + bytes), readOnly bool.
// Invariant: bytes pass through unchanged; only the first upstream frame of a connection is read.

import net from "node:net";
import { expireSession } from "../../helpers/zookeeper.ts";

export interface ZkSession {
  readonly id: Buffer;
  readonly password: Buffer;
}

/** The session a ConnectResponse frame names, or null when `buf` does not hold a whole one yet. */
export function parseConnectResponse(buf: Buffer): ZkSession | null {
  if (buf.length < 4) return null;
  const frame = buf.readInt32BE(0);
  if (buf.length < 4 + frame || frame < 20) return null;
  const passwordLength = buf.readInt32BE(4 + 16);
  if (passwordLength < 0 || 4 + 20 + passwordLength > 4 + frame) return null;
  const id = Buffer.from(buf.subarray(4 + 8, 4 + 16));
  const password = Buffer.from(buf.subarray(4 + 20, 4 + 20 + passwordLength));
  return { id, password };
}

export class ZkSessionProxy {
  readonly port: number;
  private readonly server: net.Server;
  private readonly zkAddress: string;
  private readonly zkPort: number;
  private cutOff = false;
  private readonly sockets = new Set<net.Socket>();
  /** The session of the newest connection that completed its handshake. */
  session: ZkSession | null = null;

  private constructor(server: net.Server, port: number, zkAddress: string) {
    this.server = server;
    this.port = port;
    this.zkAddress = zkAddress;
    this.zkPort = Number(zkAddress.slice(zkAddress.lastIndexOf(":") + 1));
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(zkAddress: string): Promise<ZkSessionProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const proxy = new ZkSessionProxy(server, (server.address() as net.AddressInfo).port, zkAddress);
    server.on("connection", (c) => proxy.accept(c));
    return proxy;
  }

  private accept(client: net.Socket): void {
    if (this.cutOff) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: "127.0.0.1", port: this.zkPort });
    this.sockets.add(client).add(upstream);
    const drop = (): void => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    let head: Buffer | null = Buffer.alloc(0);
    upstream.on("data", (d: Buffer) => {
      if (head !== null) {
        head = Buffer.concat([head, d]);
        const s = parseConnectResponse(head);
        if (s !== null || head.length > 4096) {
          if (s !== null) this.session = s;
          head = null;
        }
      }
      if (!client.write(d)) upstream.pause();
    });
    client.on("drain", () => upstream.resume());
  }

  /** Close every connection and refuse new ones until `heal`. */
  cut(): void {
    this.cutOff = true;
    for (const s of [...this.sockets]) s.destroy();
    this.sockets.clear();
  }

  heal(): void {
    this.cutOff = false;
  }

  /** Expire the process's current session on the server; false when none is known yet. */
  async expire(timeoutMs = 10_000): Promise<boolean> {
    const s = this.session;
    if (s === null) return false;
    this.cut();
    try {
      await expireSession(this.zkAddress, s.id, s.password, timeoutMs);
    } finally {
      this.heal();
    }
    return true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
