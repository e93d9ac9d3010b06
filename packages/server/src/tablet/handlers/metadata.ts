// The metadata and admin reads a tablet server answers for clients, as Fluss's tablet servers do
// (Fluss's Java client asks any server): GetMetadata from this server's cache (metadata-cache.ts)
// when it holds everything asked for, else from the coordinator; the read-only admin APIs, partition
// listing and writer ids forwarded to the active coordinator (Fluss's servers read them from
// ZooKeeper); the file-system token answered here. A forwarded request is answered with the
// coordinator's answer or error (NETWORK_EXCEPTION, retriable, when it cannot be reached).
// Wire shapes: see the coordinator's handler of each API (coordinator/handlers/).

import { type AnyApi, ApiKeys, type ReqOf, type RpcServer } from "@fluss-ts/rpc";
import { getFileSystemSecurityTokenHandler } from "../../coordinator/handlers/get-filesystem-security-token.ts";
import type { CoordinatorLink } from "../coordinator-link.ts";
import type { TabletMetadataCache } from "../metadata-cache.ts";

const FORWARDED = [
  ApiKeys.LIST_DATABASES,
  ApiKeys.DATABASE_EXISTS,
  ApiKeys.GET_DATABASE_INFO,
  ApiKeys.LIST_TABLES,
  ApiKeys.TABLE_EXISTS,
  ApiKeys.GET_TABLE_INFO,
  ApiKeys.GET_TABLE_SCHEMA,
  ApiKeys.LIST_PARTITION_INFOS,
  ApiKeys.INIT_WRITER,
] as const;

function forward<A extends AnyApi>(server: RpcServer, api: A, link: CoordinatorLink): void {
  server.handle(api, (req: ReqOf<A>) => link.request(api, req as never) as never);
}

export function registerMetadataHandlers(
  server: RpcServer,
  cache: TabletMetadataCache,
  link: CoordinatorLink,
): void {
  server.handle(
    ApiKeys.GET_METADATA,
    async (req) => cache.answer(req) ?? link.request(ApiKeys.GET_METADATA, req),
  );
  for (const api of FORWARDED) forward(server, api, link);
  server.handle(ApiKeys.GET_FILESYSTEM_SECURITY_TOKEN, getFileSystemSecurityTokenHandler());
}
