// `fluss cluster status`: the cluster's servers (id, address, alive, leaders, replicas) and its
// buckets (leader, leader epoch, replicas, ISR, state), with the under-replicated and offline
// counts, as the active coordinator records them (GetClusterStatus). Text by default, `--json` for
// scripts; `--problems` lists only offline and under-replicated buckets; `--max-buckets` bounds
// the listing (the counts always cover every bucket).

import type { ClusterBucketStatus, ClusterStatus } from "@fluss-ts/client";
import type { Command } from "commander";
import { intArg, withConnection } from "../context.ts";
import { jsonStringify, writeLine } from "../output.ts";

const BUCKETS_LISTED_DEFAULT = 10_000;

/** Rows of cells as left-aligned columns two spaces apart. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i] ?? 0, r[i]!.length);
  }
  return rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")}`.trimEnd());
}

const ids = (list: readonly number[]): string => (list.length === 0 ? "-" : list.join(","));

function bucketRow(b: ClusterBucketStatus): string[] {
  return [
    b.table,
    b.partition ?? "-",
    String(b.bucket),
    b.leader === null ? "-" : String(b.leader),
    String(b.leaderEpoch),
    ids(b.replicas),
    ids(b.isr),
    b.state,
  ];
}

/** The status as text lines (exported for tests). */
export function statusText(s: ClusterStatus, problemsOnly: boolean): string[] {
  const alive = s.servers.filter((x) => x.alive).length;
  const lines = [
    `Coordinator:  ${s.coordinator ?? "(unknown)"} (epoch ${s.coordinatorEpoch})`,
    `Servers:      ${s.servers.length} (${alive} alive)`,
  ];
  if (s.servers.length > 0) {
    lines.push(
      ...columns([
        ["ID", "ADDRESS", "ALIVE", "LEADERS", "REPLICAS"],
        ...s.servers.map((x) => [
          String(x.id),
          x.address ?? "-",
          x.alive ? "yes" : "no",
          String(x.leaders),
          String(x.replicas),
        ]),
      ]),
    );
  }
  lines.push(`Buckets:      ${s.bucketCount} (${s.underReplicated} under-replicated, ${s.offline} offline)`);
  if (s.buckets.length > 0) {
    lines.push(
      ...columns([
        ["TABLE", "PARTITION", "BUCKET", "LEADER", "EPOCH", "REPLICAS", "ISR", "STATE"],
        ...s.buckets.map(bucketRow),
      ]),
    );
  } else if (problemsOnly && s.bucketCount > 0) {
    lines.push("  every bucket has a live leader and all its replicas in sync");
  }
  if (s.omitted > 0) lines.push(`  ... ${s.omitted} more bucket(s) not listed (--max-buckets)`);
  return lines;
}

export function registerCluster(program: Command): void {
  const cluster = program.command("cluster").description("the cluster's servers and replication state");
  cluster
    .command("status")
    .description(
      "servers (alive or not) and buckets with leader, ISR, under-replicated and offline state, from the active coordinator",
    )
    .option("--json", "print one JSON object")
    .option("--problems", "list only offline and under-replicated buckets")
    .option(
      "--max-buckets <n>",
      "list at most this many buckets (counts still cover all)",
      intArg("--max-buckets", 0, 100_000),
      BUCKETS_LISTED_DEFAULT,
    )
    .action(async (opts: { json?: boolean; problems?: boolean; maxBuckets: number }, cmd: Command) => {
      const problemsOnly = opts.problems === true;
      const s = await withConnection(cmd, (conn) =>
        conn.admin.clusterStatus({ bucketsMax: opts.maxBuckets, problemsOnly }),
      );
      if (opts.json) {
        await writeLine(jsonStringify(s));
        return;
      }
      for (const line of statusText(s, problemsOnly)) await writeLine(line);
    });
}
