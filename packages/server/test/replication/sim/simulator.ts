// One simulated run from a seed (TigerBeetle's VOPR, for Fluss replication): the seed picks the
// cluster (2-5 tablet servers, 1-2 buckets of 2-3 replicas), the timings (session timeout, max lag,
// flush and network delays) and the network's faults (loss, duplication, reordering); then a chaos
// phase injects crashes (kill -9: unflushed data lost), pauses (SIGSTOP), partitions (one node cut
// off, or the servers split in two) and coordinator crashes while idempotent writers write with
// acks=all; then everything heals and the run must converge: every bucket led, every replica in the
// ISR and identical to its leader, high watermarks at the log ends, every write acknowledged.
// The checker (checker.ts) watches the safety invariants throughout; a broken one, a failed
// assertion in the protocol core, or no convergence is a failing run, replayable from its seed.

import { isAssertionError } from "@fluss-ts/common";
import { NO_LEADER, type ServerId } from "../../../src/replication/types.ts";
import { Checker, Violation } from "./checker.ts";
import { CLIENT, COORDINATOR, ZOOKEEPER } from "./messages.ts";
import { Network } from "./network.ts";
import { SimClient } from "./sim-client.ts";
import { SimCoordinator } from "./sim-coordinator.ts";
import { type ServerParams, SimServer } from "./sim-server.ts";
import { type SimVariant, variants } from "./variants.ts";
import { Rng, World } from "./world.ts";

export interface RunOptions {
  readonly variant?: SimVariant;
  /** Keep the last trace lines (printed for a failing seed). */
  readonly traceLines?: number;
  /** Trace every follower action too. */
  readonly verbose?: boolean;
  /** Called at the end of the run with the cluster (debugging). */
  readonly inspect?: (servers: readonly SimServer[], coordinator: SimCoordinator) => void;
}

export interface RunResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure: string | null;
  readonly servers: number;
  readonly buckets: number;
  readonly faults: number;
  readonly acknowledged: number;
  readonly events: number;
  readonly simulatedMs: number;
  readonly checks: number;
  readonly trace: readonly string[];
}

const chaosMsMax = 8_000;
const healMsMax = 30_000;
const eventsMax = 2_000_000;

interface Shape {
  readonly serverIds: ServerId[];
  readonly assignment: Map<number, ServerId[]>;
}

function shape(rng: Rng): Shape {
  const servers = rng.pick([2, 3, 3, 3, 4, 5]);
  const serverIds = Array.from({ length: servers }, (_, i) => i + 1);
  const assignment = new Map<number, ServerId[]>();
  const buckets = rng.int(1, 2);
  for (let b = 0; b < buckets; b++) {
    const rf = Math.min(servers, rng.int(2, 3));
    const first = rng.int(0, servers - 1);
    assignment.set(
      b,
      Array.from({ length: rf }, (_, i) => serverIds[(first + i) % servers]),
    );
  }
  return { serverIds, assignment };
}

