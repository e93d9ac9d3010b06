// NATS JetStream as a peer: start Debian's nats-server with JetStream on free loopback ports in a
// temp dir, then the same workloads as Fluss from Node with the @nats-io clients, on a stream with
// file storage: append (async publish with a window of outstanding acks), read back (an ordered
// consumer from the start), and produce-to-consume latency (paced publish, an ordered consumer
// from "new" messages).

import { DeliverPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startFollower } from "../follower.ts";
import { findBinary, freePort, makeTempDir, startChild, WaitAborted, waitFor } from "../proc.ts";
import { eventRow, eventString, nowMicros } from "../rows.ts";
import {
  type LatencyResult,
  latencyResult,
  paced,
  type Skipped,
  type ThroughputResult,
} from "../workload.ts";

export const NATS_INSTALL_HINT =
  "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server nats-server";

/** Publishes whose acks may be outstanding at once. */
const ACK_WINDOW = 1000;

export interface NatsPeer {
  port: number;
  nc: NatsConnection;
  stop(): Promise<void>;
}

export async function startNats(): Promise<NatsPeer | Skipped> {
  const bin = findBinary("nats-server");
  if (!bin) return { skipped: `nats-server not installed (${NATS_INSTALL_HINT})` };
  const dir = makeTempDir("nats");
  const port = await freePort();
  const monitorPort = await freePort();
  const child = startChild(bin, [
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
    "-m",
    String(monitorPort),
    "-js",
    "-sd",
    dir,
  ]);
  await waitFor("nats-server", async () => {
    if (child.proc.exitCode !== null) throw new WaitAborted(`nats-server exited: ${child.output()}`);
    const r = await fetch(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`);
    return r.ok;
  });
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  return {
    port,
    nc,
    async stop() {
      await nc.close().catch(() => undefined);
      await child.stop();
    },
  };
}

/** (Re)create a file-storage stream `name` on subject `name.rows`. */
async function freshStream(peer: NatsPeer, name: string): Promise<string> {
  const jsm = await jetstreamManager(peer.nc);
  await jsm.streams.delete(name).catch(() => undefined);
  await jsm.streams.add({ name, subjects: [`${name}.rows`], storage: StorageType.File });
  return `${name}.rows`;
}

/**
 * Publish `rows` event rows to a file-storage stream, keeping up to ACK_WINDOW acks outstanding;
 * stops early after `secondsMax` (the result counts the rows actually published).
 */
export async function natsAppend(
  peer: NatsPeer,
  stream: string,
  rows: number,
  secondsMax: number,
): Promise<ThroughputResult> {
  const subject = await freshStream(peer, stream);
  const js = jetstream(peer.nc);
  const enc = new TextEncoder();
  // A ring of outstanding acks: slot i % ACK_WINDOW is awaited before it is reused.
  const ring: Array<Promise<unknown> | undefined> = new Array(ACK_WINDOW);
  let bytes = 0;
  const t0 = performance.now();
  const deadline = t0 + secondsMax * 1000;
  let i = 0;
  for (; i < rows; i++) {
    if ((i & 1023) === 0 && i > 0 && performance.now() > deadline) break;
    const data = enc.encode(eventString(eventRow(i)));
    bytes += data.byteLength;
    const slot = i % ACK_WINDOW;
    if (ring[slot]) await ring[slot];
    ring[slot] = js.publish(subject, data);
  }
  await Promise.all(ring);
  const seconds = (performance.now() - t0) / 1000;
  const jsm = await jetstreamManager(peer.nc);
  const info = await jsm.streams.info(stream);
  if (info.state.messages !== i) {
    throw new Error(`nats stream ${stream} has ${info.state.messages} messages, expected ${i}`);
  }
  return { rows: i, bytes, seconds };
}

/** Read the whole stream back with an ordered consumer. */
export async function natsReadBack(peer: NatsPeer, stream: string, rows: number): Promise<ThroughputResult> {
  const js = jetstream(peer.nc);
  const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  let n = 0;
  let bytes = 0;
  const t0 = performance.now();
  const msgs = await consumer.consume({ max_messages: 10_000 });
  for await (const m of msgs) {
    n++;
    bytes += m.data.byteLength;
    if (n >= rows) break;
  }
  await msgs.close();
  return { rows: n, bytes, seconds: (performance.now() - t0) / 1000 };
}

/** Paced publish at `rate` rows/s for `seconds`; a follower thread (ordered consumer) measures latency. */
export async function natsLatency(
  peer: NatsPeer,
  stream: string,
  rate: number,
  seconds: number,
  warmupSeconds: number,
): Promise<LatencyResult> {
  const subject = await freshStream(peer, stream);
  const js = jetstream(peer.nc);
  const follower = await startFollower({ system: "nats", port: peer.port, stream });
  follower.begin(nowMicros() + BigInt(Math.round(warmupSeconds * 1e6)));
  const enc = new TextEncoder();
  const outstanding: Promise<unknown>[] = [];
  const run = await paced(rate, seconds, async (count, first) => {
    const ts = nowMicros();
    for (let i = first; i < first + count; i++) {
      outstanding.push(js.publish(subject, enc.encode(eventString(eventRow(i, ts)))));
    }
    if (outstanding.length >= ACK_WINDOW) {
      await Promise.all(outstanding);
      outstanding.length = 0;
    }
  });
  await Promise.all(outstanding);
  const r = await follower.finish(run.produced);
  return latencyResult(rate, run.produced / run.seconds, run.produced, r.seen, r.sorted);
}
