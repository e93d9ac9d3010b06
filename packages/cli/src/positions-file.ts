// Scan positions in a file, for `fluss consume --from-positions FILE --save-positions FILE`: read
// (a missing file means "no positions yet"), and written atomically — to a temporary file in the
// same directory, fdatasync'ed, renamed over the old one, then the directory synced — so a crash
// at any moment leaves either the old positions or the new ones, never a torn file.
// The saver writes every `intervalMs` while the scan runs (skipping a tick while rows are held
// unprinted, or while a write is still going) and once more at the end; writes never overlap.

import { open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseScanPositions, type ScanPositions } from "@fluss-ts/client";
import { isFlussError } from "@fluss-ts/common";
import { UsageError } from "./output.ts";

/** The positions saved in `file`, or null when there is no such file. */
export async function readPositionsFile(file: string): Promise<ScanPositions | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    return parseScanPositions(JSON.parse(text));
  } catch (err) {
    const why = isFlussError(err) || err instanceof SyntaxError ? err.message : String(err);
    throw new UsageError(`${file}: ${why}`);
  }
}

/** Replace `file` with the positions, atomically and durably. */
export async function writePositionsFile(file: string, positions: ScanPositions): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  const f = await open(tmp, "w", 0o644);
  try {
    await f.writeFile(`${JSON.stringify(positions, null, 2)}\n`);
    await f.datasync();
  } finally {
    await f.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export interface PositionsSource {
  /** Whether positions can be taken now (the scan has started, no row is held unprinted). */
  ready(): boolean;
  positions(): ScanPositions;
}

/** Saves a scan's positions periodically and at the end; one write at a time. */
export class PositionsSaver {
  private readonly file: string;
  private readonly source: PositionsSource;
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;
  private lastSaved = "";

  constructor(file: string, source: PositionsSource, intervalMs: number) {
    this.file = file;
    this.source = source;
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.failure !== undefined || !this.source.ready()) return;
    void this.save().catch((err: unknown) => {
      this.failure = err;
    });
  }

  /** Write the current positions (after any write in progress); skipped when nothing changed. */
  private save(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const p = this.source.positions();
      const text = JSON.stringify(p);
      if (text === this.lastSaved) return;
      await writePositionsFile(this.file, p);
      this.lastSaved = text;
    });
    return this.writing;
  }

  /** Stop the timer and save once more (when the scan started); throws what a periodic save met. */
  async finish(): Promise<void> {
    clearInterval(this.timer);
    if (this.failure !== undefined) throw this.failure;
    if (this.source.ready()) await this.save();
    else await this.writing;
  }
}
