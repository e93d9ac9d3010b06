// The fault injector: from a seed (pure-rand's xoroshiro128+), a sequence of fault episodes against
// the cluster's processes, started every FAULT_GAP_MS apart, overlapping: kill -9 of a tablet server
// (started again after a while), a clean stop (SIGTERM: controlled shutdown) and restart, a pause
// (SIGSTOP, sometimes longer than the ZooKeeper session) and resume, an expired ZooKeeper session
// of a tablet server, kill -9 and restart of the active coordinator (the standby takes over), an
// expired session of the active coordinator (it gives up its win and exits; started again).
// The seed fixes which faults, on which servers (by role: "the active coordinator"), with which
// delays, in which order; real time decides the interleavings with the load, so a replay
// (FLUSS_FAULT_SEED) repeats the schedule, not every byte.
// Invariants: at most `tabletFaultsMax` tablet servers and one coordinator are under a fault at
// once; no episode starts after `faultsMax` episodes or `durationMs`; `run()` resolves once every
// episode has ended (its server serving again), so the cluster is whole afterwards.

import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { FaultCluster, Role } from "./processes.ts";

export type FaultKind =
  | "kill-tablet"
  | "stop-tablet"
  | "pause-tablet"
  | "expire-tablet-session"
  | "kill-coordinator"
  | "expire-coordinator-session";

const KINDS: readonly FaultKind[] = [
  "kill-tablet",
  "kill-tablet",
  "stop-tablet",
  "pause-tablet",
  "pause-tablet",
  "expire-tablet-session",
  "expire-tablet-session",
  "kill-coordinator",
  "expire-coordinator-session",
];
const FAULT_GAP_MS: readonly [number, number] = [250, 1_000];
const DOWN_MS: readonly [number, number] = [200, 4_000];
const PAUSE_MS: readonly [number, number] = [300, 5_000];
const LOG_LINES_MAX = 2_000;

export class Rng {
  private readonly g: ReturnType<typeof xoroshiro128plus>;

  constructor(seed: number) {
    this.g = xoroshiro128plus(seed);
  }

  int(min: number, max: number): number {
    return uniformInt(this.g, min, max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
}

export interface NemesisOptions {
  readonly seed: number;
  readonly faultsMax: number;
  readonly durationMs: number;
  readonly tabletFaultsMax: number;
  /** The active coordinator now (null when it cannot be told). */
  readonly activeCoordinator: () => Promise<Role | null>;
}

export class Nemesis {
  readonly counts = new Map<FaultKind, number>();
  /** What was done when (ms since the start), for a failing run's report. */
  readonly log: string[] = [];
  private readonly cluster: FaultCluster;
  private readonly o: NemesisOptions;
  private readonly rng: Rng;
  private readonly busy = new Set<Role>();
  private readonly episodes = new Set<Promise<void>>();
  private readonly errors: unknown[] = [];
  private startMs = 0;

  constructor(cluster: FaultCluster, o: NemesisOptions) {
    this.cluster = cluster;
    this.o = o;
    this.rng = new Rng(o.seed);
  }

  get injected(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  private note(line: string): void {
    if (this.log.length < LOG_LINES_MAX) this.log.push(`${Date.now() - this.startMs} ms: ${line}`);
  }

  private sleep(range: readonly [number, number]): Promise<void> {
    const ms = this.rng.int(range[0], range[1]);
    return new Promise((r) => setTimeout(r, ms));
  }

  /** Inject faults until the budget is spent, then wait for every episode to end. */
  async run(): Promise<void> {
    this.startMs = Date.now();
    const deadline = this.startMs + this.o.durationMs;
    while (this.injected < this.o.faultsMax && Date.now() < deadline) {
      await this.sleep(FAULT_GAP_MS);
      const kind = this.rng.pick(KINDS);
      const target = await this.target(kind);
      if (target === null) continue;
      this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
      this.busy.add(target);
      const episode = this.episode(kind, target)
        .catch((err: unknown) => {
          this.errors.push(err);
          this.note(`${kind} ${target.name} failed: ${(err as Error).message}`);
        })
        .finally(() => {
          this.busy.delete(target);
          this.episodes.delete(episode);
        });
      this.episodes.add(episode);
    }
    await Promise.all([...this.episodes]);
    if (this.errors.length > 0) throw this.errors[0];
  }

  private async target(kind: FaultKind): Promise<Role | null> {
    if (kind === "kill-coordinator" || kind === "expire-coordinator-session") {
      if (this.cluster.coordinators.some((c) => this.busy.has(c))) return null;
      const active = await this.o.activeCoordinator();
      return active ?? this.rng.pick(this.cluster.coordinators);
    }
    const tabletsBusy = this.cluster.tablets.filter((t) => this.busy.has(t)).length;
    if (tabletsBusy >= this.o.tabletFaultsMax) return null;
    const free = this.cluster.tablets.filter((t) => !this.busy.has(t));
    return free.length === 0 ? null : this.rng.pick(free);
  }

  private async episode(kind: FaultKind, r: Role): Promise<void> {
    this.note(`${kind} ${r.name} (pid ${r.pid ?? "-"})`);
    switch (kind) {
      case "kill-tablet":
      case "kill-coordinator":
        await r.kill();
        await this.sleep(DOWN_MS);
        await r.start();
        break;
      case "stop-tablet":
        await r.stop();
        await this.sleep(DOWN_MS);
        await r.start();
        break;
      case "pause-tablet":
        r.pause();
        await this.sleep(PAUSE_MS);
        r.resume();
        break;
      case "expire-tablet-session":
        await r.proxy.expire();
        break;
      case "expire-coordinator-session":
        if (await r.proxy.expire()) {
          // It gives up its win and exits (after a session timeout at most); then it stands again.
          await Promise.race([r.waitExit(), new Promise((res) => setTimeout(res, 8_000))]);
        }
        if (!r.up) await r.start();
        break;
    }
    this.note(`${kind} ${r.name} over`);
  }
}
