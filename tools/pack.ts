// `npm run pack`: builds every package (tools/build.ts) and packs each `dist/<dir>/` with `npm pack`
// into `dist/packs/` — the tarballs `npm publish` would upload, and what the pack test installs.
// Prints one tarball path per line (and returns them): `npm install -g dist/packs/*.tgz` installs
// the `fluss` command; common, rpc and client are the SDK.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build, DIST, REPO_ROOT } from "./build.ts";

export const PACKS = join(DIST, "packs");

interface PackResult {
  name: string;
  filename: string;
}

export interface Packed {
  readonly name: string;
  /** Absolute path of the tarball. */
  readonly tarball: string;
  /** The package.json inside it. */
  readonly manifest: string;
}

/** Builds and packs every package, in dependency order (the workspaces' order). */
export function packAll(): Packed[] {
  const packages = build();
  rmSync(PACKS, { recursive: true, force: true });
  mkdirSync(PACKS, { recursive: true });
  const out: Packed[] = [];
  for (const ws of packages) {
    const r = spawnSync(
      "npm",
      ["pack", join(DIST, ws.dir), "--pack-destination", PACKS, "--json", "--ignore-scripts"],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      throw new Error(`npm pack dist/${ws.dir} exited with ${r.status ?? r.signal}`);
    }
    const [result] = JSON.parse(r.stdout) as PackResult[];
    const manifest = readFileSync(join(DIST, ws.dir, "package.json"), "utf8");
    out.push({ name: result!.name, tarball: join(PACKS, result!.filename), manifest });
  }
  return out;
}

if (import.meta.main) {
  for (const p of packAll()) process.stdout.write(`${p.tarball}\n`);
}
