// Remote storage and remote log tiering options: Fluss's names and defaults, validated when
// applied (INVALID_CONFIG_EXCEPTION naming the option), and how a config picks the storage.

import { Errors, FlussError, ManualClock, ManualScheduler } from "@fluss-ts/common";
import { LocalFileStorage, S3Storage } from "@fluss-ts/storage";
import { describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig, validateServerConfig } from "../src/config.ts";
import { silentLogger } from "../src/logging.ts";
import { createRemoteLogManager } from "../src/tablet/remote-log-manager.ts";

function refused(overrides: Record<string, string>, ...mentions: string[]): void {
  let err: unknown = null;
  try {
    applyServerOptions(defaultServerConfig(), overrides);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FlussError);
  expect((err as FlussError).is(Errors.INVALID_CONFIG_EXCEPTION)).toBe(true);
  for (const m of mentions) expect((err as Error).message).toContain(m);
}

describe("remote options", () => {
  it("defaults to Fluss's: a copy every minute, 5 segments a round, local directory storage", () => {
    const c = defaultServerConfig();
    expect(c.remoteLogTaskIntervalMs).toBe(60_000);
    expect(c.remoteLogUploadSegmentsMax).toBe(5);
    expect(c.remoteDataDir).toBeNull();
    expect(c.s3Region).toBe("us-east-1");
  });

  it("accepts paths, file:// and s3:// URIs with their S3 settings; 0 turns tiering off", () => {
    const c = applyServerOptions(defaultServerConfig(), {
      "remote.data.dir": "s3://fluss-data/cluster-1",
      "s3.endpoint": "http://127.0.0.1:9000",
      "s3.region": "eu-west-1",
      "s3.path.style.access": "true",
      "remote.log.task-interval-duration": "0 s",
      "remote.log.task-max-upload-segments": "20",
      "remote.log.read-chunk-size": "1 mb",
    });
    expect(c).toMatchObject({
      remoteDataDir: "s3://fluss-data/cluster-1",
      s3Endpoint: "http://127.0.0.1:9000",
      s3Region: "eu-west-1",
      s3PathStyleAccess: true,
      remoteLogTaskIntervalMs: 0,
      remoteLogUploadSegmentsMax: 20,
      remoteLogReadChunkBytes: 1024 * 1024,
    });
    expect(
      applyServerOptions(defaultServerConfig(), { "remote.data.dir": "file:///tmp/x" }).remoteDataDir,
    ).toBe("file:///tmp/x");
  });

  it("refuses bad values naming the option", () => {
    refused({ "remote.data.dir": "hdfs://nn/x" }, "remote.data.dir", "s3://");
    refused({ "remote.data.dir": "s3://Bad_Bucket/x" }, "remote.data.dir", "bucket");
    refused({ "remote.data.dir": "" }, "remote.data.dir");
    refused({ "remote.log.task-interval-duration": "30 d" }, "remote.log.task-interval-duration");
    refused({ "remote.log.task-max-upload-segments": "0" }, "remote.log.task-max-upload-segments");
    refused({ "remote.log.read-chunk-size": "1 kb" }, "remote.log.read-chunk-size");
    refused({ "s3.endpoint": "127.0.0.1:9000" }, "s3.endpoint", "URL");
    refused({ "s3.path.style.access": "yes" }, "s3.path.style.access");
    const c = { ...defaultServerConfig(), remoteDataDir: "ftp://x" };
    expect(() => validateServerConfig(c)).toThrow(/remote\.data\.dir/);
  });

  it("a config picks its storage: a local directory by default, S3 for s3://; interval 0 opens tablets without a remote log", async () => {
    const scheduler = new ManualScheduler(new ManualClock(0));
    const local = createRemoteLogManager(
      { ...defaultServerConfig(), dataDir: "/tmp/fluss-x" },
      scheduler,
      silentLogger,
    );
    expect(local.storage).toBeInstanceOf(LocalFileStorage);
    expect((local.storage as LocalFileStorage).root).toBe("/tmp/fluss-x/remote");
    expect(local.tabletRemote(1n, "dt=1$x", 2)?.prefix).toBe("log/1/dt%3D1%24x/2/");
    const s3 = createRemoteLogManager(
      applyServerOptions(defaultServerConfig(), {
        "remote.data.dir": "s3://bkt/p",
        "remote.log.task-interval-duration": "0",
      }),
      scheduler,
      silentLogger,
    );
    expect(s3.storage).toBeInstanceOf(S3Storage);
    expect(s3.storage.description).toBe("s3://bkt/p/");
    expect(s3.tabletRemote(1n, null, 0)).toBeUndefined();
    await local.stop();
    await s3.stop();
  });
});
