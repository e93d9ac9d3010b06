// The options of server processes in Fluss's names: a YAML config file like Fluss's server.yaml
// (flat or nested keys), bind.listeners in Fluss's listener syntax, coordinator.address, the
// tablet-server id, and the heartbeat/session bounds of a cluster without ZooKeeper.

import { Errors, isFlussError } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig } from "../src/config.ts";
import { parseServerConfigYaml } from "../src/config-file.ts";
import { internalListener, parseListeners } from "../src/listeners.ts";
import { bindAddressOf } from "../src/server-process.ts";

function refused(fn: () => unknown, text: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isFlussError(err) && err.code).toBe(Errors.INVALID_CONFIG_EXCEPTION.code);
    expect((err as Error).message).toMatch(text);
    return;
  }
  throw new Error("not refused");
}

describe("server role options", () => {
  it("reads Fluss's server.yaml shape, flat or nested, into options", () => {
    const text = [
      "bind.listeners: FLUSS://127.0.0.1:9123",
      "data.dir: /tmp/fluss-a",
      "tablet-server.id: 3",
      "default.replication.factor: 1",
      "log:",
      "  flush:",
      "    mode: interval",
    ].join("\n");
    const o = parseServerConfigYaml(text, "server.yaml");
    expect(o).toEqual({
      "bind.listeners": "FLUSS://127.0.0.1:9123",
      "data.dir": "/tmp/fluss-a",
      "tablet-server.id": "3",
      "default.replication.factor": "1",
      "log.flush.mode": "interval",
    });
    const c = applyServerOptions(defaultServerConfig(), o);
    expect([c.tabletServerId, c.logFlushMode, c.dataDir]).toEqual([3, "interval", "/tmp/fluss-a"]);
    expect(bindAddressOf(c, 0)).toEqual({ host: "127.0.0.1", port: 9123 });
  });

  it("refuses lists, duplicate keys, bad YAML and unknown options, naming the file", () => {
    refused(
      () => parseServerConfigYaml("bind.listeners: [a, b]", "s.yaml"),
      /s\.yaml: 'bind\.listeners' is a list/,
    );
    refused(() => parseServerConfigYaml("a: 1\na: 2", "s.yaml"), /s\.yaml/);
    refused(() => parseServerConfigYaml("a: [", "s.yaml"), /s\.yaml/);
    refused(() => parseServerConfigYaml("- a\n- b", "s.yaml"), /s\.yaml/);
    expect(parseServerConfigYaml("", "empty.yaml")).toEqual({});
    refused(
      () => applyServerOptions(defaultServerConfig(), parseServerConfigYaml("no.such.option: 1")),
      /unknown server option 'no\.such\.option'/,
    );
  });

  it("parses listeners and picks the internal one", () => {
    const ls = parseListeners("FLUSS://10.0.0.1:9123, CLIENT://[::1]:9124");
    expect(ls).toEqual([
      { name: "FLUSS", host: "10.0.0.1", port: 9123 },
      { name: "CLIENT", host: "::1", port: 9124 },
    ]);
    expect(internalListener(ls).host).toBe("10.0.0.1");
    expect(internalListener(ls, "client").port).toBe(9124);
    refused(() => parseListeners("10.0.0.1:9123"), /not NAME:\/\/host:port/);
    refused(() => parseListeners("A://h:1,A://h:2"), /given twice/);
    refused(() => parseListeners("A://h:70000"), /not NAME/);
    refused(
      () => applyServerOptions(defaultServerConfig(), { "bind.listeners": "A://h:1,B://h:2" }),
      /no listener named 'FLUSS'/,
    );
  });

  it("checks coordinator.address, tablet-server.id and the session bounds", () => {
    const c = applyServerOptions(defaultServerConfig(), {
      "coordinator.address": "coord.example:9123",
      "tablet-server.heartbeat-interval": "1 s",
      "tablet-server.session-timeout": "5 s",
    });
    expect([c.coordinatorAddress, c.tabletServerHeartbeatIntervalMs, c.tabletServerSessionTimeoutMs]).toEqual(
      ["coord.example:9123", 1000, 5000],
    );
    refused(
      () => applyServerOptions(defaultServerConfig(), { "coordinator.address": "nohost" }),
      /not host:port/,
    );
    refused(
      () => applyServerOptions(defaultServerConfig(), { "tablet-server.id": "-1" }),
      /tablet-server\.id/,
    );
    refused(
      () =>
        applyServerOptions(defaultServerConfig(), {
          "tablet-server.heartbeat-interval": "3 s",
          "tablet-server.session-timeout": "5 s",
        }),
      /shorter than two 'tablet-server\.heartbeat-interval's/,
    );
  });
});
