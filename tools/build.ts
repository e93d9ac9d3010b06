// `npm run build`: compiles every workspace package to ESM JavaScript with `.d.ts` files and source
// maps (one `tsc -p tsconfig.build.json`, TypeScript 7), then turns each `dist/<dir>/` into an
// installable package: a generated package.json (exports with types + import conditions, files,
// engines, dependencies with sibling versions pinned exactly) and a short README.
// Invariants checked before anything is written out as done:
// - every bare import in the emitted JS and .d.ts of a package is a Node builtin or one of its
//   declared dependencies (so no devDependency is needed at run time);
// - no emitted JS imports a relative `.ts` file (rewriteRelativeImportExtensions did its work).
// The workspace package.json files keep pointing at the TypeScript sources for development (type
// stripping, no build step); `dist/<dir>/` is what `npm pack` / `npm publish` take.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";

export const REPO_ROOT = dirname(import.meta.dirname);
export const DIST = join(REPO_ROOT, "dist");
/** The Node versions the packages support: ZSTD in node:zlib arrived in 22.15 (tested on 22 and 24). */
export const NODE_ENGINES = ">=22.15";

type Deps = Record<string, string>;

interface SourceManifest {
  name: string;
  version: string;
  description?: string;
  license?: string;
  keywords?: string[];
  exports?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Deps;
  optionalDependencies?: Deps;
  peerDependencies?: Deps;
}

export interface Workspace {
  /** Folder under packages/ (and under dist/). */
  readonly dir: string;
  readonly manifest: SourceManifest;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** The workspace packages, in the root package.json's order. */
export function workspaces(): Workspace[] {
  const root = readJson<{ workspaces: string[] }>(join(REPO_ROOT, "package.json"));
  return root.workspaces.map((ws) => ({
    dir: ws.replace(/^packages\//, ""),
    manifest: readJson<SourceManifest>(join(REPO_ROOT, ws, "package.json")),
  }));
}

function fail(message: string): never {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

/** `./src/x.ts` -> `./src/x.js` (and `.d.ts` for types). */
function built(path: string, ext: ".js" | ".d.ts"): string {
  if (!path.endsWith(".ts")) fail(`expected a .ts entry, got ${path}`);
  return path.slice(0, -".ts".length) + ext;
}

function exportsOf(m: SourceManifest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, target] of Object.entries(m.exports ?? {})) {
    if (typeof target !== "string") fail(`${m.name}: exports["${key}"] must be a path to a .ts file`);
    const js = built(target, ".js");
    out[key] = { types: built(target, ".d.ts"), import: js, default: js };
  }
  out["./package.json"] = "./package.json";
  return out;
}

function pinSiblings(deps: Deps | undefined, versions: Map<string, string>): Deps | undefined {
  if (!deps) return undefined;
  const out: Deps = {};
  for (const [name, range] of Object.entries(deps)) out[name] = versions.get(name) ?? range;
  return out;
}

function publishManifest(ws: Workspace, versions: Map<string, string>): Record<string, unknown> {
  const m = ws.manifest;
  const bin = m.bin
    ? Object.fromEntries(Object.entries(m.bin).map(([k, v]) => [k, built(v.replace(/^\.\//, ""), ".js")]))
    : undefined;
  const entry = m.exports?.["."];
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    license: m.license,
    keywords: m.keywords,
    type: "module",
    engines: { node: NODE_ENGINES },
    exports: exportsOf(m),
    main: entry ? built(entry, ".js") : undefined,
    types: entry ? built(entry, ".d.ts") : undefined,
    bin,
    files: bin ? ["src", "bin"] : ["src"],
    dependencies: pinSiblings(m.dependencies, versions),
    optionalDependencies: pinSiblings(m.optionalDependencies, versions),
    peerDependencies: m.peerDependencies,
  };
}

function readme(m: SourceManifest): string {
  return [
    `# ${m.name}`,
    "",
    m.description ?? "",
    "",
    "Part of fluss-ts, an implementation of Apache Fluss (streaming storage for real-time analytics)",
    `in TypeScript on Node.js ${NODE_ENGINES}. ESM only; type declarations included.`,
    "See the fluss-ts README for the SDK quickstart, the `fluss` command and examples.",
    "",
  ].join("\n");
}

function filesUnder(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f));
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\)\s*\()"([^"]+)"/g;

/** The package name a bare specifier loads (`@a/b/c` -> `@a/b`, `x/y` -> `x`), or null. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith(".") || specifier.startsWith("/")) return null;
  if (specifier.startsWith("node:") || builtinModules.includes(specifier)) return null;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Problems in one built package: undeclared imports, relative `.ts` imports left in JS. */
function checkImports(ws: Workspace, out: string): string[] {
  const declared = new Set(
    Object.keys({
      ...ws.manifest.dependencies,
      ...ws.manifest.optionalDependencies,
      ...ws.manifest.peerDependencies,
    }),
  );
  const problems: string[] = [];
  for (const file of [...filesUnder(out, ".js"), ...filesUnder(out, ".d.ts")]) {
    const text = readFileSync(file, "utf8");
    for (const [, spec] of text.matchAll(SPECIFIER)) {
      const pkg = packageOf(spec!);
      if (pkg !== null && pkg !== ws.manifest.name && !declared.has(pkg)) {
        problems.push(
          `${relative(REPO_ROOT, file)} imports ${spec}, not a dependency of ${ws.manifest.name}`,
        );
      }
      if (file.endsWith(".js") && pkg === null && spec!.endsWith(".ts")) {
        problems.push(`${relative(REPO_ROOT, file)} imports ${spec} (a .ts file at run time)`);
      }
    }
  }
  return problems;
}

export function build(): Workspace[] {
  const all = workspaces();
  for (const ws of all) rmSync(join(DIST, ws.dir), { recursive: true, force: true });
  const tsc = spawnSync(join(REPO_ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], {
    cwd: REPO_ROOT,
    stdio: "inherit",
  });
  if (tsc.status !== 0) fail(`tsc exited with ${tsc.status ?? tsc.signal}`);
  const versions = new Map(all.map((ws) => [ws.manifest.name, ws.manifest.version]));
  const problems: string[] = [];
  const packages = all.filter((ws) => existsSync(join(DIST, ws.dir)));
  for (const ws of packages) {
    const out = join(DIST, ws.dir);
    for (const target of Object.values(ws.manifest.exports ?? {})) {
      if (!existsSync(join(out, built(target, ".js")))) problems.push(`${ws.manifest.name}: no ${target}`);
    }
    problems.push(...checkImports(ws, out));
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "package.json"), `${JSON.stringify(publishManifest(ws, versions), null, 2)}\n`);
    writeFileSync(join(out, "README.md"), readme(ws.manifest));
  }
  if (problems.length > 0) fail(`imports that would break an installed package:\n  ${problems.join("\n  ")}`);
  return packages;
}

if (import.meta.main) {
  const packages = build();
  process.stdout.write(`built ${packages.map((ws) => `${ws.manifest.name} (dist/${ws.dir})`).join(", ")}\n`);
}
