// Honest errors on the wire (issue 11 item 16): a failed assertion in a handler crashes (onFatal)
// instead of being served; client-side kinds (>= 10000) never leave a server; client mistakes log
// at warn, server faults at error.

import { spawn } from "node:child_process";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { AssertionError, assert, Errors, FlussError, isFlussError, isWireCode } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { type ApiDef, ApiKeys } from "../src/api-keys.ts";
import { RpcConnection } from "../src/connection.ts";
import { encodeErrorFrame, encodeServerFailureFrame } from "../src/frame.ts";
import {
  DatabaseExistsResponseSchema,
  FetchLogResponseSchema,
  ListOffsetsResponseSchema,
} from "../src/gen/fluss/api_pb.ts";
import { assertWireCodes, servedErrorOf, servedFlussError } from "../src/wire-errors.ts";
import { recordingLogger, startServer } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const allApis: ApiDef[] = Object.values(ApiKeys);
const clientOnly = Object.values(Errors).filter((k) => k.code >= 10000);

describe("the encoder's guard", () => {
  it("refuses to encode an error frame with a client-side code", () => {
    for (const k of clientOnly) {
      expect(() => encodeErrorFrame(1, { code: k.code, message: "x" })).toThrow(AssertionError);
      expect(() => encodeServerFailureFrame({ code: k.code, message: "x" })).toThrow(AssertionError);
    }
    expect(
      encodeErrorFrame(1, { code: Errors.INVALID_CONFIG_EXCEPTION.code, message: "x" }).byteLength,
    ).toBeGreaterThan(0);
    expect(
      encodeErrorFrame(1, { code: Errors.UNKNOWN_SERVER_ERROR.code, message: undefined }).byteLength,
    ).toBeGreaterThan(0);
  });

  it("refuses a response whose per-bucket error_code is a client-side code", () => {
    const fetch = create(FetchLogResponseSchema, {
      tablesResp: [{ tableId: 1n, bucketsResp: [{ bucketId: 0 }, { bucketId: 1, errorCode: 10001 }] }],
    });
    expect(() => assertWireCodes(FetchLogResponseSchema, fetch)).toThrow(
      /tablesResp\[\]\.bucketsResp\[\]\.errorCode 10001/,
    );
    fetch.tablesResp[0]!.bucketsResp[1]!.errorCode = Errors.INVALID_SCAN_REQUEST.code;
    expect(() => assertWireCodes(FetchLogResponseSchema, fetch)).not.toThrow();
    const offsets = create(ListOffsetsResponseSchema, { bucketsResp: [{ bucketId: 0, errorCode: 10005 }] });
    expect(() => assertWireCodes(ListOffsetsResponseSchema, offsets)).toThrow(AssertionError);
    expect(() =>
      assertWireCodes(DatabaseExistsResponseSchema, create(DatabaseExistsResponseSchema)),
    ).not.toThrow();
  });
});

describe("servedErrorOf", () => {
  it("maps every kind, thrown by any API handler, to a Fluss wire code", () => {
    for (const api of allApis) {
      for (const k of Object.values(Errors)) {
        const served = servedErrorOf(new FlussError(k, "m"), api);
        expect(isWireCode(served.kind.code), `${k.name} on ${api.name}`).toBe(true);
        expect(isWireCode(servedFlussError(new FlussError(k, "m"), api).code)).toBe(true);
      }
    }
  });

  it("says the request was invalid with the Fluss kind of the API", () => {
    const invalid = new FlussError(Errors.INVALID_ARGUMENT, "limit must be positive");
    expect(servedErrorOf(invalid, ApiKeys.CREATE_TABLE)).toMatchObject({
      kind: Errors.INVALID_TABLE_EXCEPTION,
      message: "INVALID_ARGUMENT: limit must be positive",
      level: "warn",
    });
    expect(servedErrorOf(invalid, ApiKeys.CREATE_DATABASE).kind).toBe(Errors.INVALID_DATABASE_EXCEPTION);
    expect(servedErrorOf(invalid, ApiKeys.CREATE_PARTITION).kind).toBe(
      Errors.PARTITION_SPEC_INVALID_EXCEPTION,
    );
    expect(servedErrorOf(invalid, ApiKeys.FETCH_LOG).kind).toBe(Errors.INVALID_SCAN_REQUEST);
    expect(servedErrorOf(invalid, ApiKeys.LOOKUP).kind).toBe(Errors.INVALID_CONFIG_EXCEPTION);
    expect(servedErrorOf(new FlussError(Errors.SCHEMA_MISMATCH), ApiKeys.PUT_KV).kind).toBe(
      Errors.INVALID_CONFIG_EXCEPTION,
    );
    expect(servedErrorOf(new FlussError(Errors.PROTOCOL_ERROR), undefined).kind).toBe(Errors.CORRUPT_MESSAGE);
    expect(servedErrorOf(new FlussError(Errors.ABORTED), undefined).kind).toBe(Errors.UNKNOWN_SERVER_ERROR);
  });

  it("keeps wire kinds and logs by who is at fault", () => {
    expect(servedErrorOf(new FlussError(Errors.TABLE_NOT_EXIST), ApiKeys.GET_TABLE_INFO)).toMatchObject({
      kind: Errors.TABLE_NOT_EXIST,
      message: undefined,
      level: "debug",
    });
    expect(servedErrorOf(new FlussError(Errors.NOT_LEADER_OR_FOLLOWER, "moved"), undefined)).toMatchObject({
      message: "moved",
      level: "debug",
    });
    expect(servedErrorOf(new FlussError(Errors.INVALID_REQUIRED_ACKS), undefined).level).toBe("warn");
    expect(servedErrorOf(new FlussError(Errors.LOG_STORAGE_EXCEPTION), undefined).level).toBe("error");
    expect(servedErrorOf(new TypeError("x is undefined"), undefined)).toMatchObject({
      kind: Errors.UNKNOWN_SERVER_ERROR,
      message: "x is undefined",
      level: "error",
    });
  });

  it("throws a failed assertion back instead of mapping it", () => {
    const broken = new AssertionError("offsets only grow");
    expect(() => servedErrorOf(broken, ApiKeys.PRODUCE_LOG)).toThrow(broken);
    expect(() => servedFlussError(broken, ApiKeys.PRODUCE_LOG)).toThrow(broken);
  });
});