export function runSeed(seed: number, options: RunOptions = {}): RunResult {
  const variant = options.variant ?? variants.correct;
  const rng = new Rng(seed);
  const world = new World();
  const traceLines = options.traceLines ?? 0;
  const trace: string[] = [];
  const log = (line: string) => {
    if (traceLines === 0) return;
    trace.push(`${String(world.nowMs).padStart(6)} ${line}`);
    if (trace.length > traceLines) trace.shift();
  };
  const net = new Network(world, rng, {
    lossRate: rng.pick([0, 0, 0.01, 0.05, 0.15]),
    duplicateRate: rng.pick([0, 0.02, 0.1]),
    delayMinMs: 1,
    delayMaxMs: rng.pick([2, 10, 40]),
  });
  const checker = new Checker();
  const { serverIds, assignment } = shape(rng);
  const sessionTimeoutMs = rng.int(400, 2_000);
  const params: ServerParams = {
    maxLagTimeMs: rng.int(500, 4_000),
    minInSyncReplicas: rng.pick([1, 1, 2]),
    fetchBackoffMs: rng.int(20, 200),
    emptyFetchDelayMs: rng.int(20, 100),
    requestTimeoutMs: rng.int(100, 500),
    flushDelayMaxMs: rng.pick([0, 5, 20, 200]),
    heartbeatIntervalMs: Math.max(50, Math.floor(sessionTimeoutMs / 4)),
    fetchBatchesMax: rng.int(1, 8),
  };
  const ctx = { world, rng, net, checker, variant, trace: log, verbose: options.verbose === true };
  const coordinator = new SimCoordinator(world, net, checker, variant, assignment, sessionTimeoutMs, log);
  const servers = serverIds.map((id) => {
    const buckets = [...assignment].filter(([, r]) => r.includes(id)).map(([b]) => b);
    return new SimServer(id, buckets, ctx, params);
  });
  const client = new SimClient(world, rng, net, checker, coordinator, {
    writersPerBucket: rng.int(1, 2),
    recordsPerWriter: rng.int(5, 30),
    requestTimeoutMs: rng.int(300, 1_500),
    staleMetadataRate: rng.pick([0, 0.1, 0.3]),
  });
  let faults = 0;
  const result = (failure: string | null): RunResult => {
    options.inspect?.(servers, coordinator);
    return finish(failure);
  };
  const finish = (failure: string | null): RunResult => ({
    seed,
    ok: failure === null,
    failure,
    servers: serverIds.length,
    buckets: assignment.size,
    faults,
    acknowledged: client.acknowledged,
    events: world.fired,
    simulatedMs: world.nowMs,
    checks: checker.checks,
    trace,
  });
  try {
    coordinator.start(serverIds, rng.int(100, 400), rng.chance(0.5));
    for (const s of servers) s.start();
    client.start();
    const chaosMs = rng.int(2_000, chaosMsMax);
    const injector = new FaultInjector(world, rng, net, servers, coordinator, log);
    injector.schedule(chaosMs, () => faults++);
    if (!world.runUntil(chaosMs, eventsMax)) return result("event budget exhausted in the chaos phase");
    injector.healAll();
    const deadline = world.nowMs + healMsMax;
    while (world.nowMs < deadline) {
      if (!world.runUntil(world.nowMs + 250, eventsMax))
        return result("event budget exhausted while healing");
      if (client.done && converged(coordinator, servers) === null) {
        finalChecks(checker, coordinator, servers);
        return result(null);
      }
    }
    const why = client.done ? converged(coordinator, servers) : `${client.waiting} writes never acknowledged`;
    return result(`no convergence ${healMsMax} ms after healing: ${why}`);
  } catch (err) {
    if (err instanceof Violation) return result(err.message);
    if (isAssertionError(err)) return result(`assertion failed: ${(err as Error).message}`);
    throw err;
  }
}

/** Why the cluster has not converged, or null when it has. */
function converged(coordinator: SimCoordinator, servers: readonly SimServer[]): string | null {
  for (const [bucket, replicas] of coordinator.assignment) {
    const lai = coordinator.records.get(bucket);
    if (lai === undefined || lai.leader === NO_LEADER) return `bucket ${bucket} has no leader`;
    if (lai.isr.length !== replicas.length) return `bucket ${bucket} ISR is [${lai.isr}] of [${replicas}]`;
    const leader = servers[lai.leader - 1].replicas.get(bucket);
    if (leader?.leader == null) return `bucket ${bucket}: server ${lai.leader} does not act as leader`;
    const leo = leader.log.logEndOffset;
    if (leader.log.highWatermark !== leo)
      return `bucket ${bucket}: leader high watermark ${leader.log.highWatermark} < ${leo}`;
    for (const id of replicas) {
      const r = servers[id - 1].replicas.get(bucket);
      if (r === undefined || r.log.logEndOffset !== leo || r.log.highWatermark !== leo) {
        return `bucket ${bucket}: replica on server ${id} at ${r?.log.logEndOffset}/${r?.log.highWatermark}, leader at ${leo}`;
      }
    }
  }
  return null;
}

