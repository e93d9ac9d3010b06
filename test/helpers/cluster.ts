// Test helper: an embedded cluster on free ports in a fresh temp directory, plus a connected
// client. `stop()` closes both and removes the directory.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type FlussConnection } from "@fluss-ts/client";
import type { Clock } from "@fluss-ts/common";
import { applyServerOptions, defaultServerConfig, LocalCluster, silentLogger } from "@fluss-ts/server";

export interface TestCluster {
  cluster: LocalCluster;
  conn: FlussConnection;
  dataDir: string;
  bootstrap: string;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startCluster(
  options: Record<string, string> = {},
  dataDir?: string,
  clock?: Clock,
): Promise<TestCluster> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "fluss-test-")));
  const config = applyServerOptions(defaultServerConfig(), {
    "data.dir": dir,
    "coordinator.port": "0",
    "tablet-server.port": "0",
    ...options,
  });
  const cluster = await LocalCluster.start({ config, logger: silentLogger, ...(clock ? { clock } : {}) });
  const conn = await connect({ bootstrap: cluster.bootstrap });
  return {
    cluster,
    conn,
    dataDir: dir,
    bootstrap: cluster.bootstrap,
    async stop(opts = {}) {
      await conn.close();
      await cluster.stop();
      if (!opts.keepData) await rm(dir, { recursive: true, force: true });
    },
  };
}