async function setup() {
  const logger = recordingLogger();
  const fatal: unknown[] = [];
  const server = await startServer({ logger, onFatal: (err) => fatal.push(err) });
  cleanups.push(() => server.close());
  const connect = async (): Promise<RpcConnection> => {
    const c = await RpcConnection.connect({ host: "127.0.0.1", port: server.address.port });
    cleanups.push(() => c.close());
    return c;
  };
  return { server, logger, fatal, connect };
}

describe("RpcServer and failed assertions", () => {
  it("hands a handler's failed assertion to onFatal and never answers it", async () => {
    const { server, fatal, logger, connect } = await setup();
    server.handle(ApiKeys.DATABASE_EXISTS, (req) => {
      assert(req.databaseName !== "sync", "sync breach");
      return { exists: true };
    });
    server.handle(ApiKeys.LIST_TABLES, async () => {
      await new Promise((r) => setTimeout(r, 1));
      assert(false, "async breach");
      return { tableName: [] };
    });
    for (const [call, text] of [
      (c: RpcConnection) => c.request(ApiKeys.DATABASE_EXISTS, { databaseName: "sync" }),
      (c: RpcConnection) => c.request(ApiKeys.LIST_TABLES, { databaseName: "d" }),
    ].map((f, i) => [f, i === 0 ? "sync breach" : "async breach"] as const)) {
      const c = await connect();
      const err = await call(c).catch((e: unknown) => e);
      // no served error: the connection is dropped (the process would have exited)
      expect(isFlussError(err) && err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
      expect(String(fatal.at(-1))).toContain(text);
    }
    expect(fatal).toHaveLength(2);
    expect(fatal.every((e) => e instanceof AssertionError)).toBe(true);
    expect(logger.entries.some((e) => e.msg.includes("invariant broken"))).toBe(true);
  });

  it("treats a client-side code in a per-bucket result as a broken invariant", async () => {
    const { server, fatal, connect } = await setup();
    server.handle(ApiKeys.LIST_OFFSETS, () => ({ bucketsResp: [{ bucketId: 0, errorCode: 10001 }] }));
    const c = await connect();
    const err = await c
      .request(ApiKeys.LIST_OFFSETS, { followerServerId: -1, offsetType: 0, tableId: 1n, bucketId: [0] })
      .catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
    expect(fatal).toHaveLength(1);
    expect(String(fatal[0])).toMatch(/errorCode 10001 is not a Fluss wire code/);
  });

  it("answers INVALID_ARGUMENT with a Fluss code, logged at warn; an unexpected error at error", async () => {
    const { server, fatal, logger, connect } = await setup();
    server.handle(ApiKeys.CREATE_TABLE, () => {
      throw new FlussError(Errors.INVALID_ARGUMENT, "schema JSON needs 'columns'");
    });
    server.handle(ApiKeys.DATABASE_EXISTS, () => {
      throw new Error("disk on fire");
    });
    const c = await connect();
    const invalid = await c
      .request(ApiKeys.CREATE_TABLE, {
        tablePath: { databaseName: "d", tableName: "t" },
        tableJson: new Uint8Array(0),
        ignoreIfExists: false,
      })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({
      code: Errors.INVALID_TABLE_EXCEPTION.code,
      message: "INVALID_ARGUMENT: schema JSON needs 'columns'",
    });
    const refused = logger.entries.filter((e) => e.msg.includes("INVALID_TABLE_EXCEPTION"));
    expect(refused.map((e) => e.level)).toEqual(["warn"]);
    expect(logger.entries.some((e) => e.level === "error")).toBe(false);
    const unexpected = await c
      .request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" })
      .catch((e: unknown) => e);
    expect(unexpected).toMatchObject({ code: Errors.UNKNOWN_SERVER_ERROR.code, message: "disk on fire" });
    expect(logger.entries.filter((e) => e.level === "error").map((e) => e.msg)).toEqual([
      "request handler failed unexpectedly",
    ]);
    expect(fatal).toHaveLength(0);
    // the connection is fine after both
    server.handle(ApiKeys.LIST_DATABASES, () => ({ databaseName: ["d"] }));
    expect((await c.request(ApiKeys.LIST_DATABASES, {})).databaseName).toEqual(["d"]);
  });

  it("by default exits the process with code 70, the error on stderr, no answer sent", async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "asserting-server.ts")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanups.push(() => child.kill("SIGKILL"));
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once("exit", () => reject(new Error(`child exited early: ${stderr}`)));
    });
    const c = await RpcConnection.connect({ host: "127.0.0.1", port });
    cleanups.push(() => c.close());
    expect((await c.request(ApiKeys.DATABASE_EXISTS, { databaseName: "fine" })).exists).toBe(true);
    const err = await c.request(ApiKeys.DATABASE_EXISTS, { databaseName: "boom" }).catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
    expect(await exited).toBe(70);
    expect(stderr).toContain("assertion failed: a database is never called boom");
  });
});