function finalChecks(checker: Checker, coordinator: SimCoordinator, servers: readonly SimServer[]): void {
  for (const [bucket, replicas] of coordinator.assignment) {
    const leaderId = coordinator.records.get(bucket)?.leader ?? NO_LEADER;
    const leader = servers[leaderId - 1].replicas.get(bucket);
    if (leader === undefined) checker.fail(`bucket ${bucket} has no leader at the end`);
    checker.checkHoldsAcked(bucket, leader.log, `final leader of bucket ${bucket}`);
    for (const id of replicas) {
      const log = servers[id - 1].replicas.get(bucket)?.log;
      const a = log?.batches ?? [];
      const b = leader.log.batches;
      const same =
        a.length === b.length && a.every((x, i) => x.recordId === b[i].recordId && x.base === b[i].base);
      if (!same) checker.fail(`bucket ${bucket}: the log on server ${id} differs from the leader's`);
    }
  }
}

/** Faults during the chaos phase: crashes, pauses, partitions, coordinator crashes. */
class FaultInjector {
  private readonly timers: (() => void)[] = [];
  private readonly world: World;
  private readonly rng: Rng;
  private readonly net: Network;
  private readonly servers: readonly SimServer[];
  private readonly coordinator: SimCoordinator;
  private readonly trace: (s: string) => void;

  constructor(
    world: World,
    rng: Rng,
    net: Network,
    servers: readonly SimServer[],
    coordinator: SimCoordinator,
    trace: (s: string) => void,
  ) {
    this.world = world;
    this.rng = rng;
    this.net = net;
    this.servers = servers;
    this.coordinator = coordinator;
    this.trace = trace;
  }

  schedule(untilMs: number, counted: () => void): void {
    const gapMax = this.rng.pick([300, 800, 2_000]);
    const next = () => {
      if (this.world.nowMs >= untilMs) return;
      this.inject();
      counted();
      this.world.schedule(this.rng.int(50, gapMax), next);
    };
    this.world.schedule(this.rng.int(50, gapMax), next);
  }

  private later(ms: number, heal: () => void): void {
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      heal();
    };
    this.timers.push(once);
    this.world.schedule(ms, once);
  }

  private inject(): void {
    const roll = this.rng.int(0, 99);
    const duration = this.rng.int(100, 3_000);
    const server = this.rng.pick(this.servers);
    if (roll < 30) {
      if (!server.up) return;
      server.crash();
      this.later(duration, () => server.restart());
    } else if (roll < 45) {
      if (!server.up || server.pausedUntil > this.world.nowMs) return;
      server.pausedUntil = this.world.nowMs + duration;
      this.trace(`server ${server.id} paused for ${duration} ms`);
    } else if (roll < 80) {
      this.partition();
      this.later(duration, () => {
        this.net.heal();
        this.trace("network healed");
      });
    } else if (this.coordinator.up) {
      this.coordinator.crash();
      this.later(duration, () => this.coordinator.restart());
    }
  }

  private partition(): void {
    const everyone = [...this.servers.map((s) => s.id), COORDINATOR, ZOOKEEPER, CLIENT];
    if (this.rng.chance(0.5)) {
      const cut = this.rng.pick(everyone);
      const others = everyone.filter((n) => n !== cut && this.rng.chance(0.7));
      this.net.partition([cut], others);
      this.trace(`node ${cut} cut off from [${others}]`);
    } else {
      const side = this.servers.filter(() => this.rng.chance(0.5)).map((s) => s.id);
      const rest = everyone.filter((n) => !side.includes(n) && n !== CLIENT);
      this.net.partition(side, rest);
      this.trace(`servers [${side}] split from [${rest}]`);
    }
  }

  /** End of the chaos phase: every pending heal now, no more loss. */
  healAll(): void {
    for (const heal of this.timers.splice(0)) heal();
    this.net.heal();
    this.net.params = { ...this.net.params, lossRate: 0 };
    for (const s of this.servers) s.pausedUntil = Math.min(s.pausedUntil, this.world.nowMs);
    this.trace("chaos over: everything healed");
  }
}
