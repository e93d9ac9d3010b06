// The `fluss` command: parses the command line (commander), runs one subcommand, maps failures to
// one-line messages and exit codes (see output.ts). Subcommands live one per file in commands/.

import { Command, CommanderError } from "commander";
import { registerConsume } from "./commands/consume.ts";
import { registerDb } from "./commands/db.ts";
import { registerKv } from "./commands/kv.ts";
import { registerLocal } from "./commands/local.ts";
import { registerPartition } from "./commands/partition.ts";
import { registerProduce } from "./commands/produce.ts";
import { registerTable } from "./commands/table.ts";
import { registerTiering } from "./commands/tiering.ts";
import { EXIT_USAGE, reportError } from "./output.ts";

export const DEFAULT_BOOTSTRAP = "localhost:9123";

export function buildProgram(): Command {
  const program = new Command("fluss")
    .description("fluss-ts: streaming storage for real-time analytics (the Fluss design on Node.js)")
    .option(
      "-b, --bootstrap <host:port>",
      "server to connect to (env FLUSS_BOOTSTRAP)",
      process.env.FLUSS_BOOTSTRAP ?? DEFAULT_BOOTSTRAP,
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerLocal(program);
  registerDb(program);
  registerTable(program);
  registerProduce(program);
  registerConsume(program);
  registerKv(program);
  registerPartition(program);
  registerTiering(program);
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
