// The `fluss` command: parses the command line (commander), runs one subcommand, maps failures to
// one-line messages and exit codes (see output.ts). Subcommands live one per file in commands/.

import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { registerCluster } from "./commands/cluster.ts";
import { registerConsume } from "./commands/consume.ts";
import { registerCoordinator } from "./commands/coordinator.ts";
import { registerDb } from "./commands/db.ts";
import { registerKv } from "./commands/kv.ts";
import { registerLocal } from "./commands/local.ts";
import { registerPartition } from "./commands/partition.ts";
import { registerProduce } from "./commands/produce.ts";
import { registerTable } from "./commands/table.ts";
import { registerTabletServer } from "./commands/tablet-server.ts";
import { registerTiering } from "./commands/tiering.ts";
import { intArg } from "./context.ts";
import { EXIT_USAGE, reportError } from "./output.ts";

export const DEFAULT_BOOTSTRAP = "localhost:9123";
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The version of this package (package.json sits one level above src/ and dist/ alike). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version?: string;
  };
  return pkg.version ?? "unknown";
}

const ENVIRONMENT_HELP = `
Environment:
  FLUSS_BOOTSTRAP        server to connect to, as --bootstrap (default localhost:9123)
  FLUSS_TIMEOUT_MS       request timeout in ms, as --timeout (default 30000)
  FLUSS_DATA_DIR         fluss local: data directory, as --data-dir (default ~/.fluss-ts/local)
  FLUSS_LAKE_WAREHOUSE   Iceberg warehouse of lake-enabled tables, as --warehouse
  FLUSS_DEBUG            set to 1 to print stack traces with errors

Exit codes: 0 ok, 1 the cluster reported a failure (unknown table, network, timeout),
2 bad input (bad option or value, bad line: its number is named), 3 lookup found no row.`;

export function buildProgram(): Command {
  const program = new Command("fluss")
    .description("fluss-ts: streaming storage for real-time analytics (the Fluss design on Node.js)")
    .version(version(), "-V, --version", "print the version and exit")
    .addOption(
      new Option("-b, --bootstrap <host:port>", "server to connect to")
        .env("FLUSS_BOOTSTRAP")
        .default(DEFAULT_BOOTSTRAP),
    )
    .addOption(
      new Option("-t, --timeout <ms>", "fail a request the cluster does not answer within this time")
        .env("FLUSS_TIMEOUT_MS")
        .default(DEFAULT_TIMEOUT_MS)
        .argParser(intArg("--timeout", 1, 2 ** 31 - 1)),
    )
    .addHelpText("after", ENVIRONMENT_HELP)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerLocal(program);
  registerCoordinator(program);
  registerTabletServer(program);
  registerDb(program);
  registerTable(program);
  registerProduce(program);
  registerConsume(program);
  registerKv(program);
  registerPartition(program);
  registerTiering(program);
  registerCluster(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    return reportError(err);
  }
}

process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  // `fluss consume | head`: the reader went away; stop quietly.
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const code = await main(process.argv.slice(2));
// Every command has finished its work (or `fluss local` has shut down): exit once stdout drains,
// so no idle socket or timer keeps the process alive.
process.stdout.write("", () => process.exit(code));
