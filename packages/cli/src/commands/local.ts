// `fluss local`: an embedded cluster (coordinator + tablet servers, local metadata, no ZooKeeper)
// in this process. Prints where to connect and where the data lives; Ctrl-C stops it cleanly.
// Logs (pino JSON lines) go to stderr at warn unless --log-level / --log-file say otherwise; the
// lines logged while the cluster starts are held until the banner is printed, so the banner comes
// first (see log-output.ts).

import type { Command } from "commander";
import { collectKeyValue, intArg } from "../context.ts";
import { logDestination } from "../log-output.ts";
import { UsageError } from "../output.ts";

export interface LocalOpts {
  dataDir?: string;
  host?: string;
  port?: number;
  tabletServers?: number;
  config: Record<string, string>;
  logLevel?: string;
  logFile?: string;
}

/** `fluss local` logs at warn unless told otherwise (the server's own default is info). */
export const LOCAL_LOG_LEVEL_DEFAULT = "warn";

export function registerLocal(program: Command): void {
  program
    .command("local")
    .description("start an embedded single-process cluster (coordinator + tablet servers)")
    .option("-d, --data-dir <dir>", "where data lives (default: ~/.fluss-ts/local, env: FLUSS_DATA_DIR)")
    .option("--host <host>", "address to listen on (default: 127.0.0.1)")
    .option(
      "-p, --port <port>",
      "coordinator port; tablet servers use the next ports; 0: any free port (default: 9123)",
      intArg("--port", 0, 65535),
    )
    .option("--tablet-servers <n>", "tablet servers to run (default: 1)", intArg("--tablet-servers", 1, 64))
    .option(
      "-c, --config <key=value>",
      "server option, repeatable (e.g. log.flush.mode=interval)",
      collectKeyValue,
      {},
    )
    .option(
      "--log-level <level>",
      `trace | debug | info | warn | error | silent; info adds start-up details (default: ${LOCAL_LOG_LEVEL_DEFAULT})`,
    )
    .option("--log-file <path>", "append the logs to this file instead of stderr")
    .action(async (opts: LocalOpts) => {
      // Loaded only here: client commands need not load the server and its storage engine.
      const { applyServerOptions, createLogger, defaultServerConfig, LocalCluster } = await import(
        "@fluss-ts/server"
      );
      const config = applyServerOptions(defaultServerConfig(), serverOverrides(opts));
      const logs = logDestination(opts.logFile);
      const logger = createLogger(config.logLevel, logs.stream);
      const cluster = await LocalCluster.start({ config, logger }).catch((err: unknown) => {
        logs.release(); // what was logged on the way to the failure
        throw err;
      });
      process.stdout.write(
        [
          "fluss local is running",
          `  bootstrap:      ${cluster.bootstrap}`,
          `  tablet servers: ${cluster.tabletServerAddresses.join(", ")}`,
          `  data directory: ${config.dataDir}`,
          ...(cluster.metricsAddress ? [`  metrics:        http://${cluster.metricsAddress}/metrics`] : []),
          ...(opts.logFile ? [`  logs:           ${opts.logFile}`] : []),
          "Press Ctrl-C to stop.",
          "",
        ].join("\n"),
      );
      logs.release();
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

/**
 * The server options of a `fluss local` command line: `--config` pairs plus what the flags stand
 * for. A flag and a `--config` pair naming the same option with different values is refused, not
 * silently resolved one way.
 */
export function serverOverrides(opts: LocalOpts): Record<string, string> {
  const overrides: Record<string, string> = { ...opts.config };
  const fromFlag = (flag: string, key: string, value: string | undefined): void => {
    if (value === undefined) return;
    const given = opts.config[key];
    if (given !== undefined && given !== value) {
      throw new UsageError(
        `${flag} sets ${key}=${value}, which conflicts with --config ${key}=${given}; give only one of them`,
      );
    }
    overrides[key] = value;
  };
  fromFlag("--data-dir", "data.dir", opts.dataDir);
  fromFlag("--host", "bind.host", opts.host);
  if (opts.port !== undefined) {
    fromFlag("--port", "coordinator.port", String(opts.port));
    fromFlag("--port", "tablet-server.port", String(opts.port === 0 ? 0 : opts.port + 1));
  }
  fromFlag("--tablet-servers", "tablet-server.count", opts.tabletServers?.toString());
  fromFlag("--log-level", "log.level", opts.logLevel);
  if (overrides["log.level"] === undefined) overrides["log.level"] = LOCAL_LOG_LEVEL_DEFAULT;
  return overrides;
}
