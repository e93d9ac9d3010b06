// The entry point of the SDK: `connect({ bootstrap })` gives a FlussConnection with an Admin and
// Table handles. One connection shares one pool of server connections and one metadata cache.
// `await using conn = await connect(...)` closes it at the end of the scope. A table handle can be
// typed by a defined schema (`getTable(path, Orders)`, checked against the table's schema) or by
// a type argument alone (`getTable<typeof Orders>(path)`, `getTable<MyRow>(path)`, unchecked).

import {
  type Clock,
  Errors,
  FlussError,
  invalidArgument,
  type Scheduler,
  systemClock,
  systemScheduler,
  tablePathToString,
} from "@fluss-ts/common";
import { Admin, type TablePathLike, toTablePath } from "./admin.ts";
import { MetadataCache } from "./metadata.ts";
import type { ConnectOptions } from "./options.ts";
import {
  type AnyRow,
  type DefinedSchema,
  type InputOf,
  type RowOf,
  schemaDifferences,
} from "./schema-types.ts";
import { parseAddress, ServerPool } from "./server-pool.ts";
import { Table } from "./table.ts";

export class FlussConnection implements AsyncDisposable {
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
    this.admin = new Admin(pool, metadata, scheduler);
  }

  /**
   * A handle on an existing table (TABLE_NOT_EXIST otherwise). Given a defined schema, its rows
   * are typed by it and the table must have exactly its columns, types and primary key
   * (SCHEMA_MISMATCH otherwise, naming each difference).
   */
  async getTable<S extends DefinedSchema<object, object>>(
    path: TablePathLike,
    schema: S,
  ): Promise<Table<RowOf<S>, InputOf<S>>>;
  /** A handle on an existing table; a type argument (a defined schema's type or a row interface) types its rows, unchecked. */
  async getTable<T extends object = AnyRow>(path: TablePathLike): Promise<Table<RowOf<T>, InputOf<T>>>;
  async getTable(path: TablePathLike, schema?: DefinedSchema<object, object>): Promise<Table> {
    const route = await this.metadata.table(toTablePath(path), true);
    if (schema !== undefined) {
      const diff = schemaDifferences(route.info.descriptor.schema, schema);
      if (diff.length > 0) {
        throw new FlussError(
          Errors.SCHEMA_MISMATCH,
          `table '${tablePathToString(route.info.path)}' does not have the schema given: ${diff.join("; ")}`,
        );
      }
    }
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

  /** Close every server connection; tables, writers and scanners of this connection stop working. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** `await using conn = await connect(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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
