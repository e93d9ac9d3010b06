// `fluss tablet-server`: one tablet server of a multi-process cluster, in this process. It joins
// the coordinator at `coordinator.address` (without ZooKeeper) and hosts the replicas it is told.
// Options in Fluss's names from a YAML config file, `--config` pairs and flags (server-role.ts).

import type { Command } from "commander";
import { type RoleOpts, roleOptions, roleOverrides, runUntilSignal } from "./server-role.ts";

interface TabletServerOpts extends RoleOpts {
  id?: string;
  coordinatorAddress?: string;
}

export function registerTabletServer(program: Command): void {
  roleOptions(
    program
      .command("tablet-server")
      .description("start a tablet server of a cluster (hosts bucket replicas)"),
  )
    .option("--id <id>", "this server's id, unique in the cluster (tablet-server.id)")
    .option(
      "--coordinator-address <host:port>",
      "the coordinator to join, without ZooKeeper (coordinator.address)",
    )
    .action(async (opts: TabletServerOpts) => {
      const server = await import("@fluss-ts/server");
      const fromFile = opts.configFile ? await server.loadServerConfigFile(opts.configFile) : {};
      const overrides = roleOverrides(opts, fromFile, [
        ["--id", "tablet-server.id", opts.id],
        ["--coordinator-address", "coordinator.address", opts.coordinatorAddress],
      ]);
      const config = server.applyServerOptions(server.defaultServerConfig(), overrides);
      const logger = server.createLogger(config.logLevel);
      const p = await server.startTabletServerProcess({ config, logger });
      process.stdout.write(
        [
          `fluss tablet-server ${config.tabletServerId} is running`,
          `  address:        ${p.address}`,
          `  coordinator:    ${config.coordinatorAddress ?? `from ZooKeeper ${config.zookeeperAddress}`}`,
          `  data directory: ${config.dataDir}`,
          ...(p.metricsAddress ? [`  metrics:        http://${p.metricsAddress}/metrics`] : []),
          "Press Ctrl-C to stop.",
          "",
        ].join("\n"),
      );
      await runUntilSignal(`tablet server ${config.tabletServerId}`, () => p.stop());
    });
}
