// `fluss coordinator`: the coordinator of a multi-process cluster, in this process. Options in
// Fluss's names from a YAML config file, `--config` pairs and flags (server-role.ts). Prints where
// tablet servers and clients reach it; Ctrl-C stops it cleanly.

import type { Command } from "commander";
import { type RoleOpts, roleOptions, roleOverrides, runUntilSignal } from "./server-role.ts";

export function registerCoordinator(program: Command): void {
  roleOptions(
    program.command("coordinator").description("start the coordinator of a cluster (metadata, leadership)"),
  ).action(async (opts: RoleOpts) => {
    // Loaded only here: client commands need not load the server and its storage engine.
    const server = await import("@fluss-ts/server");
    const fromFile = opts.configFile ? await server.loadServerConfigFile(opts.configFile) : {};
    const config = server.applyServerOptions(server.defaultServerConfig(), roleOverrides(opts, fromFile));
    const logger = server.createLogger(config.logLevel);
    const p = await server.startCoordinatorProcess({
      config,
      logger,
      // ZooKeeper: a coordinator that lost its election win must stop acting at once; its
      // supervisor restarts it and it stands again behind the others.
      onLost: (why) => {
        process.stderr.write(`fluss coordinator: no longer the active coordinator (${why}); exiting\n`);
        process.exit(1);
      },
    });
    process.stdout.write(
      [
        config.zookeeperAddress === null
          ? "fluss coordinator is running"
          : `fluss coordinator is running (ZooKeeper ${config.zookeeperAddress}; serving once elected)`,
        `  address:        ${p.address}`,
        `  data directory: ${config.dataDir}`,
        ...(p.metricsAddress ? [`  metrics:        http://${p.metricsAddress}/metrics`] : []),
        "Press Ctrl-C to stop.",
        "",
      ].join("\n"),
    );
    await runUntilSignal("the coordinator", () => p.stop());
  });
}
