// `fluss partition add|drop|list` for partitioned tables.

import type { PartitionSpec } from "@fluss-ts/common";
import type { Command } from "commander";
import { tablePathArg, withConnection } from "../context.ts";
import { jsonStringify, UsageError, writeLine } from "../output.ts";

/** `dt=20261126,region=EU` → { dt: "20261126", region: "EU" } */
export function parseSpec(text: string): PartitionSpec {
  const spec: Record<string, string> = {};
  for (const part of text.split(",")) {
    const i = part.indexOf("=");
    if (i <= 0) throw new UsageError(`a partition is written key=value[,key=value...], got '${text}'`);
    spec[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return spec;
}

/** True when the text reads as a partition spec rather than a predicate. */
export function looksLikeSpec(text: string): boolean {
  return /^\s*[A-Za-z_][\w]*\s*=\s*[^=<>!'"\s,()]+\s*(,\s*[A-Za-z_][\w]*\s*=\s*[^=<>!'"\s,()]+\s*)*$/.test(
    text,
  );
}

export function registerPartition(program: Command): void {
  const p = program.command("partition").description("add, drop and list partitions of a partitioned table");
  p.command("add <table> <spec>")
    .description("create a partition, e.g. fluss partition add db.events dt=20261126")
    .option("--if-not-exists", "do nothing when it already exists")
    .action(async (name: string, specText: string, opts: { ifNotExists?: boolean }, cmd: Command) => {
      const path = tablePathArg(name);
      const spec = parseSpec(specText);
      await withConnection(cmd, (conn) =>
        conn.admin.createPartition(path, spec, { ignoreIfExists: opts.ifNotExists }),
      );
      process.stderr.write(`partition ${specText} created\n`);
    });
  p.command("drop <table> <spec>")
    .description("drop a partition and delete its data")
    .option("--if-exists", "do nothing when it does not exist")
    .action(async (name: string, specText: string, opts: { ifExists?: boolean }, cmd: Command) => {
      const path = tablePathArg(name);
      const spec = parseSpec(specText);
      await withConnection(cmd, (conn) =>
        conn.admin.dropPartition(path, spec, { ignoreIfNotExists: opts.ifExists }),
      );
      process.stderr.write(`partition ${specText} dropped\n`);
    });
  p.command("list <table>")
    .description("list a table's partitions (name and id)")
    .option("--json", "print JSON lines")
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const path = tablePathArg(name);
      const parts = await withConnection(cmd, (conn) => conn.admin.listPartitions(path));
      for (const part of parts) {
        await writeLine(
          opts.json ? jsonStringify({ name: part.name, id: part.partitionId, spec: part.spec }) : part.name,
        );
      }
    });
}
