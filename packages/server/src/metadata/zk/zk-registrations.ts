// The JSON of Fluss's ephemeral registration nodes: a tablet server's
// (/tabletservers/ids/<id>: TabletServerRegistration version 4 {version, listeners,
// register_timestamp, rack?}) and a coordinator's address (/coordinators/ids/<id> and
// /coordinators/active: CoordinatorAddress version 2 {version, id, listeners}), with listeners in
// Fluss's `NAME://host:port,...` text.

import { Errors, FlussError } from "@fluss-ts/common";
import type { CoordinatorAddress } from "../coordinator-election.ts";
import { type Endpoint, formatListeners, parseListeners, type TabletServerInfo } from "../server-registry.ts";

function parse(data: Buffer, what: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(data.toString("utf8"));
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new FlussError(Errors.STORAGE_EXCEPTION, `ZooKeeper node of ${what} is not a JSON object`);
}

function endpointsOf(j: Record<string, unknown>): Endpoint[] {
  if (typeof j.listeners === "string") return parseListeners(j.listeners);
  // Version 1 wrote host and port (Fluss's default listener name).
  if (typeof j.host === "string" && typeof j.port === "number") {
    return [{ listener: "FLUSS", host: j.host, port: j.port }];
  }
  return [];
}

export function encodeTabletServer(info: TabletServerInfo, registerTimestamp: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: 4,
      listeners: formatListeners(info.endpoints),
      register_timestamp: registerTimestamp,
      ...(info.rack !== null ? { rack: info.rack } : {}),
    }),
  );
}

export function decodeTabletServer(
  id: number,
  data: Buffer,
): { info: TabletServerInfo; registerTimestamp: number } {
  const j = parse(data, `tablet server ${id}`);
  return {
    info: { id, endpoints: endpointsOf(j), rack: typeof j.rack === "string" ? j.rack : null },
    registerTimestamp: typeof j.register_timestamp === "number" ? j.register_timestamp : 0,
  };
}

export function encodeCoordinator(a: CoordinatorAddress): Buffer {
  return Buffer.from(JSON.stringify({ version: 2, id: a.id, listeners: formatListeners(a.endpoints) }));
}

export function decodeCoordinator(data: Buffer): CoordinatorAddress | null {
  if (data.length === 0) return null; // elected, address not written yet (as Fluss allows)
  const j = parse(data, "coordinator address");
  return { id: String(j.id), endpoints: endpointsOf(j) };
}
