// The writer's acks (Fluss client.writer.acks): every request carries them; with -1 ("all", the
// default) and 1 `flush` waits for the leader's answer; with 0 it does not, a batch is never
// retried, a retriable error in a late answer is dropped and a non-retriable one fails the writer.

import {
  Errors,
  makeSchema,
  NO_COMPRESSION,
  systemClock,
  systemScheduler,
  type TableInfo,
} from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { resolveWriterOptions, type WriterOptions } from "../src/options.ts";
import { AppendWriter } from "../src/write/append-writer.ts";
import { ArrowPayload, type Row } from "../src/write/arrow-payload.ts";
import type { BucketAck, WriteContext } from "../src/write/write-context.ts";

const schema = makeSchema([{ name: "id", type: "BIGINT NOT NULL" }]);

const info: TableInfo = {
  path: { database: "db", table: "t" },
  tableId: 1n,
  schemaId: 1,
  descriptor: {
    schema,
    partitionKeys: [],
    bucketKeys: [],
    bucketCount: 1,
    properties: {},
    customProperties: {},
  },
  bucketCount: 1,
  createdTime: 0,
  modifiedTime: 0,
};

/** A leader that records each request's acks and answers only when told to. */
class HeldLeader {
  readonly requests: Array<{ acks: number; answer: (errorCode: number) => void }> = [];
  retriableErrors = 0;

  ctx(): WriteContext<Row> {
    return {
      clock: systemClock,
      scheduler: systemScheduler,
      route: () => ({ partitionId: null, bucket: 0 }),
      newPayload: () => new ArrowPayload(schema, 1, NO_COMPRESSION, null),
      leaderKey: () => "leader",
      send: (_leader, acks, batches) => {
        for (const b of batches) expect(b.bytes).toBeDefined();
        return new Promise<BucketAck[]>((resolve) => {
          this.requests.push({
            acks,
            answer: (errorCode) =>
              resolve(
                batches.map((b) => ({
                  partitionId: null,
                  bucketId: b.bucket,
                  errorCode,
                  errorMessage: errorCode === 0 ? "" : "told to fail",
                  baseOffset: errorCode === 0 ? 0n : -1n,
                })),
              ),
          });
        });
      },
      initWriter: async () => 7n,
      onRetriableError: () => {
        this.retriableErrors++;
      },
    };
  }
}

function writer(leader: HeldLeader, opts: WriterOptions): AppendWriter {
  return new AppendWriter(leader.ctx(), info, resolveWriterOptions({ lingerMs: 1, ...opts }));
}

/** Let timers, I/O callbacks and microtasks run for a few event-loop turns. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await turns();
  return done;
}

async function sentOne(leader: HeldLeader): Promise<void> {
  for (let i = 0; i < 1000 && leader.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
  expect(leader.requests.length).toBeGreaterThan(0);
}

describe("writer acks", () => {
  it("sends acks -1 by default and for 'all', and waits for the answer", async () => {
    for (const acks of [undefined, "all", -1] as const) {
      const leader = new HeldLeader();
      const w = writer(leader, acks === undefined ? {} : { acks });
      await w.append({ id: 1n });
      const flushed = w.flush();
      await sentOne(leader);
      expect(leader.requests[0]!.acks).toBe(-1);
      expect(await settled(flushed)).toBe(false);
      leader.requests[0]!.answer(0);
      await flushed;
    }
  });

  it("acks=1 sends 1 and waits for the leader's answer", async () => {
    const leader = new HeldLeader();
    const w = writer(leader, { acks: 1, idempotence: false });
    await w.append({ id: 1n });
    const flushed = w.flush();
    await sentOne(leader);
    expect(leader.requests[0]!.acks).toBe(1);
    expect(await settled(flushed)).toBe(false);
    leader.requests[0]!.answer(0);
    await flushed;
    await w.close();
  });

  it("acks=0 does not wait for the answer; a late retriable error is not retried", async () => {
    const leader = new HeldLeader();
    const w = writer(leader, { acks: 0, idempotence: false });
    await w.append({ id: 1n });
    const flushed = w.flush();
    await sentOne(leader);
    expect(leader.requests[0]!.acks).toBe(0);
    expect(await settled(flushed)).toBe(true); // the leader has not answered
    await flushed;
    leader.requests[0]!.answer(Errors.NOT_LEADER_OR_FOLLOWER.code);
    await turns();
    expect(leader.requests).toHaveLength(1); // not resent
    expect(leader.retriableErrors).toBe(1); // metadata refreshed
    await w.append({ id: 2n });
    await w.flush();
    expect(leader.requests).toHaveLength(2);
    leader.requests[1]!.answer(0);
    await w.close();
  });

  it("acks=0: a non-retriable error in a late answer fails the writer", async () => {
    const leader = new HeldLeader();
    const w = writer(leader, { acks: 0, idempotence: false });
    await w.append({ id: 1n });
    await w.flush();
    await sentOne(leader);
    leader.requests[0]!.answer(Errors.TABLE_NOT_EXIST.code);
    await turns();
    await expect(w.append({ id: 2n })).rejects.toMatchObject({ kind: Errors.TABLE_NOT_EXIST });
  });

  it("refuses acks other than 0, 1, -1, 'all', and acks 0/1 with idempotence", () => {
    expect(() => resolveWriterOptions({ acks: 2 as never })).toThrow(/acks/);
    expect(() => resolveWriterOptions({ acks: 1 })).toThrow(/idempotent/);
    expect(() => resolveWriterOptions({ acks: 0 })).toThrow(/idempotent/);
    expect(resolveWriterOptions({ acks: "all" }).acks).toBe(-1);
    expect(resolveWriterOptions({ acks: 0, idempotence: false }).acks).toBe(0);
  });
});
