// Test helper: a small RAM file system (tmpfs) of a given size, to meet a really full disk. Needs
// root (or CAP_SYS_ADMIN): where mounting is not permitted `mountTmpfs` returns null and the
// caller skips. `fillDisk` writes a filler file until the file system refuses (ENOSPC);
// `freeDisk` deletes it.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs {
  readonly dir: string;
  /** Unmount and remove the mount point. */
  unmount(): Promise<void>;
}

/** A fresh tmpfs of `sizeBytes`, or null when this process may not mount one. */
export async function mountTmpfs(sizeBytes: number): Promise<Tmpfs | null> {
  if (process.platform !== "linux") return null;
  const dir = await mkdtemp(join(tmpdir(), "fluss-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    await rm(dir, { recursive: true, force: true });
    return null;
  }
  return {
    dir,
    async unmount() {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          execFileSync("umount", attempt < 19 ? [dir] : ["-l", dir], { stdio: "ignore" });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100)); // a file may still be open for a moment
        }
      }
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** Write `file` until the file system is full; returns the bytes written. */
export function fillDisk(file: string): number {
  const fd = fs.openSync(file, "w");
  const chunk = Buffer.alloc(64 * 1024, 0x46);
  let written = 0;
  try {
    for (let size = chunk.byteLength; size >= 1; size = Math.floor(size / 2)) {
      for (;;) {
        try {
          written += fs.writeSync(fd, chunk, 0, size, written);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw err;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

export function freeDisk(file: string): void {
  fs.rmSync(file, { force: true });
}
