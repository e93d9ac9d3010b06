// A throwaway npm registry for the @fluss-ts scope, serving the tarballs `npm run pack:all` built,
// so the pack test installs them exactly as users would after publishing (`npm install -g
// @fluss-ts/cli`, `npm install @fluss-ts/client`): npm resolves sibling dependencies by name and
// version, checks integrity, and fetches every other package from the usual registry.
// Only what npm install reads is served: the packument (GET /@fluss-ts%2f<name>) and the tarball.
// Bound to 127.0.0.1 on a port the OS picks; a new port per run keeps npm's cache from reusing an
// older packument.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { basename } from "node:path";

interface Published {
  readonly manifest: Record<string, unknown> & { name: string; version: string };
  readonly tarball: Buffer;
  readonly file: string;
}

export interface ScopeRegistry {
  /** e.g. http://127.0.0.1:41234/ — pass as `--@fluss-ts:registry=<url>`. */
  readonly url: string;
  close(): Promise<void>;
}

function manifestOf(tarballPath: string, packageJson: string): Published["manifest"] {
  const m = JSON.parse(packageJson) as Published["manifest"];
  if (typeof m.name !== "string" || typeof m.version !== "string") {
    throw new Error(`${tarballPath}: package.json without name or version`);
  }
  return m;
}

function packument(p: Published, base: string): unknown {
  const integrity = `sha512-${createHash("sha512").update(p.tarball).digest("base64")}`;
  const shasum = createHash("sha1").update(p.tarball).digest("hex");
  const tarball = `${base}${p.manifest.name}/-/${p.file}`;
  return {
    name: p.manifest.name,
    "dist-tags": { latest: p.manifest.version },
    versions: { [p.manifest.version]: { ...p.manifest, dist: { tarball, integrity, shasum } } },
  };
}

/**
 * Serves each tarball under its package name. `manifests` maps a tarball path to its package.json
 * text (the one inside the tarball; the pack step has it at hand).
 */
export async function startScopeRegistry(manifests: ReadonlyMap<string, string>): Promise<ScopeRegistry> {
  const byName = new Map<string, Published>();
  for (const [path, json] of manifests) {
    const manifest = manifestOf(path, json);
    byName.set(manifest.name, { manifest, tarball: readFileSync(path), file: basename(path) });
  }
  let base = "";
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]!).slice(1);
    const tarballAt = path.indexOf("/-/");
    const name = tarballAt >= 0 ? path.slice(0, tarballAt) : path;
    const p = byName.get(name);
    if (!p || req.method !== "GET") {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
    } else if (tarballAt >= 0) {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(p.tarball);
    } else {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(packument(p, base)));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
