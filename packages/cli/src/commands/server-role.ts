// Shared by `fluss coordinator` and `fluss tablet-server`: the options every server role takes in
// Fluss's names (a YAML config file like Fluss's server.yaml, `--config key=value` pairs, and flags
// for the common ones), how they combine (file, then pairs, then flags; a flag contradicting a pair
// is refused), and running a role until SIGINT/SIGTERM stops it cleanly.

import type { Command } from "commander";
import { collectKeyValue } from "../context.ts";
import { UsageError } from "../output.ts";

export interface RoleOpts {
  configFile?: string;
  config: Record<string, string>;
  dataDir?: string;
  bindListeners?: string;
  remoteDataDir?: string;
  zookeeperAddress?: string;
  defaultReplicationFactor?: string;
  logLevel?: string;
}

/** The options both roles take. */
export function roleOptions(cmd: Command): Command {
  return cmd
    .option("--config-file <file>", "YAML file of server options (Fluss's server.yaml keys)")
    .option("-c, --config <key=value>", "server option, repeatable; overrides the file", collectKeyValue, {})
    .option("-d, --data-dir <dir>", "where this server keeps its data (data.dir)")
    .option(
      "--bind-listeners <listeners>",
      "listeners to bind, Fluss syntax: FLUSS://host:port (bind.listeners)",
    )
    .option("--remote-data-dir <dir>", "remote storage of KV snapshots and tiered logs (remote.data.dir)")
    .option("--zookeeper-address <host:port>", "ZooKeeper of the cluster (zookeeper.address)")
    .option(
      "--default-replication-factor <n>",
      "replicas per bucket when a table names none (default.replication.factor)",
    )
    .option("--log-level <level>", "trace | debug | info | warn | error | silent (default info)");
}

/** The `key=value` overrides of a role's command line, on top of its config file's. */
export function roleOverrides(
  opts: RoleOpts,
  fromFile: Record<string, string>,
  flags: ReadonlyArray<readonly [flag: string, key: string, value: string | undefined]> = [],
): Record<string, string> {
  const overrides: Record<string, string> = { ...fromFile, ...opts.config };
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
  fromFlag("--bind-listeners", "bind.listeners", opts.bindListeners);
  fromFlag("--remote-data-dir", "remote.data.dir", opts.remoteDataDir);
  fromFlag("--zookeeper-address", "zookeeper.address", opts.zookeeperAddress);
  fromFlag("--default-replication-factor", "default.replication.factor", opts.defaultReplicationFactor);
  fromFlag("--log-level", "log.level", opts.logLevel);
  for (const [flag, key, value] of flags) fromFlag(flag, key, value);
  return overrides;
}

/** Run a started role until SIGINT/SIGTERM, then stop it (a second signal exits at once). */
export function runUntilSignal(name: string, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: string): void => {
      if (stopping) {
        process.stderr.write("forced exit\n");
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`\n${signal}: stopping ${name}...\n`);
      stop().then(
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
    process.on("SIGINT", () => onSignal("SIGINT"));
    process.on("SIGTERM", () => onSignal("SIGTERM"));
  });
}
