// RegisterTabletServer (API 9000, private, fluss-ts only): a tablet server's registration and
// heartbeat when the cluster runs without ZooKeeper (heartbeat-registry.ts). Answered once the
// server is a member — for a join, once it was told its replicas — with the heartbeat terms.
//   RegisterTabletServerRequest  { tablet_server: PbServerNode { node_id: int32; host: string;
//                                    port: int32; listeners?: string; rack?: string };
//                                  incarnation: int64 (differs between runs of the server) }
//   RegisterTabletServerResponse { coordinator_epoch: int32; heartbeat_interval_ms: int32;
//                                  session_timeout_ms: int32 }

import { Errors, FlussError } from "@fluss-ts/common";
import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { HeartbeatRegistry } from "../heartbeat-registry.ts";

export function registerTabletServerHandler(
  registry: HeartbeatRegistry,
  coordinatorEpoch: () => number,
): RequestHandler<typeof ApiKeys.REGISTER_TABLET_SERVER> {
  return async (req) => {
    const n = req.tabletServer;
    if (!n || n.nodeId < 0 || n.port <= 0 || n.port > 65535 || n.host === "") {
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        "a tablet server registers with an id >= 0, a host and a port",
      );
    }
    await registry.heartbeat({ id: n.nodeId, host: n.host, port: n.port }, req.incarnation);
    return {
      coordinatorEpoch: coordinatorEpoch(),
      heartbeatIntervalMs: registry.heartbeatIntervalMs,
      sessionTimeoutMs: registry.sessionTimeoutMs,
    };
  };
}
