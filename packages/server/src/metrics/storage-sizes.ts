// Bytes a tablet server keeps on its local disk, for /metrics: log bytes (segments, indexes, epoch
// and writer-state files under every `log-<bucket>` directory) and KV bytes (the LMDB store and
// its scratch space under every `kv-<bucket>` directory), found by walking the server's data
// directory (`<data dir>/<db>/<table>-<id>/[<partition>-p<id>/](log|kv)-<bucket>/...`).
// Invariants: a walk visits at most ENTRIES_MAX directory entries (a bigger tree is reported as
// `truncated`, its sizes a lower bound); a result younger than `cacheMs` on the injected clock is
// served again, and at most one walk runs at a time, so scrapes cost O(1) walks per interval; a
// file vanishing mid-walk (retention, a dropped table) is skipped, never an error.

import type { Dirent } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, systemClock } from "@fluss-ts/common";

/** Directory entries one walk visits at most. */
export const ENTRIES_MAX = 200_000;
/** How long a walk's result is served before the next scrape walks again. */
export const SIZES_CACHE_MS = 10_000;

export interface StorageSizes {
  readonly logBytes: number;
  readonly kvBytes: number;
  /** The walk stopped at ENTRIES_MAX: the sizes are a lower bound. */
  readonly truncated: boolean;
}

type Kind = "log" | "kv" | null;

function kindOf(name: string, parent: Kind): Kind {
  if (parent !== null) return parent;
  if (/^log-\d+$/.test(name)) return "log";
  if (/^kv-\d+$/.test(name)) return "kv";
  return null;
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return []; // gone (a dropped table) or not created yet
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await lstat(path)).size;
  } catch {
    return 0;
  }
}

/** Walk `root` once (see the file comment). */
export async function walkStorage(root: string, entriesMax = ENTRIES_MAX): Promise<StorageSizes> {
  let logBytes = 0;
  let kvBytes = 0;
  let visited = 0;
  const stack: { dir: string; kind: Kind }[] = [{ dir: root, kind: null }];
  while (stack.length > 0) {
    const { dir, kind } = stack.pop()!;
    for (const e of await entries(dir)) {
      if (++visited > entriesMax) return { logBytes, kvBytes, truncated: true };
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        stack.push({ dir: path, kind: kindOf(e.name, kind) });
      } else if (e.isFile() && kind !== null) {
        const bytes = await sizeOf(path);
        if (kind === "log") logBytes += bytes;
        else kvBytes += bytes;
      }
    }
  }
  return { logBytes, kvBytes, truncated: false };
}

/** A cached, single-flight walker of one directory. */
export class StorageSizeReader {
  private readonly root: string;
  private readonly clock: Clock;
  private readonly cacheMs: number;
  private last: { atMs: number; sizes: StorageSizes } | null = null;
  private running: Promise<StorageSizes> | null = null;

  constructor(root: string, clock: Clock = systemClock, cacheMs = SIZES_CACHE_MS) {
    this.root = root;
    this.clock = clock;
    this.cacheMs = cacheMs;
  }

  read(): Promise<StorageSizes> {
    const now = this.clock.nowMs();
    if (this.last !== null && now - this.last.atMs < this.cacheMs) return Promise.resolve(this.last.sizes);
    if (this.running !== null) return this.running;
    const run = walkStorage(this.root).then((sizes) => {
      this.last = { atMs: this.clock.nowMs(), sizes };
      return sizes;
    });
    this.running = run;
    void run.finally(() => {
      if (this.running === run) this.running = null;
    });
    return run;
  }
}
