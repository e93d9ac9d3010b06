// Summarise V8 CPU profiles (`node --cpu-prof`, `.cpuprofile` files): the functions with the most
// self time, and the most inclusive time (a function counted once per sample however deep it
// recurses), each as a share of the samples. Used to find where a workload's time goes before
// changing anything (`FLUSS_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`).
// `--long-ms M` also lists the event loop's long tasks: runs of busy samples (no idle sample in
// between) longer than M ms, with the frames that took most of each — what event-loop delay is
// made of.
//   node bench/prof-summary.ts <file.cpuprofile>... [--top N] [--filter substring] [--long-ms M]

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function frameName(f: CallFrame): string {
  const file = f.url === "" ? "" : ` ${basename(f.url)}:${f.lineNumber + 1}`;
  return `${f.functionName === "" ? "(anonymous)" : f.functionName}${file}`;
}

interface Summary {
  totalUs: number;
  self: Map<string, number>;
  inclusive: Map<string, number>;
}

function summarise(profile: CpuProfile): Summary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    let id: number | undefined = profile.samples[i]!;
    const leaf = byId.get(id)!;
    const leafName = frameName(leaf.callFrame);
    self.set(leafName, (self.get(leafName) ?? 0) + dt);
    const seen = new Set<string>();
    while (id !== undefined) {
      const name = frameName(byId.get(id)!.callFrame);
      if (!seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
      }
      id = parent.get(id);
    }
  }
  return { totalUs, self, inclusive };
}

function top(map: Map<string, number>, totalUs: number, n: number, filter: string | undefined): string[] {
  return [...map.entries()]
    .filter(([k]) => filter === undefined || k.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, v]) =>
        `${((100 * v) / totalUs).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`,
    );
}

/** Busy stretches longer than `longMs`: duration and their heaviest self frames. */
function longTasks(profile: CpuProfile, longMs: number, frames: number): string[] {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const out: { ms: number; line: string }[] = [];
  let runUs = 0;
  let runSelf = new Map<string, number>();
  const close = (): void => {
    if (runUs / 1000 >= longMs) {
      const heavy = [...runSelf.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, frames)
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`)
        .join("; ");
      out.push({ ms: runUs / 1000, line: `${(runUs / 1000).toFixed(1).padStart(7)} ms  ${heavy}` });
    }
    runUs = 0;
    runSelf = new Map();
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const name = frameName(byId.get(profile.samples[i]!)!.callFrame);
    const dt = profile.timeDeltas[i + 1] ?? 0; // a sample's time runs until the next one
    if (name === "(idle)") {
      close();
      continue;
    }
    runUs += dt;
    runSelf.set(name, (runSelf.get(name) ?? 0) + dt);
  }
  close();
  const total = out.reduce((a, b) => a + b.ms, 0);
  return [
    `${out.length} busy stretches >= ${longMs} ms, ${total.toFixed(0)} ms in all; longest first:`,
    ...out
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 40)
      .map((o) => o.line),
  ];
}

const { values, positionals } = parseArgs({
  options: {
    top: { type: "string", default: "30" },
    filter: { type: "string" },
    "long-ms": { type: "string" },
  },
  allowPositionals: true,
});
const n = Number(values.top);
for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const s = summarise(profile);
  const idle = s.self.get("(idle)") ?? 0;
  process.stdout.write(
    `== ${file}: ${(s.totalUs / 1e6).toFixed(2)} s sampled, ${((100 * idle) / s.totalUs).toFixed(1)}% idle\n`,
  );
  process.stdout.write(`-- self\n${top(s.self, s.totalUs, n, values.filter).join("\n")}\n`);
  process.stdout.write(`-- inclusive\n${top(s.inclusive, s.totalUs, n, values.filter).join("\n")}\n\n`);
  if (values["long-ms"] !== undefined) {
    process.stdout.write(`-- long tasks\n${longTasks(profile, Number(values["long-ms"]), 4).join("\n")}\n\n`);
  }
}
