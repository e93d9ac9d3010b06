// `fluss local`: an embedded cluster (coordinator + tablet servers, local metadata, no ZooKeeper)
// in this process. Prints where to connect and where the data lives; Ctrl-C stops it cleanly.

import type { Command } from "commander";
import { collectKeyValue, intArg } from "../context.ts";

interface LocalOpts {
  dataDir?: string;
  host?: string;
  port?: number;
  tabletServers?: number;
  config: Record<string, string>;
  logLevel?: string;
}

export function registerLocal(program: Command): void {
  program
    .command("local")
    .description("start an embedded single-process cluster (coordinator + tablet servers)")
    .option("-d, --data-dir <dir>", "where data lives (default ~/.fluss-ts/local, env FLUSS_DATA_DIR)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option(
      "-p, --port <port>",
      "coordinator port (tablet servers use the next ports)",
      intArg("--port", 0, 65535),
    )
    .option("--tablet-servers <n>", "tablet servers to run", intArg("--tablet-servers", 1, 64))
    .option(
      "-c, --config <key=value>",
      "server option, repeatable (e.g. log.flush.mode=interval)",
      collectKeyValue,
      {},
    )
    .option("--log-level <level>", "trace | debug | info | warn | error | silent", "info")
    .action(async (opts: LocalOpts) => {
      // Loaded only here: client commands need not load the server and its storage engine.
      const { applyServerOptions, createLogger, defaultServerConfig, LocalCluster } = await import(
        "@fluss-ts/server"
      );
      const overrides: Record<string, string> = { ...opts.config };
      if (opts.dataDir) overrides["data.dir"] = opts.dataDir;
      if (opts.host) overrides["bind.host"] = opts.host;
      if (opts.port !== undefined) {
        overrides["coordinator.port"] = String(opts.port);
        overrides["tablet-server.port"] = String(opts.port === 0 ? 0 : opts.port + 1);
      }
      if (opts.tabletServers !== undefined) overrides["tablet-server.count"] = String(opts.tabletServers);
      if (opts.logLevel) overrides["log.level"] = opts.logLevel;
      const config = applyServerOptions(defaultServerConfig(), overrides);
      const logger = createLogger(config.logLevel);
      const cluster = await LocalCluster.start({ config, logger });
      process.stdout.write(
        [
          "fluss local is running",
          `  bootstrap:      ${cluster.bootstrap}`,
          `  tablet servers: ${cluster.tabletServerAddresses.join(", ")}`,
          `  data directory: ${config.dataDir}`,
          ...(cluster.metricsAddress ? [`  metrics:        http://${cluster.metricsAddress}/metrics`] : []),
          "Press Ctrl-C to stop.",
          "",
        ].join("\n"),
      );
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string): void => {
          if (stopping) {
            process.stderr.write("forced exit\n");
            process.exit(130);
          }
          stopping = true;
          process.stderr.write(`\n${signal}: stopping (flushing logs, closing files)...\n`);
          cluster.stop().then(
            () => {
              process.stderr.write("stopped cleanly\n");
              resolve();
            },
            (err: unknown) => {
              process.stderr.write(`stop failed: ${(err as Error).message}\n`);
              process.exitCode = 1;
              resolve();
            },
          );
        };
        process.on("SIGINT", () => stop("SIGINT"));
        process.on("SIGTERM", () => stop("SIGTERM"));
      });
    });
}
