// The read buffer pool hands buffers back for reuse, bounded in what it keeps idle.

import { describe, expect, it } from "vitest";
import { ReadBufferPool } from "../src/tablet/read-buffers.ts";

describe("ReadBufferPool", () => {
  it("reuses a released buffer of the same size class", () => {
    const pool = new ReadBufferPool(64 * 1024 * 1024);
    const a = pool.arena();
    const first = a.allocate(100_000);
    expect(first.byteLength).toBe(100_000);
    const backing = first.buffer;
    a.release();
    expect(pool.idleBytes).toBe(128 * 1024);
    const b = pool.arena();
    const second = b.allocate(70_000);
    expect(second.buffer).toBe(backing);
    expect(pool.idleBytes).toBe(0);
    b.release();
  });

  it("keeps at most its limit idle and never pools odd sizes", () => {
    const pool = new ReadBufferPool(256 * 1024);
    const a = pool.arena();
    for (let i = 0; i < 8; i++) a.allocate(100_000);
    a.release();
    expect(pool.idleBytes).toBe(256 * 1024);
    pool.give(Buffer.allocUnsafe(100_000));
    expect(pool.idleBytes).toBe(256 * 1024);
  });
});
