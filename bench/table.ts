// The one results table the benchmark prints: a row per measured quantity with the Fluss figure,
// the two peers' figures, their ratio, the goal and whether it was met; numbered notes under it.
// Also the number formatting every workload uses, so cells look alike.

export interface ResultRow {
  workload: string;
  fluss: string;
  redis: string;
  nats: string;
  ratio: string;
  goal: string;
  /** true = goal met, false = missed, null = no goal or not measured. */
  met: boolean | null;
  /** Raw numbers for results.json. */
  raw?: unknown;
}

export const HEADERS = {
  workload: "workload",
  fluss: "fluss-ts",
  redis: "peer (Redis)",
  nats: "peer (NATS JetStream)",
  ratio: "ratio",
  goal: "goal",
  met: "met",
} as const;

const COLUMNS = ["workload", "fluss", "redis", "nats", "ratio", "goal", "met"] as const;

function cell(r: ResultRow, c: (typeof COLUMNS)[number]): string {
  if (c === "met") return r.met === null ? "" : r.met ? "yes" : "NO";
  return r[c];
}

/** Render the table (fixed-width, two spaces between columns) with its notes. */
export function renderTable(rows: readonly ResultRow[], notes: readonly string[]): string {
  const widths = COLUMNS.map((c) => Math.max(HEADERS[c].length, ...rows.map((r) => cell(r, c).length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((s, i) => s.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const out = [line(COLUMNS.map((c) => HEADERS[c])), line(widths.map((w) => "-".repeat(w)))];
  for (const r of rows) out.push(line(COLUMNS.map((c) => cell(r, c))));
  if (notes.length > 0) {
    out.push("");
    notes.forEach((n, i) => {
      out.push(`[${i + 1}] ${n}`);
    });
  }
  return out.join("\n");
}

/** 1234567 -> "1.23M", 45678 -> "45.7k". */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return "-";
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}

export function fmtMBps(bytesPerSec: number): string {
  return `${(bytesPerSec / 1e6).toFixed(bytesPerSec >= 1e8 ? 0 : 1)} MB/s`;
}

export function fmtRate(rowsPerSec: number, bytesPerSec?: number): string {
  return bytesPerSec === undefined
    ? fmtCount(rowsPerSec)
    : `${fmtCount(rowsPerSec)} (${fmtMBps(bytesPerSec)})`;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

/** "3.20 / 26.9 ms". */
export function fmtMsPair(a: number, b: number): string {
  return `${fmtMs(a).replace(" ms", "")} / ${fmtMs(b)}`;
}

export function fmtBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MiB`;
  return `${(n / 1024).toFixed(0)} KiB`;
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) && x > 0 ? `${x.toFixed(x >= 10 ? 1 : 2)}x` : "-";
}

/** Quantile (0..1) of an ascending-sorted array. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}
