// Remote storage in a local directory (the default `remote.data.dir = <data dir>/remote`, or any
// mounted file system): an object is the file `<root>/<key>`.
// Atomicity: an object is written to a temp file beside its target (`.<name>.tmp-<random>`),
// fdatasync'ed, renamed over the target and its directory fsync'ed, so a reader (or a process
// restarted after a crash) sees the old object or the whole new one. Temp files are never listed;
// those a crash left behind are removed by `deletePrefix` with their directory.
// Memory: `putFile`/`getFile` copy file to file (copy_file_range where the kernel has it); ranged
// `get`s read exactly the range asked for.

import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  assertKey,
  assertPrefix,
  assertRange,
  type ByteRange,
  REMOTE_DELETE_PREFIX_MAX,
  REMOTE_LIST_LIMIT_DEFAULT,
  type RemoteObject,
  type RemoteStorage,
  remoteError,
} from "./remote-storage.ts";

const TEMP_MARK = ".tmp-";
/** Directory levels a listing descends at most (keys are a few levels deep). */
const LIST_DEPTH_MAX = 32;

function isTemp(name: string): boolean {
  return name.startsWith(".") && name.includes(TEMP_MARK);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

async function fsyncPath(p: string, flags: string): Promise<void> {
  const h = await fs.promises.open(p, flags);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export class LocalFileStorage implements RemoteStorage {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = this.root;
  }

  /** The file of `key`. */
  pathOf(key: string): string {
    assertKey(key);
    return path.join(this.root, ...key.split("/"));
  }

  private tempBeside(file: string): string {
    return path.join(
      path.dirname(file),
      `.${path.basename(file)}${TEMP_MARK}${randomBytes(6).toString("hex")}`,
    );
  }

  /** Rename the written temp file over `file` and make the rename durable. */
  private async commit(temp: string, file: string): Promise<void> {
    await fsyncPath(temp, "r+");
    await fs.promises.rename(temp, file);
    await fsyncPath(path.dirname(file), "r");
  }

  /**
   * Write `file` through a temp file filled by `fill`. A directory removed meanwhile (an emptied
   * parent deleted by another bucket's delete) is created again once.
   */
  private async writeAtomically(file: string, fill: (temp: string) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const temp = this.tempBeside(file);
      try {
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        await fill(temp);
        await this.commit(temp, file);
        return;
      } catch (err) {
        await fs.promises.rm(temp, { force: true }).catch(() => undefined);
        if (attempt >= 2 || (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.pathOf(key);
    try {
      await this.writeAtomically(file, (temp) => fs.promises.writeFile(temp, bytes));
    } catch (err) {
      throw remoteError("put of", `${this.description}/${key}`, err);
    }
  }

  async putFile(key: string, source: string): Promise<number> {
    const file = this.pathOf(key);
    let size = 0;
    try {
      await this.writeAtomically(file, async (temp) => {
        await fs.promises.copyFile(source, temp);
        size = (await fs.promises.stat(temp)).size;
      });
      return size;
    } catch (err) {
      throw remoteError(`put of ${source} as`, `${this.description}/${key}`, err);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | null> {
    assertRange(range);
    const file = this.pathOf(key);
    let h: fs.promises.FileHandle;
    try {
      h = await fs.promises.open(file, "r");
    } catch (err) {
      if (isMissing(err)) return null;
      throw remoteError("get of", `${this.description}/${key}`, err);
    }
    try {
      const size = (await h.stat()).size;
      const from = Math.min(range?.offset ?? 0, size);
      const length = Math.min(range?.length ?? size, size - from);
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await h.read(buf, done, length - done, from + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? buf : buf.subarray(0, done);
    } catch (err) {
      throw remoteError("get of", `${this.description}/${key}`, err);
    } finally {
      await h.close();
    }
  }

  async getFile(key: string, target: string): Promise<number | null> {
    const file = this.pathOf(key);
    try {
      await fs.promises.copyFile(file, target);
      return (await fs.promises.stat(target)).size;
    } catch (err) {
      if (isMissing(err) && !fs.existsSync(file)) return null;
      throw remoteError(`get into ${target} of`, `${this.description}/${key}`, err);
    }
  }

  async stat(key: string): Promise<RemoteObject | null> {
    try {
      const st = await fs.promises.stat(this.pathOf(key));
      return st.isFile() ? { key, sizeBytes: st.size } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw remoteError("stat of", `${this.description}/${key}`, err);
    }
  }

  async list(prefix: string, limit = REMOTE_LIST_LIMIT_DEFAULT): Promise<RemoteObject[]> {
    // Walk the deepest directory the prefix names fully, then filter by the whole prefix.
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash < 0 ? "" : prefix.slice(0, slash);
    const out: RemoteObject[] = [];
    try {
      await this.walk(dirKey, prefix, out, limit, 0);
    } catch (err) {
      throw remoteError("list of", `${this.description}/${prefix}`, err);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, limit);
  }

  private async walk(
    dirKey: string,
    prefix: string,
    out: RemoteObject[],
    limit: number,
    depth: number,
  ): Promise<void> {
    if (depth > LIST_DEPTH_MAX || out.length >= limit) return;
    const dir = dirKey === "" ? this.root : path.join(this.root, ...dirKey.split("/"));
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (out.length >= limit) return;
      if (isTemp(e.name)) continue;
      const key = dirKey === "" ? e.name : `${dirKey}/${e.name}`;
      if (e.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`))
          await this.walk(key, prefix, out, limit, depth + 1);
      } else if (e.isFile() && key.startsWith(prefix)) {
        const st = await fs.promises.stat(path.join(dir, e.name)).catch((err: unknown) => {
          if (isMissing(err)) return null; // deleted meanwhile
          throw err;
        });
        if (st) out.push({ key, sizeBytes: st.size });
      }
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const file = this.pathOf(key);
      try {
        await fs.promises.rm(file, { force: true });
      } catch (err) {
        throw remoteError("delete of", `${this.description}/${key}`, err);
      }
      await this.removeEmptyParents(path.dirname(file));
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertPrefix(prefix);
    const objects = await this.list(prefix, REMOTE_DELETE_PREFIX_MAX);
    await this.delete(objects.map((o) => o.key));
    if (prefix !== "") {
      // Temp files a crash left behind go with their directory.
      const dir = path.join(this.root, ...prefix.slice(0, -1).split("/"));
      try {
        await fs.promises.rm(dir, { recursive: true, force: true });
      } catch (err) {
        throw remoteError("delete of", `${this.description}/${prefix}`, err);
      }
      await this.removeEmptyParents(path.dirname(dir));
    }
    return objects.length;
  }

  /** Remove `dir` and its parents while empty, up to (not including) the root. */
  private async removeEmptyParents(dir: string): Promise<void> {
    let d = dir;
    for (let i = 0; i < LIST_DEPTH_MAX && d.startsWith(this.root + path.sep); i++) {
      try {
        await fs.promises.rmdir(d);
      } catch {
        return; // not empty, or gone: stop
      }
      d = path.dirname(d);
    }
  }

  async close(): Promise<void> {}
}
