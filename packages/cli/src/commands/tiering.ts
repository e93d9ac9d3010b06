// `fluss tiering`: the lake tiering service on its own, as a client of a running cluster (the same
// service `fluss local` runs inside when `datalake.format` is set). It tiers every table with
// `table.datalake.enabled=true` to the Iceberg warehouse, each at least every
// `table.datalake.freshness`; `--once` runs one round per table and exits (status on stdout).

import { connect } from "@fluss-ts/client";
import type { Command } from "commander";
import { bootstrapOf } from "../context.ts";
import { WAREHOUSE_HELP, warehouseOf } from "../lake.ts";
import { jsonStringify, writeLine } from "../output.ts";

interface TieringOpts {
  warehouse?: string;
  once?: boolean;
}

export function registerTiering(program: Command): void {
  program
    .command("tiering")
    .description("run the lake tiering service (tables with table.datalake.enabled=true → Iceberg)")
    .option("-w, --warehouse <dir>", WAREHOUSE_HELP)
    .option("--once", "one round per lake-enabled table, print the results, exit")
    .action(async (opts: TieringOpts, cmd: Command) => {
      const { TieringService } = await import("@fluss-ts/lake");
      const warehouse = warehouseOf(opts.warehouse);
      const connection = await connect({ bootstrap: bootstrapOf(cmd), clientId: "fluss-tiering" });
      const log = (level: string) => (obj: object, msg: string) =>
        process.stderr.write(`${level} ${msg} ${jsonStringify(obj)}\n`);
      const service = new TieringService({
        connection,
        warehouse,
        logger: { info: log("info"), warn: log("warn"), error: log("error") },
      });
      try {
        if (opts.once) {
          for (const s of await service.runOnce()) await writeLine(jsonStringify(s));
          return;
        }
        process.stderr.write(`tiering lake-enabled tables to ${warehouse} (Ctrl-C to stop)\n`);
        service.start();
        await new Promise<void>((resolve) => {
          process.once("SIGINT", () => resolve());
          process.once("SIGTERM", () => resolve());
        });
      } finally {
        await service.stop();
        await connection.close();
      }
    });
}
