// Disk space held back for metadata writes (a "ballast" file, as CockroachDB keeps one): a file of
// `bytes` written in full, so its blocks are allocated. When a metadata write fails because the
// disk is full, the store deletes this file and tries once more, so the coordinator can still
// record a change on a full disk — above all a drop, which then frees the table's data. The file is
// written again by a later successful write (or the next open) once there is room for it.
// Invariants: `present` is true only after the whole file was written and fdatasync'ed; a failed
// attempt leaves no partial file behind; nothing here ever throws (space is a best effort).

import fs from "node:fs";

export class ReservedSpace {
  readonly file: string;
  readonly bytes: number;
  private present = false;

  constructor(file: string, bytes: number) {
    this.file = file;
    this.bytes = bytes;
  }

  get isPresent(): boolean {
    return this.present;
  }

  /** Make sure the reserve exists (written when missing or short). False when there is no room. */
  ensure(): boolean {
    if (this.bytes === 0 || this.present) return this.present;
    try {
      if (fs.statSync(this.file).size === this.bytes) {
        this.present = true;
        return true;
      }
    } catch {
      // missing: write it below
    }
    const temp = `${this.file}.tmp`;
    try {
      const fd = fs.openSync(temp, "w");
      try {
        const chunk = Buffer.alloc(Math.min(this.bytes, 64 * 1024), 0x52); // "R", never a hole
        for (let done = 0; done < this.bytes; ) {
          done += fs.writeSync(fd, chunk, 0, Math.min(chunk.byteLength, this.bytes - done), done);
        }
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, this.file);
      this.present = true;
    } catch {
      try {
        fs.rmSync(temp, { force: true });
      } catch {
        // a leftover temp file is replaced by the next attempt
      }
    }
    return this.present;
  }

  /** Delete the reserve to give its space back; true when it existed. */
  release(): boolean {
    if (this.bytes === 0) return false;
    try {
      fs.unlinkSync(this.file);
      this.present = false;
      return true;
    } catch {
      this.present = false;
      return false;
    }
  }
}
