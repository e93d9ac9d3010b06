// The lake tiering service inside `fluss local`, started when `datalake.format` is set. It is
// loaded lazily (like the CLI loads the server): @fluss-ts/lake and its WebAssembly Parquet codec
// are imported only then, so a server without a lake never loads them. The service is a client of
// this cluster (it connects to the coordinator over loopback), exactly as the standalone
// `fluss tiering` is, so both behave the same and the server's own layers know nothing of it.

import { join } from "node:path";
import type { ServerConfig } from "./config.ts";
import type { Logger } from "./logging.ts";

export interface LakeTieringHandle {
  readonly warehouse: string;
  stop(): Promise<void>;
}

/** The warehouse a config tiers to: datalake.iceberg.warehouse, else `<data.dir>/iceberg`. */
export function lakeWarehouseOf(c: ServerConfig): string {
  return c.lakeWarehouse ?? join(c.dataDir, "iceberg");
}

export async function startLakeTiering(
  c: ServerConfig,
  bootstrap: string,
  logger: Logger,
): Promise<LakeTieringHandle> {
  const [{ connect }, { TieringService }] = await Promise.all([
    import("@fluss-ts/client"),
    import("@fluss-ts/lake"),
  ]);
  const warehouse = lakeWarehouseOf(c);
  const connection = await connect({ bootstrap, clientId: "fluss-lake-tiering" });
  const service = new TieringService({ connection, warehouse, logger });
  service.start();
  logger.info({ warehouse, format: c.datalakeFormat }, "lake tiering service started");
  return {
    warehouse,
    async stop() {
      await service.stop();
      await connection.close();
    },
  };
}
