// kill -9 of a process in the middle of remote tiering (after some of a round's uploads, or at a
// random moment): reopening finds a consistent manifest (it decodes and checks), every
// acknowledged offset is readable from the log start — from remote or local segments — and the
// next round reconciles orphaned uploads and goes on.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { splitBatches, systemClock } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { remoteLogPrefix } from "../src/log/remote-log.ts";
import { LocalFileStorage } from "../src/remote/local-file-storage.ts";
import { removeTempDirs, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

const fixture = fileURLToPath(new URL("./fixtures/tiering-crash-writer.ts", import.meta.url));

/** Run the writer until `killWhen` says so on a line of its output; returns the acknowledged end. */
async function runAndKill(
  dir: string,
  remoteDir: string,
  seed: number,
  killWhen: (line: string, state: { tiered: number; uploads: number }) => boolean,
): Promise<bigint> {
  const child: ChildProcess = spawn(process.execPath, [fixture, dir, remoteDir, String(seed)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let acked = -1n;
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const state = { tiered: 0, uploads: 0 };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`writer did not reach the kill point: ${err}`)), 60_000);
    let buffered = "";
    child.stdout!.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith("ack ")) acked = BigInt(line.slice(4));
        if (line.startsWith("tiered ")) state.tiered++;
        if (line.startsWith("uploaded ")) state.uploads++;
        if (child.exitCode === null && child.signalCode === null && killWhen(line, state)) {
          child.kill("SIGKILL");
          clearTimeout(timer);
          resolve();
          return;
        }
      }
    });
    child.once("exit", (code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`writer exited with ${code}: ${err}`));
    });
  });
  await new Promise((r) => child.once("exit", r));
  return acked + 1n;
}

async function checkAll(dir: string, remoteDir: string, ackedEnd: bigint): Promise<void> {
  const storage = new LocalFileStorage(remoteDir);
  const t = await LogTablet.open({
    dir,
    clock: systemClock,
    config: { segmentBytesMax: 4096, indexIntervalBytes: 256, flush: { mode: "always" } },
    remote: { storage, prefix: remoteLogPrefix(1n, null, 0) },
  });
  t.updateHighWatermark(t.logEndOffset);
  expect(t.logStartOffset).toBe(0n);
  expect(t.logEndOffset).toBeGreaterThanOrEqual(ackedEnd);
  let offset = 0n;
  for (let i = 0; i < 100_000 && offset < t.logEndOffset; i++) {
    const r = await t.read(offset, 3000, t.logEndOffset);
    for (const s of splitBatches(r.records, { verifyCrc: true, allowPartialTail: false })) {
      expect(s.header.baseOffset).toBe(offset); // contiguous from 0: nothing lost
      offset = s.header.baseOffset + BigInt(s.header.lastOffsetDelta) + 1n;
    }
  }
  expect(offset).toBe(t.logEndOffset);
  // The next round reconciles leftovers of the killed one and commits.
  await t.tierToRemote({ localSegmentsRetained: 2, uploadSegmentsMax: 100, ttlMs: 0 });
  const info = t.remoteLogInfo()!;
  const objects = await storage.list(remoteLogPrefix(1n, null, 0));
  expect(objects.length).toBe(1 + 3 * info.segments); // no orphan left
  await t.close();
}

describe("kill -9 during remote tiering", () => {
  it("loses no acknowledged offset and leaves a consistent manifest", { timeout: 180_000 }, async () => {
    const dir = await tempDir();
    const remoteDir = await tempDir("fluss-remote-");
    // 1: killed right after an upload inside a round (before its commit).
    let end = await runAndKill(
      dir,
      remoteDir,
      0,
      (line, s) => s.tiered >= 2 && line.startsWith("uploaded ") && s.uploads % 3 === 2,
    );
    await checkAll(dir, remoteDir, end);
    // 2-4: killed at the next lines of various kinds.
    for (const [seed, after] of [
      [1000, 7],
      [2000, 13],
      [3000, 23],
    ] as const) {
      let n = 0;
      end = await runAndKill(dir, remoteDir, seed, (_line, s) => s.tiered >= 1 && ++n >= after);
      await checkAll(dir, remoteDir, end);
    }
  });
});
