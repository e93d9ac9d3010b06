// `fluss db create|list|drop`.

import type { Command } from "commander";
import { withConnection } from "../context.ts";
import { writeLine } from "../output.ts";

export function registerDb(program: Command): void {
  const db = program.command("db").description("create, list and drop databases");
  db.command("create <name>")
    .description("create a database")
    .option("--if-not-exists", "do nothing when it already exists")
    .action(async (name: string, opts: { ifNotExists?: boolean }, cmd: Command) => {
      await withConnection(cmd, (conn) =>
        conn.admin.createDatabase(name, { ignoreIfExists: opts.ifNotExists }),
      );
      process.stderr.write(`database '${name}' created\n`);
    });
  db.command("list")
    .description("list databases")
    .action(async (_opts: unknown, cmd: Command) => {
      const names = await withConnection(cmd, (conn) => conn.admin.listDatabases());
      for (const n of names) await writeLine(n);
    });
  db.command("drop <name>")
    .description("drop a database")
    .option("--cascade", "also drop its tables")
    .option("--if-exists", "do nothing when it does not exist")
    .action(async (name: string, opts: { cascade?: boolean; ifExists?: boolean }, cmd: Command) => {
      await withConnection(cmd, (conn) =>
        conn.admin.dropDatabase(name, { ignoreIfNotExists: opts.ifExists, cascade: opts.cascade }),
      );
      process.stderr.write(`database '${name}' dropped\n`);
    });
}
