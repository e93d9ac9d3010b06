// The benchmark's side of server-probe.ts: ask the Fluss server process for what its event loop and
// garbage collector did since the last ask (SIGUSR2; the probe answers through a file). A workload
// calls `window()` before the part it measures (to start a fresh window) and again after it.

import { existsSync, readFileSync } from "node:fs";
import { sleep } from "./proc.ts";
import type { ProbeWindow } from "./server-probe.ts";

export type { ProbeWindow } from "./server-probe.ts";

const ANSWER_TIMEOUT_MS = 5_000;

export class ServerProbe {
  private readonly pid: number;
  private readonly file: string;
  private seq = 0;

  constructor(pid: number, file: string) {
    this.pid = pid;
    this.file = file;
  }

  /** What the server saw since the last call (or since it started), and a fresh window from now. */
  async window(): Promise<ProbeWindow> {
    const want = this.seq + 1;
    process.kill(this.pid, "SIGUSR2");
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    for (;;) {
      if (existsSync(this.file)) {
        const w = JSON.parse(readFileSync(this.file, "utf8")) as ProbeWindow;
        if (w.seq >= want) {
          this.seq = w.seq;
          return w;
        }
      }
      if (Date.now() > deadline) throw new Error("the server probe did not answer");
      await sleep(5);
    }
  }
}
