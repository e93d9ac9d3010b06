// Bind an RPC server, turning "address in use" into a message that says what to do.

import { Errors, FlussError } from "@fluss-ts/common";
import type { BoundAddress, RpcServer } from "@fluss-ts/rpc";

export async function listenOrExplain(server: RpcServer, what: string): Promise<BoundAddress> {
  try {
    return await server.listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
    if (e.code === "EADDRINUSE") {
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        `${what}: address ${e.address ?? ""}:${e.port ?? ""} is already in use (is another fluss local running? pick another with --port)`,
      );
    }
    if (e.code === "EADDRNOTAVAIL" || e.code === "EACCES") {
      throw new FlussError(Errors.INVALID_CONFIG_EXCEPTION, `${what}: cannot listen: ${e.message}`);
    }
    throw err;
  }
}
