// The entry point of the SDK: `connect({ bootstrap })` gives a FlussConnection with an Admin and
// Table handles. One connection shares one pool of server connections and one metadata cache.

import { type Clock, invalidArgument, type Scheduler, systemClock, systemScheduler } from "@fluss-ts/common";
import { Admin, type TablePathLike, toTablePath } from "./admin.ts";
import { MetadataCache } from "./metadata.ts";
import type { ConnectOptions } from "./options.ts";
import { parseAddress, ServerPool } from "./server-pool.ts";
import { Table } from "./table.ts";

export class FlussConnection {
  readonly admin: Admin;
  private readonly pool: ServerPool;
  private readonly metadata: MetadataCache;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;

  constructor(
    pool: ServerPool,
    metadata: MetadataCache,
    clock: Clock,
    scheduler: Scheduler = systemScheduler,
  ) {
    this.pool = pool;
    this.metadata = metadata;
    this.clock = clock;
    this.scheduler = scheduler;
    this.admin = new Admin(pool, metadata);
  }

  /** A handle on an existing table (TABLE_NOT_EXIST otherwise). */
  async getTable(path: TablePathLike): Promise<Table> {
    const route = await this.metadata.table(toTablePath(path), true);
    return new Table(
      {
        pool: this.pool,
        metadata: this.metadata,
        admin: this.admin,
        clock: this.clock,
        scheduler: this.scheduler,
      },
      route,
    );
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** Connect to a cluster through any of its servers; fails fast when none answers. */
export async function connect(options: ConnectOptions): Promise<FlussConnection> {
  const list = typeof options.bootstrap === "string" ? options.bootstrap.split(",") : [...options.bootstrap];
  const bootstrap = list.filter((s) => s.trim().length > 0).map(parseAddress);
  if (bootstrap.length === 0) throw invalidArgument("bootstrap needs at least one host:port");
  const pool = new ServerPool({
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    clientId: options.clientId ?? "fluss-ts",
  });
  const metadata = new MetadataCache(pool, bootstrap);
  try {
    await metadata.coordinator();
  } catch (err) {
    await pool.close();
    throw err;
  }
  return new FlussConnection(
    pool,
    metadata,
    options.clock ?? systemClock,
    options.scheduler ?? systemScheduler,
  );
}
