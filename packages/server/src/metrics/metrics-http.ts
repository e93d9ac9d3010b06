// The Prometheus scrape endpoint: GET /metrics on `metrics.port` answers the registry's text
// exposition, GET /health whether the server is serving and registered (health.ts: 200 or 503 with
// a small JSON body); every other path is 404, every other method 405. One small HTTP server per
// process (Fluss's Prometheus reporter; its default port is 9249, fluss-ts's is 0 = off).
// Invariants: a scrape never throws into the server (a failed collect answers 500); close() stops
// accepting and ends idle keep-alive sockets, so it resolves promptly.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Errors, FlussError } from "@fluss-ts/common";
import type { Registry } from "prom-client";
import type { Logger } from "../logging.ts";
import { type HealthCheck, healthAnswer } from "./health.ts";

/** /health of a process that says nothing more: it serves once its endpoint is up. */
const SERVING: HealthCheck = () => ({ role: "server", serving: true, registered: true });

export class MetricsHttpServer {
  readonly host: string;
  readonly port: number;
  private readonly server: Server;

  private constructor(server: Server, host: string, port: number) {
    this.server = server;
    this.host = host;
    this.port = port;
  }

  /** Listen on host:port (port 0 picks a free one) and serve `registry` and `health`. */
  static async start(
    registry: Registry,
    host: string,
    port: number,
    logger: Logger,
    health: HealthCheck = SERVING,
  ): Promise<MetricsHttpServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path !== "/metrics" && path !== "/health") {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /health\n");
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (path === "/health") {
        const a = healthAnswer(health);
        res.writeHead(a.status, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : a.body);
        return;
      }
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        (err: unknown) => {
          logger.error({ err }, "metrics collection failed");
          res.writeHead(500, { "content-type": "text/plain" }).end("metrics collection failed\n");
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => {
        reject(
          err.code === "EADDRINUSE" || err.code === "EADDRNOTAVAIL" || err.code === "EACCES"
            ? new FlussError(
                Errors.INVALID_CONFIG_EXCEPTION,
                `metrics endpoint: cannot listen on ${host}:${port} (${err.code}); pick another metrics.port`,
              )
            : err,
        );
      });
      server.listen({ host, port }, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    logger.info({ address: `${addr.address}:${addr.port}` }, "metrics endpoint listening");
    return new MetricsHttpServer(server, addr.address, addr.port);
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }
}
